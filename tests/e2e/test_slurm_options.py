"""End to end: sbatch options as Slurm users write them (issue 18): --wrap,
advisory options recorded as hints and shown by `cadre show`, --requeue and
--no-requeue as directives, output patterns with sbatch's symbols, and a
known option cadre lacks refused with what to do instead, before anything
is queued."""

import json
import os
import signal
import subprocess
import time

from harness import STATE_TIMEOUT, ClusterTestCase, wait_until, write_script


class SlurmOptions(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def script(self, name, text):
        return write_script(self.c.path(name), text)

    def submit_script(self, path, *flags):
        r = self.c.cli("submit", "--parsable", *flags, path, cwd=self.c.tmp)
        return int(r.stdout.strip())

    def test_wrap_runs_a_command_line_as_a_batch_script(self):
        r = self.c.cli("submit", "--parsable", "--wrap", "echo wrapped $SLURM_JOB_NAME; echo two words > w.txt",
                       cwd=self.c.tmp)
        job = int(r.stdout.strip())
        done = self.c.wait_state(job, "COMPLETED")
        self.assertEqual(done["name"], "wrap")
        self.assertTrue(done["batch"])
        with open(self.c.path("cadre-%d.out" % job)) as f:
            self.assertIn("wrapped wrap", f.read())
        with open(self.c.path("w.txt")) as f:
            self.assertEqual(f.read(), "two words\n")

    def test_open_mode_truncate_empties_a_reused_output_file_and_append_keeps_it(self):
        path = self.script("log.sh", """
            #!/bin/bash
            #SBATCH -N 2
            #SBATCH -o fixed.log
            #SBATCH --open-mode=truncate
            echo "run $SLURM_JOB_ID"
            srun -n 2 -N 2 sh -c 'echo "step rank $SLURM_PROCID"'
            """)
        first = self.submit_script(path)
        self.c.wait_state(first, "COMPLETED")
        second = self.submit_script(path)
        done = self.c.wait_state(second, "COMPLETED")
        self.assertEqual(done["open_mode"], "truncate")
        self.assertIn("OpenMode=truncate", self.c.cli("show", str(second)).stdout)
        with open(self.c.path("fixed.log")) as f:
            lines = sorted(f.read().splitlines())
        # The second run's script emptied the file; its steps appended.
        self.assertEqual(lines, ["run %d" % second, "step rank 0", "step rank 1"])
        # The command line's --open-mode=append keeps both runs.
        third = self.submit_script(path, "--open-mode=append")
        self.c.wait_state(third, "COMPLETED")
        with open(self.c.path("fixed.log")) as f:
            text = f.read()
        self.assertIn("run %d" % second, text)
        self.assertIn("run %d" % third, text)
        # Two ranks sharing one file: neither erases the other's line.
        shared = self.c.submit('echo "rank $CADRE_RANK"', "-N", "2", "-o", "shared.log", "--open-mode=truncate")
        self.c.wait_state(shared, "COMPLETED")
        with open(self.c.path("shared.log")) as f:
            self.assertEqual(sorted(f.read().splitlines()), ["rank 0", "rank 1"])

    def test_advisory_options_are_recorded_and_shown(self):
        path = self.script("hinted.sh", """
            #!/bin/bash
            #SBATCH --hint=nomultithread
            #SBATCH --mail-type=END,FAIL --mail-user=ada@example.org
            #SBATCH --comment="nightly run" --open-mode=append
            #SBATCH --no-requeue
            true
            """)
        job = self.submit_script(path)
        done = self.c.wait_state(job, "COMPLETED")
        self.assertEqual(done["hints"], ["--hint=nomultithread", "--comment=nightly run"])
        self.assertEqual(done["open_mode"], "append")
        self.assertEqual((done["mail_type"], done["mail_user"]), ("END,FAIL", "ada@example.org"))
        text = self.c.cli("show", str(job)).stdout
        self.assertIn("Hints=--hint=nomultithread", text)
        self.assertIn("MailUser=ada@example.org MailType=END,FAIL (the master has no mail program", text)
        # The hints survive a restart with the job.
        self.c.restart_master()
        self.assertEqual(self.c.show(job)["hints"], done["hints"])

    def test_requeue_directives_reach_the_job(self):
        for directive, flags, requeue in (("--no-requeue", [], False), ("--requeue", [], True),
                                          ("--no-requeue", ["--requeue"], True)):
            path = self.script("rq.sh", "#!/bin/sh\n#SBATCH %s\ntrue\n" % directive)
            job = self.submit_script(path, *flags)
            self.c.wait_state(job, "COMPLETED")
            self.assertEqual(self.c.show(job)["requeue"], requeue, (directive, flags))

    def test_sbatch_output_symbols_have_sbatchs_meanings(self):
        job = self.c.submit("echo hi", "--nodes", "2", "--tasks-per-node", "1",
                            "--output", self.c.path("o-%A_%a-%J-%n-%N-%3t.out"))
        self.c.wait_state(job, "COMPLETED")
        names = sorted(n for n in os.listdir(self.c.tmp) if n.startswith("o-"))
        self.assertEqual(len(names), 2, names)
        for n in names:
            self.assertTrue(n.startswith("o-%d_4294967294-%d.0-" % (job, job)), n)
        self.assertEqual(sorted(n.split("-")[3] for n in names), ["0", "1"], "%n is the node's index")
        self.assertEqual(sorted(n.split("-")[-1] for n in names), ["000.out", "001.out"])

    def test_a_known_option_cadre_lacks_is_refused_with_a_way_forward(self):
        path = self.script("feat.sh", """
            #!/bin/bash
            #SBATCH --nodes=1
            #SBATCH --licenses=matlab:1
            hostname
            """)
        r = self.c.cli("submit", path, check=False, cwd=self.c.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("feat.sh line 3: #SBATCH --licenses: licenses are not supported", r.stderr)
        self.assertEqual(json.loads(self.c.cli("queue", "--json").stdout).get("jobs", []), [])


class HoldAndRelease(ClusterTestCase):
    """cadre hold / release and submit --hold (scontrol hold / release,
    sbatch --hold)."""

    AGENTS = 1
    GPUS = 0

    def test_a_job_submitted_held_waits_until_released_across_a_restart(self):
        job = self.c.submit("echo ran", "--hold")
        shown = self.c.show(job)
        self.assertEqual((shown["state"], shown["reason"]), ("PENDING", "JobHeldUser"))
        self.c.restart_master()  # waits for the node, whose return runs a pass
        shown = self.c.show(job)
        self.assertEqual((shown["state"], shown["reason"]), ("PENDING", "JobHeldUser"), "held across a restart")
        self.c.cli("release", str(job))
        self.c.wait_state(job, "COMPLETED")

    def test_hold_a_pending_job_and_not_a_running_one(self):
        gate = self.c.path("gate")
        running = self.c.submit("while [ ! -e %s ]; do sleep 0.1; done" % gate, "--cpus-per-task", "8")
        self.c.wait_state(running, "RUNNING")
        waiting = self.c.submit("true")
        self.c.cli("hold", str(waiting))
        self.assertEqual(self.c.show(waiting)["reason"], "JobHeldUser")
        r = self.c.cli("hold", str(running), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot hold job %d: job %d is RUNNING: only a pending job can be held" % (running, running),
                      r.stderr)
        r = self.c.cli("release", str(running), check=False)
        self.assertIn("is not held", r.stderr)
        open(gate, "w").close()
        self.c.wait_state(running, "COMPLETED")
        # The node is free now, but the held job does not start.
        self.c.submit("true", "--wait")
        self.assertEqual(self.c.show(waiting)["state"], "PENDING")
        self.c.cli("release", str(waiting))
        self.c.wait_state(waiting, "COMPLETED")

    def test_an_sbatch_hold_directive_holds_the_job(self):
        path = self.c.path("held.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n#SBATCH -H\ntrue\n")
        r = self.c.cli("submit", "--parsable", path, cwd=self.c.tmp)
        job = int(r.stdout.strip())
        self.assertEqual(self.c.show(job)["reason"], "JobHeldUser")
        r = self.c.cli("hold", "nope", check=False)
        self.assertEqual(r.returncode, 2)


class DefaultOutput(ClusterTestCase):
    """One output file per job by default, as slurm-%j.out."""

    AGENTS = 2
    GPUS = 0

    def test_every_rank_appends_to_one_file_and_submit_says_where(self):
        r = self.c.cli("submit", "--ntasks", "3", "--nodes", "3", "--", "sh", "-c", 'echo "rank $RANK"', check=False)
        self.assertNotEqual(r.returncode, 0, "3 nodes asked of 2: refused, nothing queued")
        r = self.c.cli("submit", "--nodes", "2", "--tasks-per-node", "2", "--", "sh", "-c", 'echo "rank $RANK"')
        job = int(r.stdout.split()[-1])
        self.assertEqual(r.stdout.strip(), "Submitted job %d" % job)
        self.assertIn("cadre: output goes to %s" % self.c.path("cadre-%d.out" % job), r.stderr)
        self.c.wait_state(job, "COMPLETED")
        with open(self.c.path("cadre-%d.out" % job)) as f:
            self.assertEqual(sorted(f.read().split("\n")[:-1]), ["rank 0", "rank 1", "rank 2", "rank 3"])
        self.assertFalse([n for n in os.listdir(self.c.tmp) if n.startswith("cadre-%d-" % job)], "no file per rank")
        r = self.c.cli("submit", "-o", "per-%j-%t.out", "--", "true")
        self.assertIn("per-%j-%t.out (a file per rank or node", r.stderr)


class CtrlC(ClusterTestCase):
    """Ctrl-C on `cadre submit --wait` and `cadre run`, as srun takes it:
    the first reports the job's state, a second within a second cancels."""

    AGENTS = 1
    GPUS = 0

    def start_waiting(self, *words):
        argv = [self.c.cli_bin, "--master", self.c.endpoint] + list(words)
        p = subprocess.Popen(argv, cwd=self.c.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    def running_job(self):
        def one():
            jobs = json.loads(self.c.cli("queue", "--json").stdout)["jobs"]
            return jobs[0]["id"] if jobs and jobs[0]["state"] == "RUNNING" else None
        return wait_until(one, STATE_TIMEOUT, "the job to run")

    def test_one_ctrl_c_reports_and_two_cancel(self):
        for words in (["submit", "--wait", "--", "sleep", "600"], ["run", "--", "sleep", "600"]):
            p = self.start_waiting(*words)
            job = self.running_job()
            p.send_signal(signal.SIGINT)
            time.sleep(1.5)  # more than a second: the next press reports again, it does not cancel
            self.assertIsNone(p.poll(), "one Ctrl-C left %s running" % words[0])
            self.assertEqual(self.c.show(job)["state"], "RUNNING")
            p.send_signal(signal.SIGINT)
            time.sleep(0.2)
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=60)
            self.assertIn("cadre: job %d is RUNNING on node1; press Ctrl-C again within a second to cancel it" % job,
                          err)
            self.assertIn("cadre: cancelling job %d" % job, err)
            self.assertEqual(p.returncode, 1, err)
            self.assertEqual(self.c.show(job)["state"], "CANCELLED")

    def test_a_waiting_job_shows_its_pending_reason(self):
        path = self.c.path("gate")
        blocker = self.c.submit("while [ ! -e %s ]; do sleep 0.1; done" % path, "--cpus-per-task", "8")
        self.c.wait_state(blocker, "RUNNING")
        p = self.start_waiting("submit", "--wait", "--", "true")
        wait_until(lambda: len(json.loads(self.c.cli("queue", "--json").stdout)["jobs"]) == 2, STATE_TIMEOUT,
                   "the second job to be queued")
        time.sleep(1)
        open(path, "w").close()
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(err, r"job \d+ PENDING \(\w+\)")
        self.assertRegex(err, r"job \d+ COMPLETED \(exit code 0\)")
