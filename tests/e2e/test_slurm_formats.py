"""End to end: Slurm's listing formats. squeue's -o/-O/--start/-h and
SQUEUE_FORMAT on `cadre queue` and the squeue front end; sinfo's default
layout, -o, -N, -p and -h, and `cadre nodes -o` / `cadre partitions -o`,
against a real cluster."""

import json
import os
import subprocess

from harness import CLI_TIMEOUT, ClusterTestCase, binary


class SlurmFormats(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def front(self, name, *args, check=True, env=None):
        full_env = dict(os.environ, CADRE_MASTER=self.c.endpoint)
        for var in ("SQUEUE_FORMAT", "SQUEUE_FORMAT2", "SINFO_FORMAT"):
            full_env.pop(var, None)
        full_env.update(env or {})
        r = subprocess.run([binary("cli/slurm-bin/" + name)] + list(args), capture_output=True, text=True,
                           timeout=CLI_TIMEOUT, cwd=self.c.tmp, env=full_env)
        if check:
            self.assertEqual(r.returncode, 0, "%s %s: %s" % (name, args, r.stderr))
        return r

    def lines(self, r):
        return r.stdout.splitlines()

    def start_jobs(self):
        """A running job and a held (pending) one; returns their ids."""
        running = self.c.submit("sleep 300", "--job-name", "runner")
        held = self.c.submit("true", "--hold", "--job-name", "waiter")
        self.c.wait_state(running, "RUNNING")
        return running, held

    def test_squeue_formats(self):
        running, held = self.start_jobs()
        where = self.c.show(running)["nodes"][0]

        # squeue -h -o %i: one id a line, no header; cadre queue the same.
        self.assertEqual(sorted(self.lines(self.front("squeue", "-h", "-o", "%i"))), sorted([str(running), str(held)]))
        self.assertEqual(sorted(self.lines(self.c.cli("queue", "-h", "-o%i"))), sorted([str(running), str(held)]))
        self.assertEqual(self.lines(self.front("squeue", "-j", str(running), "-h", "-o", "%T")), ["RUNNING"])

        # Sizes, right-justification and %R (nodes, or the reason in parentheses).
        out = self.lines(self.front("squeue", "-o", "%.10i %T %R"))
        self.assertEqual(out[0], "     JOBID STATE NODELIST(REASON)")
        self.assertIn("%10d RUNNING %s" % (running, where), out)
        self.assertIn("%10d PENDING (JobHeldUser)" % held, out)

        # -O: names in any case, 20 wide unless sized.
        out = self.lines(self.front("squeue", "-O", "JobID,state"))
        self.assertEqual(out[0].split(), ["JOBID", "STATE"])
        self.assertEqual(out[0][:20], "JOBID".ljust(20))
        self.assertIn(str(held).ljust(20) + "PENDING".ljust(20), out)
        out = self.lines(self.c.cli("queue", "--Format=jobid:8,Name:.10,Reason", "-j", str(held)))
        self.assertEqual(out[1], str(held).ljust(8) + "    waiter" + "JobHeldUser".ljust(20))

        # --start: pending jobs only, in squeue --start's columns.
        out = self.lines(self.front("squeue", "--start"))
        self.assertEqual(out[0].split(), ["JOBID", "PARTITION", "NAME", "USER", "ST", "START_TIME", "NODES",
                                          "SCHEDNODES", "NODELIST(REASON)"])
        self.assertEqual([line.split()[0] for line in out[1:]], [str(held)])
        self.assertIn("(JobHeldUser)", out[1])

        # SQUEUE_FORMAT / SQUEUE_FORMAT2 for squeue; the command line wins.
        fmt = {"SQUEUE_FORMAT": "%i|%t"}
        self.assertIn("%d|R" % running, self.lines(self.front("squeue", "-h", env=fmt)))
        both = dict(fmt, SQUEUE_FORMAT2="JobID:6,StateCompact:3")
        self.assertIn(str(running).ljust(6) + "R  ", self.lines(self.front("squeue", "-h", env=both)))
        self.assertEqual(self.lines(self.front("squeue", "-h", "-j", str(held), "-o", "%t", env=both)), ["PD"])

        # Without a format, cadre queue's own table as before.
        self.assertEqual(self.lines(self.c.cli("queue"))[0].split(),
                         ["JOBID", "NAME", "USER", "STATE", "TIME", "NODES", "NODELIST(REASON)"])

        # A letter or name squeue does not define is refused, by name.
        r = self.front("squeue", "-o", "%i %@", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%@", r.stderr)
        r = self.c.cli("queue", "-O", "JobID,Nonsense", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("Nonsense", r.stderr)

    def test_sinfo_formats(self):
        parts = json.loads(self.c.cli("partitions", "--json").stdout)["partitions"]
        default = next(p for p in parts if p["default"])
        cpus = int(self.c.node("node1")["cpus"])

        # The default layout: a partition's idle nodes on one line.
        out = self.lines(self.front("sinfo"))
        self.assertEqual(out[0].split(), ["PARTITION", "AVAIL", "TIMELIMIT", "NODES", "STATE", "NODELIST"])
        self.assertIn([default["name"] + "*", "up", "infinite" if not default["max_time"] else out[1].split()[2],
                       "2", "idle", "node[1-2]"], [line.split() for line in out[1:]])

        self.assertEqual(self.lines(self.front("sinfo", "-h", "-o", "%n %c", "-p", default["name"])),
                         ["node[1-2] %d" % cpus])
        self.assertEqual(self.lines(self.front("sinfo", "-p", default["name"], "-h", "-o", "%D")), ["2"])
        self.assertEqual(self.lines(self.front("sinfo", "-h", "-o", "%D", "-p", "no-such-partition")), [])

        # -N: one line per node.
        out = self.lines(self.front("sinfo", "-N", "-p", default["name"]))
        self.assertEqual(out[0].split(), ["NODELIST", "NODES", "PARTITION", "STATE"])
        self.assertEqual([line.split() for line in out[1:]],
                         [["node1", "1", default["name"] + "*", "idle"], ["node2", "1", default["name"] + "*", "idle"]])

        # A busy node leaves the idle line; -t picks states.
        job = self.c.submit("sleep 300", "--nodes", "1", "--exclusive")
        self.c.wait_state(job, "RUNNING")
        busy = self.c.show(job)["nodes"][0]
        out = self.lines(self.front("sinfo", "-h", "-t", "alloc,mix", "-o", "%N %t", "-p", default["name"]))
        self.assertIn(out, [["%s alloc" % busy], ["%s mix" % busy]])
        self.assertNotIn(busy, self.front("sinfo", "-h", "-t", "idle", "-o", "%N").stdout)

        # cadre nodes -o / cadre partitions -o take the same letters.
        self.assertEqual(sorted(self.lines(self.c.cli("nodes", "-h", "-o", "%N %c"))),
                         ["node1 %d" % cpus, "node2 %d" % cpus])
        out = self.lines(self.c.cli("partitions", "-o", "%R|%D"))
        self.assertEqual(out[0], "PARTITION|NODES")
        self.assertIn("%s|2" % default["name"], out)

        # Options and letters sinfo does not have are refused, by name.
        r = self.front("sinfo", "--bogus", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)
        r = self.front("sinfo", "-o", "%P %@", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%@", r.stderr)
