"""End to end: QOS (--qos, [[qos]] in the master's config, cadre qos).

One node of 4 cpus and no GPUs. The master defines "normal" (the default),
"high" (priority 100, at most one running job per user, at most 1 hour) and
"vip" (for another user; who may use it is checked where identities
are verified, in test_adversarial_policy). Jobs that must stay running wait on a
release file the test creates when it is done with them.
"""

import json
import os
import pwd
import unittest

from harness import Cluster, ClusterTestCase, wait_until

ME = pwd.getpwuid(os.getuid()).pw_name
CONFIG = """[scheduler]
interval = "1s"

[[qos]]
name = "normal"
default = true

[[qos]]
name = "high"
priority = 100
max_running_jobs_per_user = 1
max_time = "1h"

[[qos]]
name = "vip"
users = ["cadre-e2e-someone-else"]
"""


class QosTest(ClusterTestCase):
    def setUp(self):
        self.c = Cluster(agents=1, cpus=4, gpus=0, config=CONFIG, name="qos")
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def held(self, release):
        return 'i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.1; done' % release

    def test_a_job_gets_the_default_qos_or_the_one_it_names_and_sees_it_in_its_environment(self):
        plain = self.c.submit('echo "qos=$SLURM_JOB_QOS"')
        script = self.c.path("high.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\n#SBATCH --qos=HIGH\n#SBATCH -o %s/high-%%j.out\necho "qos=$SLURM_JOB_QOS"\n'
                    % self.c.tmp)
        high = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        for job_id, qos in ((plain, "normal"), (high, "high")):
            job = self.c.wait_state(job_id, "COMPLETED")
            self.assertEqual(job["qos"], qos)
        with open(self.c.output(plain, 0)) as f:
            self.assertEqual(f.read().strip(), "qos=normal")
        with open(self.c.path("high-%d.out" % high)) as f:
            self.assertEqual(f.read().strip(), "qos=high")
        # No --time under a QOS with a MaxWall: the job gets it, as Slurm.
        self.assertEqual(self.c.show(high)["time_limit"], 3600)
        self.assertIn("QOS=high", self.c.cli("show", str(high)).stdout)

    def test_unknown_forbidden_and_too_long_are_refused_with_the_reason(self):
        r = self.c.cli("submit", "--qos", "urgent", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no QOS 'urgent' on this cluster (QOS: normal, high, vip)", r.stderr)
        r = self.c.cli("submit", "--qos", "high", "--time", "2:00:00", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("QOS high allows at most 1:00:00", r.stderr)
        self.assertEqual(self.c.queue(), [], "nothing refused was queued")

    def test_max_running_jobs_per_user_holds_the_second_job_across_a_restart(self):
        release = self.c.marker("release")
        first = self.c.submit(self.held(release), "--qos", "high", "-c", "1")
        second = self.c.submit(self.held(release), "--qos", "high", "-c", "1")
        other = self.c.submit(self.held(release), "-c", "1")
        self.c.wait_state(first, "RUNNING")
        self.c.wait_state(other, "RUNNING")
        wait_until(lambda: self.c.show(second)["reason"].startswith("QOSMaxJobsPerUserLimit"), 30,
                   "the second high job to wait for its QOS")
        self.c.restart_master()
        self.assertEqual(self.c.show(second)["qos"], "high", "the QOS is stored with the job")
        wait_until(lambda: self.c.show(second)["reason"].startswith("QOSMaxJobsPerUserLimit"), 30,
                   "the limit to hold after a restart")
        self.assertEqual(self.c.show(second)["state"], "PENDING")
        self.c.cancel(first)
        self.c.wait_state(second, "RUNNING")
        open(release, "w").close()
        for job_id in (second, other):
            self.c.wait_state(job_id, "COMPLETED")

    def test_update_moves_a_pending_job_between_qos(self):
        job = self.c.submit("true", "--hold")
        self.c.cli("update", str(job), "QOS=high")
        self.assertEqual(self.c.show(job)["qos"], "high")
        r = self.c.cli("update", str(job), "QOS=urgent", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no QOS 'urgent'", r.stdout + r.stderr)
        self.assertEqual(self.c.show(job)["qos"], "high")

    def test_cadre_qos_lists_what_the_master_defines(self):
        table = self.c.cli("qos").stdout
        self.assertTrue(table.startswith("NAME"), table)
        self.assertIn("normal*", table)
        listed = json.loads(self.c.cli("qos", "--json").stdout)["qos"]
        self.assertEqual([q["name"] for q in listed], ["normal", "high", "vip"])
        high = listed[1]
        self.assertEqual((high["priority"], high["max_running_jobs_per_user"], high["max_time_s"]), (100, 1, 3600))
        self.assertEqual(listed[2]["users"], ["cadre-e2e-someone-else"])


class NoQosTest(ClusterTestCase):
    """Without [[qos]], as Slurm without accounting: any name is recorded."""

    def setUp(self):
        self.c = Cluster(agents=1, cpus=2, gpus=0, name="noqos")
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def test_any_qos_is_recorded_and_runs(self):
        job = self.c.submit('echo "qos=$SLURM_JOB_QOS"', "--qos", "gpu_long")
        self.assertEqual(self.c.wait_state(job, "COMPLETED")["qos"], "gpu_long")
        with open(self.c.output(job, 0)) as f:
            self.assertEqual(f.read().strip(), "qos=gpu_long")
        self.assertIn("No QOS is defined", self.c.cli("qos").stdout)


if __name__ == "__main__":
    unittest.main()
