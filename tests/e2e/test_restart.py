"""End to end: the master's state survives a restart, clean or not."""

import os
import signal
import time
import unittest

from harness import ClusterTestCase, free_port, pid_alive


class LongMasterOutage(ClusterTestCase):
    AGENTS = 2
    NODE_TIMEOUT = 2

    def test_master_away_longer_than_the_node_timeout_finds_its_gangs_still_running(self):
        go = self.c.marker("go")
        script = self.pid_script("rank", then="while [ ! -e %s ]; do sleep 0.1; done; exit 0" % go)
        job_id = self.c.submit(script, "--nodes", "2")
        self.c.wait_state(job_id, "RUNNING")
        pids = self.c.wait_pid_files(2, "rank-")
        self.c.stop_master(signal.SIGKILL)
        # Away for twice the node timeout; the ranks keep running meanwhile.
        time.sleep(2 * self.NODE_TIMEOUT + 1)
        for pid in pids.values():
            self.assertTrue(pid_alive(pid), "a rank died while the master was away")
        self.c.start_master()
        # No node is declared DOWN for the master's own absence.
        deadline = time.monotonic() + 3 * self.NODE_TIMEOUT
        seen = set()
        while time.monotonic() < deadline:
            for n in self.c.nodes():
                seen.add(n["state"])
            time.sleep(0.1)
        self.assertNotIn("DOWN", seen)
        self.c.wait_node_state("node1", "UP")
        self.c.wait_node_state("node2", "UP")
        job = self.c.show(job_id)
        self.assertEqual((job["state"], job["attempt"]), ("RUNNING", 1))
        with open(go, "w"):
            pass
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(job["attempt"], 1)


class MasterRestart(ClusterTestCase):
    AGENTS = 2
    GPUS = 4
    NODE_TIMEOUT = 4

    def _jobs_in_every_state(self):
        """Leaves one job COMPLETED, one FAILED, one CANCELLED, one RUNNING
        (holding every GPU) and one PENDING behind it. Returns {label: id}."""
        jobs = {}
        jobs["completed"] = self.c.submit("true")
        self.c.wait_state(jobs["completed"], "COMPLETED")
        jobs["failed"] = self.c.submit("exit 5")
        self.c.wait_state(jobs["failed"], "FAILED")
        jobs["running"] = self.c.submit(self.pid_script("running"), "--nodes", "2", "--gpus-per-task", "4")
        self.c.wait_state(jobs["running"], "RUNNING")
        self.c.wait_pid_files(2, "running-")
        jobs["cancelled"] = self.c.submit("true", "--gpus-per-task", "1")
        self.c.cancel(jobs["cancelled"])
        self.c.wait_state(jobs["cancelled"], "CANCELLED")
        jobs["pending"] = self.c.submit("touch %s" % self.c.marker("pending-ran"), "--gpus-per-task", "2")
        self.c.wait_state(jobs["pending"], "PENDING")
        return jobs

    def _snapshot(self, jobs):
        out = {}
        for label, job_id in jobs.items():
            j = self.c.show(job_id)
            out[label] = {
                "id": j["id"],
                "state": j["state"],
                "exit_code": j["exit_code"],
                "attempt": j["attempt"],
                "command": j["command"],
                "nodes": sorted(j["nodes"]),
                "tasks": sorted((t["rank"], t["node"], tuple(t["gpus"])) for t in j["tasks"]),
            }
        return out

    def test_master_restarted_after_sigterm_shows_every_job_in_the_same_state(self):
        jobs = self._jobs_in_every_state()
        before = self._snapshot(jobs)
        self.assertEqual(before["failed"]["exit_code"], 5)
        running_pids = self.c.read_pids("running-")

        code = self.c.restart_master(signal.SIGTERM)
        self.assertEqual(code, 0, "cadre-master did not exit cleanly on SIGTERM")

        self.assertEqual(self._snapshot(jobs), before)
        listed = {j["id"]: j["state"] for j in self.c.queue(all_jobs=True)}
        for label, job_id in jobs.items():
            self.assertEqual(listed.get(job_id), before[label]["state"], "cadre queue --all: %s job" % label)
        # The gang kept running through the restart.
        self.assertTrue(all(pid_alive(p) for p in running_pids.values()), "a rank died with the master")

        # The restored master still schedules: freeing the GPUs starts the
        # pending job, and new ids continue after the old ones.
        self.c.cancel(jobs["running"])
        self.c.wait_state(jobs["running"], "CANCELLED")
        self.c.wait_pids_gone(running_pids)
        self.c.wait_state(jobs["pending"], "COMPLETED")
        self.assertTrue(os.path.exists(self.c.marker("pending-ran")))
        new_id = self.c.submit("true")
        self.assertGreater(new_id, max(jobs.values()))

    def test_cancel_sent_before_the_nodes_register_with_a_restarted_master_still_kills_every_rank(self):
        job_id = self.c.submit(self.pid_script("rank"), "--nodes", "2", "--gpus-per-task", "4")
        self.c.wait_state(job_id, "RUNNING")
        pids = self.c.wait_pid_files(2, "rank-")

        # Freeze the agents (their ranks keep running) so they cannot
        # register with the new master before the cancel: its kill commands
        # find no registered node to go to.
        for name in self.c.agents:
            self.c.kill_agent(name, signal.SIGSTOP)
        try:
            self.c.restart_master(signal.SIGTERM, wait_nodes=False)
            self.c.cancel(job_id)
            self.assertEqual(self.c.show(job_id)["state"], "CANCELLED")
        finally:
            for name in self.c.agents:
                self.c.kill_agent(name, signal.SIGCONT)
        self.c.wait_nodes_up()

        self.c.wait_pids_gone(pids)
        self.c.wait_all_free(["node1", "node2"])
        follower = self.c.submit("true", "--nodes", "2", "--gpus-per-task", "4")
        self.c.wait_state(follower, "COMPLETED")
        self.assertEqual(self.c.show(job_id)["state"], "CANCELLED")

    def test_time_limit_still_applies_after_a_master_crash(self):
        job_id = self.c.submit(self.pid_script("slow"), "--time", "0:03")
        self.c.wait_state(job_id, "RUNNING")
        pids = self.c.wait_pid_files(1, "slow-")
        self.c.restart_master(signal.SIGKILL)
        job = self.c.wait_state(job_id, "TIMEOUT")
        self.assertIn("time limit", job["reason"])
        self.c.wait_pids_gone(pids)

    def test_second_master_on_the_same_state_dir_refuses_to_start(self):
        other = self.c._spawn(
            [self.c.master_bin, "--listen", "tcp://127.0.0.1:%d" % free_port(), "--state-dir", self.c.state_dir],
            "second-master.log",
        )
        try:
            code = other.wait(timeout=30)
        finally:
            if other.poll() is None:
                other.kill()
                other.wait()
        self.assertNotEqual(code, 0)
        with open(os.path.join(self.c.logs, "second-master.log")) as f:
            self.assertIn(self.c.state_dir, f.read())
        # The first master is unharmed.
        self.assertIsNone(self.c.master.poll())
        self.c.wait_state(self.c.submit("true"), "COMPLETED")

    def test_master_restarted_after_sigkill_still_knows_every_acknowledged_job(self):
        jobs = self._jobs_in_every_state()
        # A burst of submissions right before the crash: each acknowledged id
        # must have been on disk before the acknowledgement.
        burst = [self.c.submit("true", "--gpus-per-task", "1") for _ in range(5)]
        before = self._snapshot(jobs)

        self.c.restart_master(signal.SIGKILL)

        self.assertEqual(self._snapshot(jobs), before)
        for job_id in burst:
            j = self.c.show(job_id)
            self.assertEqual(j["id"], job_id)
            self.assertIn(j["state"], ("PENDING", "CANCELLED", "RUNNING", "COMPLETED"), j)
        new_id = self.c.submit("true")
        self.assertGreater(new_id, max(list(jobs.values()) + burst), "a job id was handed out twice")

        self.c.cancel(jobs["running"])
        for job_id in [jobs["pending"]] + burst + [new_id]:
            self.c.wait_state(job_id, "COMPLETED")


if __name__ == "__main__":
    unittest.main()
