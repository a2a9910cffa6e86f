"""End to end: --mail-type and --mail-user (issue 18) through a fake mail
program that records what it gets: a job's BEGIN and END, a FAIL to the
submitter by default, an array mailed as a whole, and nothing for a job
that asked for none. Without a mail program cadre show says no mail will
be sent."""

import glob
import os
import shutil
import stat
import tempfile
import unittest

from harness import Cluster, ClusterTestCase, wait_until


class Mail(unittest.TestCase):
    def setUp(self):
        self.box = tempfile.mkdtemp(prefix="cadre-e2e-mailbox-")
        self.addCleanup(shutil.rmtree, self.box, True)
        program = os.path.join(self.box, "fake-mail")
        with open(program, "w") as f:
            # mailx's form: -s SUBJECT TO, the text on standard input.
            f.write('#!/bin/sh\nout=%s/mail.$$\ncat > "$out.body"\nprintf "%%s\\n" "$@" > "$out.tmp"\n'
                    'mv "$out.tmp" "$out.args"\n' % self.box)
        os.chmod(program, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        self.c = Cluster(agents=2, gpus=0, config='[scheduler]\ninterval = "1s"\n', name="mail")
        self.c.mail_program = program
        self.addCleanup(self.c.stop)
        self.c.start()

    def mails(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.box, "mail.*.args"))):
            with open(path) as f:
                args = f.read().splitlines()
            with open(path[:-len(".args")] + ".body") as f:
                out.append((args, f.read()))
        return out

    def subjects(self, count):
        wait_until(lambda: len(self.mails()) >= count or None, 60, "%d mails" % count)
        return sorted(a[1] for a, _ in self.mails())

    def test_each_event_asked_for_is_mailed_once(self):
        ok = self.c.submit("true", "--mail-type=BEGIN,END", "--mail-user=ada@example.org", "-J", "ok")
        self.c.wait_state(ok, "COMPLETED")
        subjects = self.subjects(2)
        self.assertEqual(len(subjects), 2, subjects)
        self.assertTrue(subjects[0].startswith("cadre Job_id=%d Name=ok Began, Queued time" % ok), subjects)
        self.assertTrue(subjects[1].startswith("cadre Job_id=%d Name=ok Ended, Run time" % ok), subjects)
        self.assertIn("COMPLETED, ExitCode 0", subjects[1])
        for args, body in self.mails():
            self.assertEqual((args[0], args[2]), ("-s", "ada@example.org"))
            self.assertIn("Job %d (ok)" % ok, body)

        # FAIL alone: no Began; the submitter is the default recipient.
        bad = self.c.submit("exit 3", "--mail-type=FAIL", "-J", "bad")
        self.c.wait_state(bad, "FAILED")
        subjects = self.subjects(3)
        failed = [s for s in subjects if "Name=bad" in s]
        self.assertEqual(len(failed), 1, subjects)
        self.assertIn("Failed, Run time", failed[0])
        self.assertIn("FAILED, ExitCode 3", failed[0])
        user = self.c.show(bad)["user"]
        self.assertEqual(self.c.show(bad)["mail_user"], user)
        self.assertIn([a for a, _ in self.mails() if "Name=bad" in a[1]][0][2], (user,))

        # An array is mailed as a whole: one Began, one Ended.
        array = self.c.submit("true", "--array=0-3", "--mail-type=ALL", "-J", "arr")
        wait_until(lambda: all(j["state"] == "COMPLETED" for j in self.c.queue(all_jobs=True)
                               if j.get("array_job_id") == array) or None, 120, "the array to end")
        subjects = self.subjects(5)
        arr = [s for s in subjects if "Name=arr" in s]
        self.assertEqual(len(arr), 2, arr)
        self.assertTrue(any(s.startswith("cadre Array_job_id=%d Name=arr Began" % array) for s in arr), arr)
        self.assertTrue(any(s.startswith("cadre Array_job_id=%d Name=arr Ended, all tasks COMPLETED" % array)
                            for s in arr), arr)

        # An array cancelled while its tasks wait says so, once.
        held = self.c.submit("true", "--array=0-2", "--hold", "--mail-type=END", "-J", "gone")
        self.c.cancel(held)
        subjects = self.subjects(6)
        gone = [s for s in subjects if "Name=gone" in s]
        self.assertEqual(gone, ["cadre Array_job_id=%d Name=gone Ended, not every task COMPLETED" % held])

        # A job that asked for none gets none.
        quiet = self.c.submit("true", "-J", "quiet")
        self.c.wait_state(quiet, "COMPLETED")
        self.c.submit("true", "--mail-type=NONE", "-J", "none")
        marker = self.c.submit("true", "--mail-type=END", "-J", "last")
        self.c.wait_state(marker, "COMPLETED")
        subjects = self.subjects(7)
        self.assertFalse([s for s in subjects if "Name=quiet" in s or "Name=none" in s], subjects)
        self.assertIn("MailUser=", self.c.cli("show", str(marker)).stdout)


    def test_an_invalid_dependency_and_a_cancelled_running_job_mail_once(self):
        failed = self.c.submit("exit 1", "-J", "first")
        self.c.wait_state(failed, "FAILED")
        # Cancelled in the very turn it is submitted: still mailed.
        dep = self.c.submit("true", "-J", "dep", "--dependency", "afterok:%d" % failed,
                            "--kill-on-invalid-dep=yes", "--mail-type=INVALID_DEPEND")
        self.c.wait_state(dep, "CANCELLED")
        # A running job cancelled: one end mail, though its rank reports
        # its exit after the job already ended.
        running = self.c.submit("sleep 60", "-J", "stopped", "--mail-type=END")
        self.c.wait_state(running, "RUNNING")
        self.c.cancel(running)
        self.c.wait_state(running, "CANCELLED")
        subjects = self.subjects(2)
        self.assertEqual(subjects, sorted(["cadre Job_id=%d Name=dep Dependency never satisfied" % dep,
                                           [s for s in subjects if "Name=stopped" in s][0]]), subjects)
        self.assertTrue([s for s in subjects if "Name=stopped Ended" in s], subjects)
        self.c.wait_all_free()
        self.assertEqual(len(self.mails()), 2, [a[1] for a, _ in self.mails()])

    def test_time_limit_shares_are_mailed_as_they_pass(self):
        # A 10-second limit: 50 % at 5 s, 90 % at 9 s, the limit at 10 s.
        job = self.c.submit("sleep 60", "--time", "0:10", "-J", "slow",
                            "--mail-type=TIME_LIMIT_50,TIME_LIMIT_90,TIME_LIMIT")
        self.c.wait_state(job, "TIMEOUT")
        subjects = self.subjects(3)
        self.assertEqual(len(subjects), 3, subjects)
        prefix = "cadre Job_id=%d Name=slow Reached " % job
        self.assertTrue(any(s.startswith(prefix + "50% of time limit, Run time") for s in subjects), subjects)
        self.assertTrue(any(s.startswith(prefix + "90% of time limit, Run time") for s in subjects), subjects)
        self.assertTrue(any(s.startswith(prefix + "time limit, Run time") for s in subjects), subjects)
        self.assertFalse([s for s in subjects if "80%" in s], "80 % was not asked for")


class NoMailProgram(ClusterTestCase):
    AGENTS = 1
    GPUS = 0

    def test_show_says_no_mail_will_be_sent(self):
        job = self.c.submit("true", "--mail-type=END")
        self.c.wait_state(job, "COMPLETED")
        text = self.c.cli("show", str(job)).stdout
        self.assertIn("MailType=END (the master has no mail program: no mail will be sent)", text)
        r = self.c.cli("submit", "--mail-type=SOMETIMES", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("'SOMETIMES' is not a mail type", r.stderr)
        r = self.c.cli("submit", "--mail-type=END", "--mail-user=-oQ/tmp/x", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a mail address", r.stderr)
