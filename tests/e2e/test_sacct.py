"""End to end: sacct (cadre's front end, and cadre acct) over a real
cluster: jobs run to completion or failure, then sacct's states, exit
codes, parsable layouts, default header and time window, and sacct called
from inside a batch script through the job's PATH."""

import os
import re
import subprocess
import time

from harness import CLI_TIMEOUT, ClusterTestCase, binary, write_script


class Sacct(ClusterTestCase):
    AGENTS = 1
    GPUS = 0

    def sacct(self, *args, code=0):
        env = dict(os.environ, CADRE_MASTER=self.c.endpoint)
        env.pop("SACCT_FORMAT", None)
        r = subprocess.run([binary("cli/slurm-bin/sacct")] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=CLI_TIMEOUT, cwd=self.c.tmp, env=env)
        self.assertEqual(r.returncode, code, "sacct %s: %s%s" % (args, r.stdout, r.stderr))
        return r

    def ended_jobs(self):
        ok = self.c.submit("true", "--name", "fine")
        bad = self.c.submit("exit 3", "--name", "broken")
        self.c.wait_state(ok, "COMPLETED")
        self.c.wait_state(bad, "FAILED")
        return ok, bad

    def test_states_exit_codes_and_layouts_of_ended_jobs(self):
        ok, bad = self.ended_jobs()
        self.assertEqual(self.sacct("-j", ok, "-n", "-X", "-o", "State").stdout.strip(), "COMPLETED")
        self.assertEqual(self.sacct("-j", bad, "-n", "-X", "-o", "State").stdout.strip(), "FAILED")
        r = self.sacct("-j", "%d,%d" % (ok, bad), "-P", "--format=JobID,State,ExitCode")
        self.assertEqual(r.stdout, "JobID|State|ExitCode\n%d|COMPLETED|0:0\n%d|FAILED|3:0\n" % (ok, bad))
        r = self.sacct("-j", bad, "-p", "-n", "--format=jobname,exitcode")
        self.assertEqual(r.stdout, "broken|3:0|\n")

        # The default: sacct's columns, its header and the dashes under it.
        lines = self.sacct("-j", ok).stdout.splitlines()
        self.assertEqual(lines[0].split(), ["JobID", "JobName", "Partition", "Account", "AllocCPUS", "State",
                                            "ExitCode"])
        self.assertEqual([len(d) for d in lines[1].split()], [12, 10, 10, 10, 10, 10, 8])
        self.assertEqual(len(lines), 3, lines)
        self.assertEqual(lines[2].split()[0], str(ok))
        self.assertEqual(lines[2].split()[-2:], ["COMPLETED", "0:0"])

        # cadre acct is the same command.
        r = self.c.cli("acct", "-j", ok, "-n", "-o", "JobName%8,Elapsed,End")
        self.assertRegex(r.stdout, r"^    fine +\d\d:\d\d:\d\d \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \n$")

        # A name sacct does not define: exit 1, the name given.
        r = self.sacct("-j", ok, "-o", "JobID,MaxRSS,Bogus", code=1)
        self.assertIn("Bogus", r.stderr)
        self.assertEqual(self.sacct("-j", ok, "-n", "-P", "-o", "JobID,MaxRSS").stdout, "%d|\n" % ok)

    def test_starttime_chooses_the_jobs_still_running_after_it(self):
        ok, bad = self.ended_jobs()
        listed = lambda *args: [int(x) for x in self.sacct("-X", "-n", "-o", "JobIDRaw", *args).stdout.split()]
        self.assertEqual(listed(), [ok, bad], "your jobs since midnight, by default")
        self.assertEqual(listed("-S", "now-1hour"), [ok, bad])
        ended = max(self.c.show(ok)["end_time"], self.c.show(bad)["end_time"])
        while time.time() < ended + 2:
            time.sleep(0.2)
        self.assertEqual(listed("--starttime=now"), [], "both ended before now")
        self.assertEqual(listed("-S", "now-1hour", "-E", "now", "-s", "F"), [bad])
        self.assertEqual(listed("-S", "now-1hour", "-s", "F"), [], "with -s the window ends where it starts")
        self.assertEqual(listed("-S", "now-1hour", "-E", "now-30minutes"), [], "not yet submitted then")

    def test_sacct_inside_a_batch_script_through_the_jobs_path(self):
        ok, bad = self.ended_jobs()
        script = write_script(self.c.path("acct.sbatch"), """
            #!/bin/bash
            #SBATCH --job-name=acct
            #SBATCH --output=acct-%%j.out
            echo "self $(sacct -j $SLURM_JOB_ID -n -X -o State)"
            sacct -j $SLURM_JOB_ID --parsable2 --noheader --format=JobID,State,ExitCode,Elapsed,MaxRSS
            echo "before $(sacct -j %d -n -X -o State)"
            """ % bad)
        r = subprocess.run([binary("cli/slurm-bin/sbatch"), "--parsable", script], capture_output=True, text=True,
                           timeout=CLI_TIMEOUT, cwd=self.c.tmp, env=dict(os.environ, CADRE_MASTER=self.c.endpoint))
        self.assertEqual(r.returncode, 0, r.stderr)
        job = int(r.stdout.strip())
        self.c.wait_state(job, "COMPLETED")
        with open(self.c.path("acct-%d.out" % job)) as f:
            out = f.read()
        self.assertRegex(out, r"self +RUNNING \n")
        self.assertRegex(out, r"\n%d\|RUNNING\|0:0\|\d\d:\d\d:\d\d\|\n" % job)
        self.assertRegex(out, r"before +FAILED \n")
