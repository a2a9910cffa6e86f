"""End to end: `cadre update` (scontrol update job) and `cadre requeue`
(scontrol requeue / requeuehold) (issue 18): a pending job's limit, name,
shape, dependency and an array's throttle change; a running job takes a
shorter limit and times out by it; a running job requeued runs again as
attempt 2, an ended one is read back from the store and runs again, and
requeue --hold leaves it held; --begin keeps a job waiting (BeginTime)
until its time, across a master restart, and StartTime= moves it;
--deadline removes a job that can no longer end in time (DEADLINE)."""

import os

from harness import ClusterTestCase, wait_until, write_script


class JobControl(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def test_update_changes_a_pending_job_whole_or_not_at_all(self):
        job = self.c.submit("echo ranks $CADRE_WORLD_SIZE", "--hold", "--time", "10", "-J", "before")
        self.c.cli("update", str(job), "TimeLimit=20", "JobName=after", "NumTasks=3")
        shown = self.c.show(job)
        self.assertEqual((shown["time_limit"], shown["name"], shown["ntasks"]), (1200, "after", 3))
        self.c.cli("update", "JobId=%d" % job, "timelimit+=5")
        self.assertEqual(self.c.show(job)["time_limit"], 1500)

        # All or nothing: a bad partition leaves the name as it was.
        r = self.c.cli("update", str(job), "JobName=never", "Partition=nope", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no partition 'nope'", r.stderr)
        self.assertEqual(self.c.show(job)["name"], "after")
        r = self.c.cli("update", str(job), "Colour=blue", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cadre cannot update 'Colour'", r.stderr)

        # A dependency added, then removed.
        blocker = self.c.submit("sleep 60")
        self.c.cli("update", str(job), "Dependency=afterok:%d" % blocker)
        self.assertEqual(self.c.show(job)["dependency"], "afterok:%d" % blocker)
        self.c.cli("release", str(job))
        wait_until(lambda: self.c.show(job)["reason"] == "Dependency" or None, 60, "the dependency to hold it")
        self.c.cli("update", str(job), "Dependency=")
        done = self.c.wait_state(job, "COMPLETED")
        self.assertEqual(len(done["tasks"]), 3)
        self.c.cancel(blocker)

    def test_a_running_job_takes_a_shorter_limit_and_an_array_a_new_throttle(self):
        job = self.c.submit("sleep 120", "--time", "10")
        self.c.wait_state(job, "RUNNING")
        r = self.c.cli("update", str(job), "NumNodes=2", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("NumNodes can only change while the job is pending", r.stderr)
        self.c.cli("update", str(job), "TimeLimit=0:02")
        ended = self.c.wait_state(job, "TIMEOUT")
        self.assertIn("time limit of 0:02 reached", ended["reason"])

        array = write_script(self.c.path("arr.sh"), "#!/bin/sh\n#SBATCH --array=0-5%1 --hold\ntrue\n")
        aid = int(self.c.cli("submit", "--parsable", array).stdout.strip())
        self.c.cli("update", str(aid), "ArrayTaskThrottle=3")
        self.assertEqual(self.c.show(aid)["array"], "0-5%3")
        self.assertEqual(self.c.show(aid)["display_id"], "%d_[0-5%%3]" % aid)
        self.c.cli("update", str(aid), "ArrayTaskThrottle=0")
        self.assertEqual(self.c.show(aid)["display_id"], "%d_[0-5]" % aid)
        self.c.cli("cancel", str(aid))

    def test_requeue_runs_a_job_again_as_a_new_attempt(self):
        log = self.c.path("attempts.log")
        job = self.c.submit("echo attempt $CADRE_ATTEMPT >> %s; sleep 60" % log)
        self.c.wait_state(job, "RUNNING")
        wait_until(lambda: os.path.exists(log), 30, "the first attempt to start")
        r = self.c.cli("requeue", str(job), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_until(lambda: open(log).read().count("attempt") == 2 or None, 60, "the second attempt")
        self.assertEqual(open(log).read(), "attempt 1\nattempt 2\n")
        shown = self.c.wait_state(job, "RUNNING")
        self.assertEqual(shown["attempt"], 2)
        self.c.cancel(job)

        # An ended job comes back from the store; a pending one is refused.
        done_log = self.c.path("done.log")
        ended = self.c.submit("echo ran >> %s" % done_log)
        self.c.wait_state(ended, "COMPLETED")
        self.c.restart_master()
        self.c.cli("requeue", str(ended))
        wait_until(lambda: open(done_log).read() == "ran\nran\n" or None, 60, "the requeued job to run again")
        again = self.c.wait_state(ended, "COMPLETED")
        self.assertEqual(again["attempt"], 2)

        held = self.c.submit("true", "--hold")
        r = self.c.cli("requeue", str(held), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("only a running or ended job can be requeued", r.stderr)
        self.c.cli("requeue", "--hold", str(ended))
        shown = self.c.show(ended)
        self.assertEqual((shown["state"], shown["reason"]), ("PENDING", "JobHeldUser"))
        r = self.c.cli("requeue", "99999", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no job 99999", r.stderr)

    def test_signal_arrives_before_the_time_limit(self):
        # Every rank of a job that is not a batch script gets it, and goes on.
        got = self.c.path("ranks.log")
        job = self.c.submit("trap 'echo got USR1 $CADRE_RANK >> %s' USR1; while true; do sleep 0.2; done" % got,
                            "--time", "0:06", "--signal", "USR1@4", "-n", "2")
        ended = self.c.wait_state(job, "TIMEOUT")
        with open(got) as f:
            self.assertEqual(sorted(f.read().split("\n")[:-1]), ["got USR1 0", "got USR1 1"])
        self.assertEqual(ended["signal"], "USR1@4")

        # B: the batch script alone, which may end the job cleanly.
        script = write_script(self.c.path("sig.sh"), """
            #!/bin/bash
            #SBATCH --time=0:08 --signal=B:SIGUSR2@5 -o sig.out
            trap 'echo "batch got USR2"; exit 0' USR2
            sleep 60 &
            wait
            """)
        batch = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        self.c.wait_state(batch, "COMPLETED")
        with open(self.c.path("sig.out")) as f:
            self.assertIn("batch got USR2", f.read())

        r = self.c.cli("submit", "--signal=USR9@5", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'USR9' is not a signal", r.stderr)

    def test_begin_defers_a_job_until_its_time_across_a_restart(self):
        # A script's --begin an hour away: waiting, with Slurm's reason.
        script = write_script(self.c.path("later.sh"), "#!/bin/sh\n#SBATCH --begin=now+1hour\n#SBATCH -o later.out\necho ran\n")
        later = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        wait_until(lambda: self.c.show(later)["reason"] == "BeginTime" or None, 30, "the BeginTime reason")
        begin = self.c.show(later)["begin_time"]
        self.assertGreater(begin, 0)
        self.assertIn("EligibleTime=", self.c.cli("show", str(later)).stdout)
        # Nothing else waits for it: a job behind it runs.
        self.assertEqual(self.c.wait_state(self.c.submit("true"), "COMPLETED")["state"], "COMPLETED")

        # A begin time a few seconds away comes, and the job starts by itself.
        soon = self.c.submit("true", "--begin", "now+3seconds")
        self.assertEqual(self.c.show(soon)["state"], "PENDING")
        done = self.c.wait_state(soon, "COMPLETED")
        self.assertGreaterEqual(done["start_time"], self.c.show(soon)["begin_time"])

        # The wait survives a restart; StartTime=now lifts it.
        self.c.restart_master()
        wait_until(lambda: self.c.show(later)["reason"] == "BeginTime" or None, 30, "the reason after the restart")
        self.assertEqual(self.c.show(later)["begin_time"], begin)
        self.c.cli("update", str(later), "StartTime=now")
        self.assertEqual(self.c.wait_state(later, "COMPLETED")["begin_time"], 0)
        with open(self.c.path("later.out")) as f:
            self.assertEqual(f.read(), "ran\n")
        r = self.c.cli("submit", "--begin", "someday", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--begin 'someday': expected HH:MM[:SS]", r.stderr)

    def test_deadline_removes_a_pending_job_that_can_no_longer_end_in_time(self):
        # A script's --deadline that leaves room: it runs as usual.
        script = write_script(self.c.path("due.sh"),
                              "#!/bin/sh\n#SBATCH --deadline=now+1hour\n#SBATCH -t 10\n#SBATCH -o due.out\necho ran\n")
        due = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        self.assertGreater(self.c.show(due)["deadline"], 0)
        self.assertIn("Deadline=", self.c.cli("show", str(due)).stdout)
        self.c.wait_state(due, "COMPLETED")

        # Held (it could run, but does not): once a 1-minute limit no longer
        # fits before the deadline, a pass removes it.
        held = self.c.submit("true", "--hold", "--time", "1", "--deadline", "now+64")
        gone = self.c.wait_state(held, "DEADLINE")
        self.assertTrue(gone["reason"].startswith("DeadLine"), gone["reason"])
        listed = self.c.cli("queue", "--json", "-t", "DL").stdout
        self.assertIn('"id": %d' % held, listed)

        r = self.c.cli("submit", "--time", "10", "--deadline", "now+60", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot end by its --deadline", r.stderr)
        r = self.c.cli("submit", "--deadline", "now+1hour", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--deadline needs a time limit", r.stderr)
