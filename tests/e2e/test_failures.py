"""End to end: a failing rank, cancel, a dead agent and time limits all end the
whole gang, and no rank process outlives its job."""

import os
import signal
import unittest

from harness import ClusterTestCase, pid_alive


class FailingRank(ClusterTestCase):
    AGENTS = 2

    def test_a_rank_exiting_non_zero_fails_the_job_with_its_code_and_kills_its_peers(self):
        # Rank 1 waits until its three peers run, then exits 3.
        script = self.pid_script(
            "gang",
            then='if [ "$CADRE_RANK" = 1 ]; then i=0; '
            'while [ "$(ls %s | grep -c "^gang-.*\\.pid$")" -lt 4 ]; do i=$((i+1)); [ $i -gt 600 ] && exit 99; '
            "sleep 0.1; done; exit 3; fi; exec sleep 300" % self.c.markers,
        )
        job_id = self.c.submit(script, "--nodes", "2", "--tasks-per-node", "2")
        job = self.c.wait_state(job_id, ("FAILED",))
        self.assertEqual(job["exit_code"], 3, job)
        self.assertIn("rank 1", job["reason"])

        pids = self.c.read_pids("gang-")
        self.assertEqual(len(pids), 4, "not every rank started: %s" % pids)
        peers = {name: pid for name, pid in pids.items() if name != "gang-1.pid"}
        self.c.wait_pids_gone(peers)

        job = self.c.show(job_id)
        tasks = {t["rank"]: t for t in job["tasks"]}
        self.assertEqual(tasks[1]["state"], "FAILED")
        self.assertEqual(tasks[1]["exit_code"], 3)
        # Once every peer is reaped, nothing is held any more.
        self.c.wait_all_free(["node1", "node2"])
        self.assertEqual(self.c.show(job_id)["state"], "FAILED")


    def test_a_rank_that_cannot_start_fails_the_job_with_127_and_kills_the_started_peers(self):
        # Only node1 has a folder for its output file, so node2's rank
        # cannot start while node1's can.
        os.makedirs(self.c.path("out-node1"))
        job_id = self.c.submit(
            self.pid_script("started"), "--nodes", "2", "--output", self.c.path("out-%N", "rank-%t.out")
        )
        job = self.c.wait_state(job_id, "FAILED")
        self.assertEqual(job["exit_code"], 127, job)
        self.assertIn("could not start on node2", job["reason"])
        self.assertIn("out-node2", job["reason"])
        self.c.wait_pids_gone(self.c.read_pids("started-"))
        self.c.wait_all_free(["node1", "node2"])

    def test_a_rank_killed_by_a_signal_fails_the_job_with_128_plus_the_signal(self):
        job_id = self.c.submit("kill -9 $$")
        job = self.c.wait_state(job_id, "FAILED")
        self.assertEqual(job["exit_code"], 137)
        self.assertIn("signal 9", job["reason"])


class Cancel(ClusterTestCase):
    AGENTS = 2

    def test_cancelling_a_running_gang_kills_every_rank_and_its_children(self):
        # Each rank leaves a child in the background, so killing only the
        # rank's own process would not be enough.
        script = self.pid_script(
            "rank", then="sleep 300 & echo $! > %s/child-$CADRE_RANK.pid; wait" % self.c.markers
        )
        job_id = self.c.submit(script, "--nodes", "2", "--tasks-per-node", "2", "--gpus-per-task", "1")
        self.c.wait_state(job_id, "RUNNING")
        ranks = self.c.wait_pid_files(4, "rank-")
        children = self.c.wait_pid_files(4, "child-")
        self.assertTrue(all(pid_alive(p) for p in list(ranks.values()) + list(children.values())))

        r = self.c.cancel(job_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        job = self.c.wait_state(job_id, "CANCELLED")
        self.assertEqual(job["state"], "CANCELLED")
        self.c.wait_pids_gone({**ranks, **children})

        # A second cancel of an ended job is refused, and the state stays.
        again = self.c.cli("cancel", str(job_id), check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertEqual(self.c.show(job_id)["state"], "CANCELLED")

    def test_cancelling_a_pending_job_means_it_never_starts(self):
        holder = self.c.submit(self.pid_script("holder"), "--nodes", "2", "--gpus-per-task", "4")
        self.c.wait_state(holder, "RUNNING")
        never = self.c.marker("never-ran")
        pending = self.c.submit("touch %s" % never, "--gpus-per-task", "1")
        self.c.wait_state(pending, "PENDING")
        self.c.cancel(pending)
        self.c.wait_state(pending, "CANCELLED")
        self.c.cancel(holder)
        self.c.wait_state(holder, "CANCELLED")
        # The freed GPUs must not resurrect the cancelled job.
        for n in ("node1", "node2"):
            self.c.wait_node_state(n, "UP")
        follower = self.c.submit("true", "--nodes", "2", "--gpus-per-task", "4")
        self.c.wait_state(follower, "COMPLETED")
        self.assertEqual(self.c.show(pending)["state"], "CANCELLED")
        self.assertFalse(os.path.exists(never), "a cancelled pending job ran")


class AgentDeath(ClusterTestCase):
    AGENTS = 2
    NODE_TIMEOUT = 2

    def test_sigkilled_agent_marks_its_node_down_fails_the_job_and_kills_the_surviving_ranks(self):
        script = self.pid_script("rank", then="echo $CADRE_NODE_NAME > %s/node-$CADRE_RANK; exec sleep 300"
                                 % self.c.markers)
        job_id = self.c.submit(script, "--nodes", "2", "--tasks-per-node", "2", "--gpus-per-task", "1",
                               "--no-requeue")
        job = self.c.wait_state(job_id, "RUNNING")
        pids = self.c.wait_pid_files(4, "rank-")
        self.assertEqual(sorted(job["nodes"]), ["node1", "node2"])
        where = {t["rank"]: t["node"] for t in job["tasks"]}

        victim = where[1]
        survivor = next(n for n in job["nodes"] if n != victim)
        self.c.kill_agent(victim, signal.SIGKILL)

        self.c.wait_node_state(victim, "DOWN")
        job = self.c.wait_state(job_id, "NODE_FAIL")
        self.assertIn(victim, job["reason"])
        on_survivor = {"rank-%d.pid" % r: pids["rank-%d.pid" % r] for r, n in where.items() if n == survivor}
        on_victim = {"rank-%d.pid" % r: pids["rank-%d.pid" % r] for r, n in where.items() if n == victim}
        self.assertEqual(len(on_survivor), 2)
        # The master kills the ranks on the live node.
        self.c.wait_pids_gone(on_survivor)
        self.assertEqual(self.c.node(survivor)["state"], "UP")
        self.c.wait_all_free([survivor])
        self.assertEqual(self.c.show(job_id)["state"], "NODE_FAIL")

        # The dead agent's ranks outlive it under their supervisors; when
        # the agent comes back and reports them, the master has them killed.
        for pid in on_victim.values():
            os.kill(pid, 0)  # still alive: raises if not
        self.c.start_agent(victim)
        self.c.wait_pids_gone(on_victim)
        self.c.wait_node_state(victim, "UP")
        self.c.wait_all_free([victim])

    def test_agent_restarted_mid_job_keeps_its_ranks_and_the_job_completes(self):
        go = os.path.join(self.c.markers, "go")
        script = self.pid_script("rank", then="while [ ! -e %s ]; do sleep 0.1; done; exit 0" % go)
        job_id = self.c.submit(script, "--nodes", "2")
        self.c.wait_state(job_id, "RUNNING")
        pids = self.c.wait_pid_files(2, "rank-")
        self.c.kill_agent("node2", signal.SIGKILL)
        self.c.start_agent("node2")
        self.c.wait_node_state("node2", "UP")
        for pid in pids.values():
            os.kill(pid, 0)  # the original ranks still run: raises if not
        with open(go, "w"):
            pass
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(job["attempt"], 1, "the job must finish with its original ranks")
        self.assertEqual([t["state"] for t in job["tasks"]], ["COMPLETED", "COMPLETED"])
        self.c.wait_all_free(["node1", "node2"])

    def test_restarted_agent_brings_its_node_back_up_for_new_jobs(self):
        self.c.kill_agent("node2", signal.SIGKILL)
        self.c.wait_node_state("node2", "DOWN")
        # While node2 is down a two-node job waits ...
        job_id = self.c.submit("true", "--nodes", "2")
        self.assertEqual(self.c.wait_state(job_id, "PENDING")["tasks"], [])
        # ... and runs once it is back.
        self.c.start_agent("node2")
        self.c.wait_node_state("node2", "UP")
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(sorted(job["nodes"]), ["node1", "node2"])


class NodeLoss(ClusterTestCase):
    AGENTS = 3
    NODE_TIMEOUT = 2

    def test_a_node_that_stays_dead_gets_its_gang_requeued_and_completed_elsewhere(self):
        # Attempt 1 hangs; the requeued attempt 2 finishes at once.
        script = self.pid_script(
            "rank", then='if [ "$CADRE_ATTEMPT" = 1 ]; then exec sleep 300; fi; echo "attempt $CADRE_ATTEMPT"')
        job_id = self.c.submit(script, "--nodes", "2")
        job = self.c.wait_state(job_id, "RUNNING")
        self.c.wait_pid_files(2, "rank-")
        victim = job["tasks"][1]["node"]
        self.c.kill_agent(victim, signal.SIGKILL)
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(job["attempt"], 2)
        self.assertNotIn(victim, job["nodes"])
        self.assertEqual(len(set(job["nodes"])), 2)
        self.assertEqual(self.c.node(victim)["state"], "DOWN")


class TimeLimit(ClusterTestCase):
    AGENTS = 1

    def test_job_over_its_time_limit_ends_timeout_and_its_rank_is_killed(self):
        job_id = self.c.submit(self.pid_script("slow"), "--time", "0:02")
        job = self.c.wait_state(job_id, "RUNNING")
        self.assertEqual(job["time_limit"], 2)
        pids = self.c.wait_pid_files(1, "slow-")
        job = self.c.wait_state(job_id, "TIMEOUT")
        self.assertIn("time limit", job["reason"])
        self.c.wait_pids_gone(pids)


if __name__ == "__main__":
    unittest.main()
