"""End to end: admin reservations (cadre reservation create|delete|list,
scontrol create/show/delete reservation, sbatch --reservation).

Two nodes of 2 cpus. node1 is reserved for an hour from now: jobs run
inside it with --reservation land there, every other job runs on node2
(they have no time limit, so they would still run when it is in force);
the reservation survives a master restart, and deleting it leaves its jobs
waiting with Slurm's reason.
"""

import json
import os
import pwd
import subprocess
import unittest

from harness import CLI_TIMEOUT, Cluster, ClusterTestCase, binary, wait_until

ME = pwd.getpwuid(os.getuid()).pw_name


class Reservations(ClusterTestCase):
    def setUp(self):
        self.c = Cluster(agents=2, cpus=2, gpus=0, config='[scheduler]\ninterval = "1s"\n', name="reservations")
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def nodes_of(self, job):
        return sorted(t["node"] for t in self.c.wait_state(job, "COMPLETED")["tasks"])

    def scontrol(self, *args, check=True):
        env = dict(os.environ, CADRE_MASTER=self.c.endpoint)
        r = subprocess.run([binary("cli/slurm-bin/scontrol")] + list(args), capture_output=True, text=True,
                           timeout=CLI_TIMEOUT, cwd=self.c.tmp, env=env)
        if check:
            self.assertEqual(r.returncode, 0, "scontrol %s: %s" % (args, r.stderr))
        return r

    def test_jobs_inside_run_on_its_nodes_and_others_stay_off(self):
        out = self.c.cli("reservation", "create", "maint", "--nodes", "node1", "--duration", "1:00:00", "--users", ME).stdout
        self.assertIn("Reservation maint created", out)
        listed = json.loads(self.c.cli("reservation", "list", "--json").stdout)["reservations"]
        self.assertEqual([(r["name"], r["nodes"], r["users"]) for r in listed], [("maint", ["node1"], [ME])])
        self.assertEqual(listed[0]["end"] - listed[0]["start"], 3600)

        inside = self.c.submit("true", "--reservation", "maint", "--time", "10")
        self.assertEqual(self.nodes_of(inside), ["node1"])
        self.assertIn("Reservation=maint", self.c.cli("show", str(inside)).stdout)
        for _ in range(3):
            self.assertEqual(self.nodes_of(self.c.submit("true")), ["node2"], "node1 is reserved")
        # One that ends long before... there is no before: the window is open now.
        r = self.c.cli("submit", "--reservation", "maint", "--time", "2:00:00", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("left from its start", r.stderr)
        r = self.c.cli("submit", "--reservation", "nope", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no reservation 'nope'", r.stderr)

        # It is stored: a restarted master still keeps node1 aside.
        self.c.restart_master()
        self.assertEqual([r["name"] for r in json.loads(self.c.cli("reservation", "list", "--json").stdout)
                          ["reservations"]], ["maint"])
        self.assertEqual(self.nodes_of(self.c.submit("true")), ["node2"])

        # Deleted: its jobs wait with Slurm's reason, others may use node1 again.
        held = self.c.submit("true", "--reservation", "maint", "--time", "10", "--hold")
        self.c.cli("reservation", "delete", "maint")
        self.c.cli("release", str(held))
        wait_until(lambda: self.c.show(held)["reason"] == "ReservationDeleted" or None, 30,
                   "the job of a deleted reservation to say so")
        self.assertIn("No reservations", self.c.cli("reservation", "list").stdout)
        r = self.c.cli("reservation", "delete", "maint", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no reservation maint", r.stderr)

    def test_scontrol_creates_shows_and_deletes_them_and_node_counts_pick_free_nodes(self):
        self.scontrol("create", "reservation", "ReservationName=course", "NodeCnt=1", "StartTime=now+1hour",
                      "Duration=120", "Accounts=teaching")
        shown = self.scontrol("show", "reservation").stdout
        self.assertIn("course", shown)
        res = json.loads(self.c.cli("reservation", "list", "--json").stdout)["reservations"][0]
        self.assertEqual(res["end"] - res["start"], 7200, "Duration=120 is minutes, as scontrol reads it")
        self.assertEqual(len(res["nodes"]), 1)
        # A job that ends before it opens may use its node; both nodes serve.
        r = self.c.cli("reservation", "create", "again", "--node-count", "2", "--start", "now+1hour",
                       "--duration", "1:00:00", "--users", ME, check=False)
        self.assertEqual(r.returncode, 1, "only one node is free of reservations then")
        self.assertIn("asked for 2", r.stderr)
        r = self.c.cli("reservation", "create", "nobody", "--nodes", "node2", "--duration", "1:00:00", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--users or --accounts", r.stderr)
        self.scontrol("delete", "ReservationName=course")
        self.assertEqual(json.loads(self.c.cli("reservation", "list", "--json").stdout)["reservations"], [])
        r = self.scontrol("create", "reservation", "ReservationName=x", "Flags=MAINT", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cadre does not take Flags", r.stderr)


if __name__ == "__main__":
    unittest.main()
