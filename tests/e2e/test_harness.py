"""The harness itself: what it reports about daemons that misbehave. A
daemon that dies of a signal no one sent, or writes a sanitizer report into
its log, must fail the test that ran it; a daemon the test killed itself
must not."""

import signal
import unittest

from harness import Cluster


class DaemonProblems(unittest.TestCase):
    def setUp(self):
        self.c = Cluster(agents=0, name="harness")
        self.addCleanup(self.c.stop)

    def spawn(self, script):
        return self.c._spawn(["sh", "-c", script], "fake-daemon.log")

    def test_a_crash_nobody_caused_is_a_problem(self):
        p = self.spawn("kill -SEGV $$")
        p.wait(timeout=30)
        self.c.stop()
        self.assertEqual(len(self.c.problems), 1, self.c.problems)
        self.assertIn("died of signal %d" % signal.SIGSEGV, self.c.problems[0])

    def test_a_sanitizer_report_in_a_log_is_a_problem(self):
        for report in ("==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x1",
                       "==42==ERROR: LeakSanitizer: detected memory leaks",
                       "master/x.cpp:10:5: runtime error: signed integer overflow"):
            with self.subTest(report=report):
                c = Cluster(agents=0, name="harness")
                self.addCleanup(c.stop)
                c._spawn(["sh", "-c", "echo '%s'" % report], "fake-daemon.log").wait(timeout=30)
                c.stop()
                self.assertEqual(len(c.problems), 1, c.problems)
                self.assertIn("sanitizer report", c.problems[0])

    def test_a_daemon_stopped_by_the_harness_or_killed_by_a_test_is_fine(self):
        p = self.spawn("exec sleep 300")
        self.c.master = p  # as a test would stop the master
        self.c.stop_master(signal.SIGKILL)
        self.spawn("exec sleep 300")  # stopped by stop() with SIGTERM
        self.c.stop()
        self.assertEqual(self.c.problems, [])


if __name__ == "__main__":
    unittest.main()
