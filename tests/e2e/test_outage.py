"""End to end: agents ride out a master outage of three minutes. Ranks keep
running, start and end while the master is away; when it is back, no node
was failed for its absence, no gang was requeued, and every rank's exit is
reported once, with its code. (test_restart.py covers short outages; this
one is long enough for every agent retry and backoff to come into play.)"""

import signal
import time
import unittest

from harness import ClusterTestCase, pid_alive

OUTAGE_S = 180


class ThreeMinuteMasterOutage(ClusterTestCase):
    AGENTS = 2
    NODE_TIMEOUT = 6

    def test_ranks_started_and_ended_during_the_outage_are_reported_once(self):
        end_ok, end_bad, end_last = self.c.marker("end-ok"), self.c.marker("end-bad"), self.c.marker("end-last")
        wait_for = "while [ ! -e %s ]; do sleep 0.2; done; "
        ok = self.c.submit(self.pid_script("ok", then=wait_for % end_ok + "exit 0"), "--nodes", "2")
        bad = self.c.submit(self.pid_script("bad", then=wait_for % end_bad + "exit 3"))
        last = self.c.submit(self.pid_script("last", then=wait_for % end_last + "exit 0"), "--nodes", "2")
        for job_id in (ok, bad, last):
            self.c.wait_state(job_id, "RUNNING")
        # A rank launched just before the master goes: it starts in the outage.
        late = self.c.submit(self.pid_script("late", then="sleep 3; exit 0"))
        self.c.wait_state(late, "RUNNING")
        self.c.stop_master(signal.SIGKILL)
        pids = self.c.wait_pid_files(6, timeout=60)

        # The outage: two jobs end in its first minute, the late one has
        # started and ended already; the last runs on through.
        started = time.monotonic()
        time.sleep(20)
        for marker in (end_ok, end_bad):
            with open(marker, "w"):
                pass
        time.sleep(max(0, OUTAGE_S - (time.monotonic() - started)))
        for name, pid in pids.items():
            if name.startswith("last-"):
                self.assertTrue(pid_alive(pid), "%s died while the master was away" % name)
        for name in ("node1", "node2"):
            self.assertIsNone(self.c.agents[name].poll(), "agent %s gave up on the master" % name)

        self.c.start_master()
        # No node is declared DOWN for the master's own absence.
        deadline = time.monotonic() + 3 * self.NODE_TIMEOUT
        seen = set()
        while time.monotonic() < deadline:
            seen.update(n["state"] for n in self.c.nodes())
            time.sleep(0.2)
        self.assertNotIn("DOWN", seen)

        self.assertEqual((self.c.wait_state(ok, "COMPLETED")["attempt"]), 1)
        failed = self.c.wait_state(bad, "FAILED")
        self.assertEqual((failed["attempt"], failed["exit_code"]), (1, 3))
        self.assertEqual(self.c.wait_state(late, "COMPLETED")["attempt"], 1)
        running = self.c.show(last)
        self.assertEqual((running["state"], running["attempt"]), ("RUNNING", 1))
        with open(end_last, "w"):
            pass
        self.assertEqual(self.c.wait_state(last, "COMPLETED")["attempt"], 1)
        # Each exit counted once: every task of every job ended once, in its
        # own attempt, and the nodes hold nothing now.
        for job_id in (ok, bad, late, last):
            job = self.c.show(job_id)
            self.assertTrue(all(t["state"] in ("COMPLETED", "FAILED") for t in job["tasks"]), job["tasks"])
        self.c.wait_all_free()


if __name__ == "__main__":
    unittest.main()
