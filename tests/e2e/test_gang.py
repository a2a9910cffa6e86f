"""End to end: gang placement, rank environment, waiting for resources, --wait."""

import os
import subprocess
import time
import unittest

from harness import CLI_TIMEOUT, ClusterTestCase, parse_env, pid_alive


class GangPlacement(ClusterTestCase):
    AGENTS = 3
    GPUS = 4

    def test_two_node_gang_completes_with_disjoint_gpus_and_a_consistent_rank_environment(self):
        started = self.c.marker("started")
        os.makedirs(started)
        # Every rank waits at a barrier for all four: the job only completes
        # if the whole gang ran at the same time.
        script = (
            'touch %(d)s/$CADRE_RANK; i=0; '
            'while [ "$(ls %(d)s | wc -l)" -lt 4 ]; do i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.1; done; '
            'env; echo ---hostfile---; cat "$CADRE_HOSTFILE"' % {"d": started}
        )
        job_id = self.c.submit(script, "--nodes", "2", "--tasks-per-node", "2", "--gpus-per-task", "2")
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(job["exit_code"], 0)

        envs, hostfiles = {}, {}
        for rank in range(4):
            path = self.c.output(job_id, rank)
            self.assertTrue(os.path.exists(path), "rank %d wrote no output file %s" % (rank, path))
            with open(path) as f:
                env_text, _, hostfile = f.read().partition("---hostfile---\n")
            envs[rank] = parse_env(env_text)
            hostfiles[rank] = hostfile
        self.assertFalse(os.path.exists(self.c.output(job_id, 4)), "a fifth rank ran")

        addresses = {n["name"]: n["address"] for n in self.c.nodes()}
        by_node = {}
        for rank, env in envs.items():
            self.assertEqual(env.get("CADRE_JOB_ID"), str(job_id))
            self.assertEqual(env.get("RANK"), str(rank))
            self.assertEqual(env.get("CADRE_RANK"), str(rank))
            self.assertEqual(env.get("WORLD_SIZE"), "4")
            self.assertEqual(env.get("CADRE_WORLD_SIZE"), "4")
            self.assertEqual(env.get("LOCAL_WORLD_SIZE"), "2")
            self.assertIn(env.get("CADRE_NODE_NAME"), addresses)
            by_node.setdefault(env["CADRE_NODE_NAME"], []).append(rank)

        self.assertEqual(len(by_node), 2, "ranks ran on %s, expected two distinct nodes" % by_node)
        node_of_rank0 = envs[0]["CADRE_NODE_NAME"]
        for node, ranks in by_node.items():
            self.assertEqual(len(ranks), 2, "node %s ran ranks %s, expected 2" % (node, ranks))
            self.assertEqual(sorted(envs[r]["LOCAL_RANK"] for r in ranks), ["0", "1"])
            self.assertEqual(sorted(envs[r]["CADRE_LOCAL_RANK"] for r in ranks), ["0", "1"])
            self.assertEqual(len({envs[r]["CADRE_NODE_RANK"] for r in ranks}), 1, "node rank differs on " + node)
            gpu_sets = []
            for r in ranks:
                devices = envs[r]["CUDA_VISIBLE_DEVICES"].split(",")
                self.assertEqual(len(devices), 2, "rank %d got CUDA_VISIBLE_DEVICES=%s" % (r, devices))
                self.assertTrue(all(d.isdigit() and 0 <= int(d) < 4 for d in devices), devices)
                gpu_sets.append(set(devices))
            self.assertFalse(gpu_sets[0] & gpu_sets[1], "ranks %s on %s share GPUs %s" % (ranks, node, gpu_sets))
        self.assertEqual(envs[0]["CADRE_NODE_RANK"], "0")
        self.assertEqual({envs[r]["CADRE_NODE_RANK"] for r in range(4)}, {"0", "1"})

        # One rendezvous point for the whole gang: rank 0's node.
        self.assertEqual({envs[r]["MASTER_ADDR"] for r in range(4)}, {addresses[node_of_rank0]})
        ports = {envs[r]["MASTER_PORT"] for r in range(4)}
        self.assertEqual(len(ports), 1, ports)
        first, last = self.c.master_ports
        self.assertTrue(first <= int(ports.pop()) <= last, "MASTER_PORT outside the cluster's --master-ports")
        nodelists = {envs[r]["CADRE_NODELIST"] for r in range(4)}
        self.assertEqual(len(nodelists), 1, nodelists)
        self.assertEqual(sorted(nodelists.pop().split(",")), sorted(by_node))
        for r in range(4):
            lines = sorted(line.split()[0] + " " + line.split()[1] for line in hostfiles[r].splitlines() if line)
            self.assertEqual(lines, sorted("%s slots=2" % n for n in by_node), "hostfile of rank %d" % r)

        # What `cadre show` reports agrees with what the ranks saw.
        self.assertEqual(sorted(job["nodes"]), sorted(by_node))
        tasks = {t["rank"]: t for t in job["tasks"]}
        self.assertEqual(sorted(tasks), [0, 1, 2, 3])
        for r, t in tasks.items():
            self.assertEqual(t["node"], envs[r]["CADRE_NODE_NAME"], "rank %d" % r)
            self.assertEqual([str(g) for g in t["gpus"]], envs[r]["CUDA_VISIBLE_DEVICES"].split(","), "rank %d" % r)
            self.assertEqual(t["state"], "COMPLETED")
            self.assertEqual(t["exit_code"], 0)

        # Everything was given back.
        self.c.wait_all_free(["node1", "node2", "node3"])

    def test_job_that_does_not_fit_stays_pending_without_starting_a_rank_until_resources_free_up(self):
        # The holder takes 3 of the 4 GPUs on every node.
        holder = self.c.submit(self.pid_script("holder"), "--nodes", "3", "--gpus-per-task", "3")
        self.c.wait_state(holder, "RUNNING")
        holder_pids = self.c.wait_pid_files(3, "holder-")

        started = self.c.marker("waiter")
        waiter = self.c.submit(
            "touch %s-$CADRE_RANK" % started, "--nodes", "2", "--gpus-per-task", "2"
        )
        job = self.c.wait_state(waiter, "PENDING")
        self.assertEqual(job["tasks"], [])
        # Watch it for a while: it must neither start nor leave the queue.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            job = self.c.show(waiter)
            self.assertEqual(job["state"], "PENDING", job)
            self.assertEqual(job["tasks"], [], job)
            time.sleep(0.2)
        # The first job that cannot start holds the EASY reservation: it
        # starts when the holder's time limit (none: planned as a year) ends.
        self.assertEqual(job["reason"], "Reservation", job)
        self.assertGreater(job["expected_start"], job["submit_time"], job)
        self.assertIn("fairshare", job["priority_explained"], job)
        for rank in range(2):
            self.assertFalse(os.path.exists("%s-%d" % (started, rank)), "rank %d of a pending job ran" % rank)
            self.assertFalse(os.path.exists(self.c.output(waiter, rank)), "a pending job created an output file")
        self.assertEqual(self.c.show(holder)["state"], "RUNNING")

        self.c.cancel(holder)
        self.assertEqual(self.c.wait_state(holder, "CANCELLED")["state"], "CANCELLED")
        done = self.c.wait_state(waiter, "COMPLETED")
        self.assertEqual(len(set(done["nodes"])), 2)
        for rank in range(2):
            self.assertTrue(os.path.exists("%s-%d" % (started, rank)), "rank %d never ran" % rank)
        self.c.wait_pids_gone(holder_pids)


class SubmitWait(ClusterTestCase):
    AGENTS = 2

    def test_submit_wait_exits_with_the_job_exit_code(self):
        r = self.c.cli("submit", "--wait", "--", "sh", "-c", "exit 7", check=False)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("Submitted job", r.stdout)

    def test_submit_wait_exits_zero_when_every_rank_succeeds(self):
        r = self.c.cli("submit", "--wait", "--nodes", "2", "--", "true", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("COMPLETED", r.stderr)

    def test_submit_wait_exits_with_the_code_of_the_failing_rank_of_a_gang(self):
        r = self.c.cli(
            "submit", "--wait", "--ntasks", "3", "--",
            "sh", "-c", '[ "$CADRE_RANK" = 2 ] && exit 5; exit 0', check=False,
        )
        self.assertEqual(r.returncode, 5, r.stderr)

    def test_submit_wait_exits_non_zero_when_the_job_is_cancelled(self):
        argv = [self.c.cli_bin, "--master", self.c.endpoint, "submit", "--parsable", "--wait", "--",
                "sh", "-c", self.pid_script("waited")]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.c.tmp)
        try:
            job_id = int(p.stdout.readline().strip())
            self.c.wait_state(job_id, "RUNNING")
            pids = self.c.wait_pid_files(1, "waited-")
            self.c.cancel(job_id)
            out, err = p.communicate(timeout=CLI_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertNotEqual(p.returncode, 0, err)
        self.assertIn("CANCELLED", err)
        self.c.wait_pids_gone(pids)
        self.assertFalse(any(pid_alive(pid) for pid in pids.values()))


if __name__ == "__main__":
    unittest.main()
