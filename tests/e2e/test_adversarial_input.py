"""Adversarial end to end: hostile text and hostile files from the CLI.

A job name (and an account and working folder, where the CLI accepts them)
full of terminal control sequences must not reach another user's terminal
raw: `cadre queue` and `cadre show` print it escaped, on one line, while
the --json forms give the exact bytes back. A FIFO given as a batch script
or as a --from file is refused at once instead of hanging the CLI, and so
is a script with a NUL byte.
"""

import os
import unittest

from adversary import HostileTestCase

HOSTILE = "x\x1b[2J\r\nFAKE 999 RUNNING"
# Bytes that must never reach a terminal from a job's fields.
RAW_CONTROLS = ("\x1b", "\r", "\x07", "\x08", "\x00")


class ControlCharacters(HostileTestCase):
    AGENTS = 1

    def assert_printed_safely(self, text, job_id, what):
        for ch in RAW_CONTROLS:
            self.assertNotIn(ch, text, "%s printed a raw %r:\n%r" % (what, ch, text))
        lines = text.splitlines()
        # The fake line never stands on its own (no stray LF), and it is on
        # the line that names the job.
        for line in lines:
            self.assertFalse(line.lstrip().startswith("FAKE 999"), "%s let a forged line through:\n%r" % (what, text))
        fake = [line for line in lines if "FAKE 999 RUNNING" in line]
        self.assertTrue(fake, "%s shows the (escaped) name:\n%r" % (what, text))

    def test_control_characters_in_a_job_are_escaped_in_listings_and_exact_in_json(self):
        a = self.a
        job_id = a.submit("exec sleep 300", "--name", HOSTILE)
        self.wait_state(job_id, "RUNNING")

        r = self.b.cli("queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_printed_safely(r.stdout, job_id, "cadre queue")
        line = next(line for line in r.stdout.splitlines() if "FAKE 999 RUNNING" in line)
        self.assertIn(str(job_id), line.split(), "the escaped name is on the job's own line: %r" % line)

        r = self.b.cli("show", job_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_printed_safely(r.stdout, job_id, "cadre show")

        self.assertEqual(self.b.cli("show", job_id, "--json").returncode, 0)
        shown = self.c.show(job_id)
        self.assertEqual(shown["name"], HOSTILE, "show --json gives the exact name")
        listed = [j for j in self.b.queue_json() if j["id"] == job_id]
        self.assertEqual([j["name"] for j in listed], [HOSTILE], "queue --json gives the exact name")
        self.assertEqual(a.cli("cancel", job_id).returncode, 0)
        self.wait_state(job_id, "CANCELLED")

    def test_control_characters_in_an_account_or_working_folder_are_escaped(self):
        a = self.a
        folder = os.path.join(a.home, "dir\x1b[2J\r\nFAKE 999 RUNNING")
        os.mkdir(folder)
        os.chown(folder, a.uid, a.gid)
        tried = {
            "account": ["--account", "acct\x1b[2J\r\nFAKE 999 RUNNING"],
            "working folder": ["--chdir", folder],
        }
        accepted = {}
        for what, flags in tried.items():
            r = a.cli("submit", "--parsable", "--name", "plain", *flags, "--", "sleep", "300")
            if r.returncode == 0:
                accepted[what] = int(r.stdout)
            else:
                # Refusing control characters outright is as good, if it says so.
                self.assertTrue(r.stderr.strip(), "%s refused without a reason" % what)
                self.assertNotIn("\x1b", r.stderr, "the refusal echoes the raw escape")
        for what, job_id in accepted.items():
            r = self.b.cli("queue")
            self.assertEqual(r.returncode, 0, r.stderr)
            for ch in RAW_CONTROLS:
                self.assertNotIn(ch, r.stdout, "cadre queue printed a raw %r from the %s" % (ch, what))
            r = self.b.cli("show", job_id)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assert_printed_safely(r.stdout, job_id, "cadre show (%s)" % what)
            shown = self.c.show(job_id)
            exact = shown["account"] if what == "account" else shown["workdir"]
            self.assertEqual(exact, tried[what][1], "show --json gives the exact %s" % what)
            self.assertEqual(a.cli("cancel", job_id).returncode, 0)


class HostileFiles(HostileTestCase):
    AGENTS = 1

    def fifo(self, name):
        path = os.path.join(self.a.home, name)
        os.mkfifo(path, 0o644)
        os.chown(path, self.a.uid, self.a.gid)
        return path

    def test_a_fifo_as_a_batch_script_is_refused_at_once(self):
        fifo = self.fifo("script.fifo")
        # a.cli fails the test with "hang" if the CLI blocks on the FIFO.
        r = self.a.cli("submit", fifo, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("not a regular file", r.stderr)
        r = self.a.cli("submit", "--from", fifo, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("not a regular file", r.stderr)
        self.assertEqual(self.a.queue_json(), [], "nothing was submitted")

    def test_a_batch_script_with_a_nul_byte_is_refused(self):
        script = os.path.join(self.a.home, "nul.sh")
        with open(script, "wb") as f:
            f.write(b"#!/bin/sh\necho before\x00after\n")
        os.chown(script, self.a.uid, self.a.gid)
        os.chmod(script, 0o755)
        r = self.a.cli("submit", script, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stderr, "NUL|binary", "the error says why")
        self.assertEqual(self.a.queue_json(), [], "nothing was submitted")
        # The same as a --from file.
        jobs = os.path.join(self.a.home, "jobs.txt")
        with open(jobs, "wb") as f:
            f.write(b"--name ok -- true\n--name bad\x00 -- true\n")
        os.chown(jobs, self.a.uid, self.a.gid)
        r = self.a.cli("submit", "--from", jobs, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stderr, "NUL|binary", "the error says why")
        self.assertEqual(self.a.queue_json(), [], "nothing was submitted")


if __name__ == "__main__":
    unittest.main()
