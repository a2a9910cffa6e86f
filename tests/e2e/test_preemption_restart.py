"""End to end: a master killed in the middle of a preemption, at the two
steps where a crash could make a victim and its preemptor share a GPU, lose
the victim, or run it twice:

  (a) preempt-before-commit: the pass has decided to stop the victim, but
      nothing of that turn is in the database; the restarted master must
      find the victim still running and decide again;
  (b) preempt-after-commit: the victim's requeue is committed, but no kill
      has gone out; the restarted master must stop the victim's ranks
      (still running) before the preemptor starts.

The master reaches each step deterministically through its testing-only
CADRE_FAULT_POINT seam (master/server/fault_point.hpp), which SIGKILLs it
there. Every rank writes a GPU ledger (gpu_ledger.py): the test checks that
no GPU of a node was held by two ranks at once, that the victim's first
attempt was stopped and its second ran exactly once to the end, and that
the preemptor ran once.

The preemption must happen in a turn that commits nothing else the test
needs (a turn that dies uncommitted loses its client requests too), so the
preemptor waits on drained nodes first and the preempting pass comes with
`cadre resume`.
"""

import json
import os
import shutil
import signal
import sqlite3
import unittest

import gpu_ledger
from harness import STATE_TIMEOUT, TWO_TIERS, Cluster, ClusterTestCase, wait_until

CONFIG = """
[scheduler]
interval = "1s"
""" + TWO_TIERS


class PreemptionRestart(ClusterTestCase):
    NODES = ("node1", "node2")

    def setUp(self):
        # Started by each test, once it has armed the fault point.
        self.c = Cluster(agents=len(self.NODES), gpus=4, name=type(self).__name__.lower(), config=CONFIG)
        self.addCleanup(self._stop_cluster)
        self.ledger = self.c.path("gpu-ledger")
        open(self.ledger, "w").close()

    # Helpers ------------------------------------------------------------

    def victim_script(self):
        """First attempt: holds its GPUs until SIGTERM (at most 2 minutes: a
        hang guard, which fails the job). Later attempts: 1 s of work."""
        body = ('if [ "$CADRE_ATTEMPT" -gt 1 ]; then sleep 1 & wait $!; '
                'else sleep 120 & wait $!; exit 9; fi')
        return gpu_ledger.wrap(self.ledger, body)

    def preemptor_script(self):
        return gpu_ledger.wrap(self.ledger, "sleep 1.5 & wait $!")

    def spans(self, job_id=None):
        spans, bad = gpu_ledger.read(self.ledger)
        self.assertEqual(bad, [], "torn or doubled ledger lines")
        return {k: s for k, s in spans.items() if job_id is None or s.job == job_id}

    def committed(self):
        """What the database holds, read from a copy of its files (the
        master is dead: its WAL is replayed into the copy, not the original).
        {job id: (state, reason)}, {(job id, rank): task state}."""
        snap = self.c.path("db-copy")
        os.makedirs(snap)
        for suffix in ("", "-wal"):
            src = os.path.join(self.c.state_dir, "cadre.db" + suffix)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(snap, "cadre.db" + suffix))
        con = sqlite3.connect(os.path.join(snap, "cadre.db"))
        try:
            jobs = {row[0]: (row[1], row[2]) for row in con.execute("SELECT id, state, reason FROM jobs")}
            tasks = {(row[0], row[1]): row[2] for row in con.execute("SELECT job_id, rank, state FROM tasks")}
        finally:
            con.close()
        return jobs, tasks

    def run_through_fault(self, point):
        """Starts the cluster with `point` armed, runs a low-tier gang on
        every GPU of both nodes, queues a high-tier job that needs half of
        them, and resumes the drained nodes: the pass that follows preempts
        the gang and the master SIGKILLs itself at `point`. Returns the
        victim's and the preemptor's ids."""
        self.c.master_env = {"CADRE_FAULT_POINT": point}
        self.c.start()
        # Started on purpose every time, so a misspelt point is not silent.
        with open(self.c.master_log(), errors="replace") as f:
            self.assertIn("CADRE_FAULT_POINT=%s" % point, f.read())

        victim = self.c.submit(self.victim_script(), "--nodes", "2", "--gpus-per-node", "4")
        self.assertEqual(self.c.wait_state(victim, "RUNNING")["partition"], "low")
        wait_until(lambda: len(self.spans(victim)) == 2, STATE_TIMEOUT, "both victim ranks to start")

        # On drained nodes the preemptor can preempt nobody: it is queued,
        # and its submission committed, in a turn of its own.
        self.c.cli("drain", *self.NODES, "--reason", "holding the preemptor back")
        preemptor = self.c.submit(self.preemptor_script(), "-p", "high", "--nodes", "2", "--gpus-per-node", "2")
        job = self.c.show(preemptor)
        self.assertEqual((job["state"], job["partition"]), ("PENDING", "high"), job)
        self.assertEqual(self.c.show(victim)["state"], "RUNNING")

        # The resume's pass preempts the victim: the master dies there, so
        # the resume gets no answer.
        r = self.c.cli("--timeout", "5", "resume", *self.NODES, check=False)
        self.assertNotEqual(r.returncode, 0, "resume was answered, so the master did not die in its turn")
        code = self.c.wait_master_exit(signal.SIGKILL)
        self.assertEqual(code, -signal.SIGKILL)
        with open(self.c.master_log(), errors="replace") as f:
            self.assertIn("fault point %s reached" % point, f.read())
        return victim, preemptor

    def restart_master(self):
        """Starts the master again, unarmed, and waits until both agents
        have registered with it (drained nodes count: they are not UP)."""
        self.c.master_env = {}
        self.c.start_master(new_port=False)

        def registered():
            r = self.c.cli("diag", "--json", check=False)
            return r.returncode == 0 and json.loads(r.stdout)["nodes"]["registered"] == len(self.NODES)

        wait_until(registered, STATE_TIMEOUT, "both agents to register with the restarted master", interval=0.2)

    def assert_victim_ranks_untouched(self, victim):
        """No kill went out before the master died: the victim's first
        attempt still runs on every rank."""
        spans = self.spans(victim)
        self.assertEqual(sorted(spans), [(victim, 1, 0), (victim, 1, 1)], spans)
        self.assertTrue(all(s.end is None for s in spans.values()), "a victim rank was stopped: %s" % spans)

    def assert_ran_right(self, victim, preemptor):
        """The preemptor ran once; the victim was stopped once and ran its
        second attempt once, to the end; no GPU was ever shared."""
        done = self.c.wait_state(preemptor, "COMPLETED")
        self.assertEqual((done["attempt"], done["preemptions"], done["exit_code"]), (1, 0, 0), done)
        done = self.c.wait_state(victim, "COMPLETED")
        self.assertEqual((done["attempt"], done["preemptions"], done["exit_code"]), (2, 1, 0), done)
        self.c.wait_all_free()

        spans = self.spans()
        self.assertEqual(sorted(spans), sorted([(victim, a, r) for a in (1, 2) for r in (0, 1)]
                                               + [(preemptor, 1, r) for r in (0, 1)]),
                         "each attempt's ranks ran exactly once")
        for key, s in spans.items():
            self.assertIsNotNone(s.end, "rank %s never recorded its end: %s" % (key, s))
            self.assertEqual(len(s.gpus), 4 if key[0] == victim else 2, s)
        overlaps = gpu_ledger.overlaps(spans)
        self.assertEqual(overlaps, [], "GPUs held by two ranks at once")
        # The preemptor ran on GPUs its victim had, only after the victim
        # let go of them, and before the victim's second attempt.
        victim_first_end = max(s.end for k, s in spans.items() if k[:2] == (victim, 1))
        preemptor_start = min(s.start for k, s in spans.items() if k[0] == preemptor)
        preemptor_end = max(s.end for k, s in spans.items() if k[0] == preemptor)
        victim_second_start = min(s.start for k, s in spans.items() if k[:2] == (victim, 2))
        self.assertLessEqual(victim_first_end, preemptor_start)
        self.assertLessEqual(preemptor_end, victim_second_start)

    # Tests ----------------------------------------------------------------

    def test_master_killed_between_the_preemption_decision_and_its_commit_decides_again(self):
        victim, preemptor = self.run_through_fault("preempt-before-commit")
        jobs, tasks = self.committed()
        self.assertEqual(jobs[victim][0], "RUNNING", "the uncommitted preemption reached the database")
        self.assertEqual({tasks[(victim, r)] for r in (0, 1)}, {"RUNNING"})
        self.assertEqual(jobs[preemptor][0], "PENDING")
        self.assert_victim_ranks_untouched(victim)

        self.restart_master()
        # The resume died with its turn: the nodes are still drained, and
        # the victim runs on as if nothing had been decided.
        self.assertEqual({n["state"] for n in self.c.nodes()}, {"DRAIN"})
        job = self.c.show(victim)
        self.assertEqual((job["state"], job["attempt"], job["preemptions"]), ("RUNNING", 1, 0), job)
        self.assert_victim_ranks_untouched(victim)

        self.c.cli("resume", *self.NODES)
        self.assert_ran_right(victim, preemptor)

    def test_master_killed_after_committing_a_preemption_stops_the_victim_before_the_preemptor_starts(self):
        victim, preemptor = self.run_through_fault("preempt-after-commit")
        jobs, tasks = self.committed()
        self.assertEqual(jobs[victim], ("PENDING", "Preempted by job %d" % preemptor))
        self.assertEqual({tasks[(victim, r)] for r in (0, 1)}, {"KILLING"})
        self.assertEqual(jobs[preemptor][0], "PENDING")
        self.assert_victim_ranks_untouched(victim)

        # The restarted master holds the victim's GPUs until its ranks,
        # killed now, are gone.
        self.restart_master()
        self.assertEqual({n["state"] for n in self.c.nodes()}, {"UP"})
        self.assert_ran_right(victim, preemptor)


if __name__ == "__main__":
    unittest.main()
