"""End to end: a real PyTorch DDP job (Debian's python3-torch, gloo on CPU)
as a 2-node x 2-task gang, and two of them side by side on the same nodes
(each job's MASTER_PORT must be its own)."""

import json
import os
import subprocess
import textwrap
import unittest

from harness import ClusterTestCase

PYTHON = "/usr/bin/python3"

TRAIN = textwrap.dedent(
    """
    # A tiny DDP training run: every rank checks an all_reduce and, after a
    # few steps, that its parameters equal rank 0's.
    import json, os, sys
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])

    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    expected = world * (world + 1) / 2
    assert t.item() == expected, "all_reduce gave %s, expected %s" % (t.item(), expected)

    torch.manual_seed(1234 + rank)  # different data (and start) per rank; DDP syncs the start
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(5):
        x, y = torch.randn(16, 8), torch.randn(16, 1)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    same = all(torch.equal(gathered[0], g) for g in gathered)
    print(json.dumps({
        "rank": rank, "world": world, "all_reduce": t.item(), "params_equal": same,
        "node": os.environ["CADRE_NODE_NAME"], "local_rank": int(os.environ["LOCAL_RANK"]),
        "master": "%s:%s" % (os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]),
        "param_sum": float(flat.sum()),
    }))
    dist.destroy_process_group()
    sys.exit(0 if same else 3)
    """
)


def torch_available():
    if not os.access(PYTHON, os.X_OK):
        return False
    r = subprocess.run([PYTHON, "-c", "import torch.distributed as d; assert d.is_gloo_available()"],
                       capture_output=True, timeout=120)
    return r.returncode == 0


@unittest.skipUnless(torch_available(), "Debian's python3-torch is not installed (scripts/test installs it)")
class PyTorchDdp(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def results(self, job_id, ranks):
        out = []
        for rank in range(ranks):
            with open(self.c.output(job_id, rank)) as f:
                text = f.read()
            lines = [l for l in text.splitlines() if l.startswith("{")]
            self.assertEqual(len(lines), 1, "rank %d printed:\n%s" % (rank, text))
            out.append(json.loads(lines[0]))
        return out

    def test_a_two_node_ddp_gang_trains_with_equal_parameters_on_every_rank(self):
        with open(self.c.path("train.py"), "w") as f:
            f.write(TRAIN)
        job_id = self.c.submit([PYTHON, "train.py"], "--nodes", "2", "--tasks-per-node", "2", "--mem-per-task", "2G")
        job = self.c.wait_state(job_id, ("COMPLETED", "FAILED"), timeout=240)
        results = self.results(job_id, 4)
        self.assertEqual(job["state"], "COMPLETED", results)
        for rank, r in enumerate(results):
            self.assertEqual(r["rank"], rank)
            self.assertEqual(r["world"], 4)
            self.assertEqual(r["all_reduce"], 10.0)
            self.assertTrue(r["params_equal"], r)
            self.assertEqual(r["local_rank"], rank % 2)
        self.assertEqual({r["node"] for r in results[:2]} & {r["node"] for r in results[2:]}, set(),
                         "ranks 0-1 and 2-3 must be on different nodes")
        self.assertEqual(len({r["param_sum"] for r in results}), 1)
        self.assertEqual(len({r["master"] for r in results}), 1)

    def test_two_gangs_on_the_same_nodes_get_their_own_master_port(self):
        with open(self.c.path("train.py"), "w") as f:
            f.write(TRAIN)
        # Each gang takes one task per node: both run at once on both nodes.
        jobs = [self.c.submit([PYTHON, "train.py"], "--nodes", "2", "--mem-per-task", "2G") for _ in range(2)]
        masters = []
        for job_id in jobs:
            job = self.c.wait_state(job_id, ("COMPLETED", "FAILED"), timeout=240)
            results = self.results(job_id, 2)
            self.assertEqual(job["state"], "COMPLETED", results)
            self.assertTrue(all(r["params_equal"] for r in results))
            masters.append(results[0]["master"])
        self.assertNotEqual(masters[0], masters[1], "both jobs rendezvoused at %s" % masters[0])


if __name__ == "__main__":
    unittest.main()
