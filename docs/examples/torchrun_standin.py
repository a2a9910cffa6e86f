#!/usr/bin/env python3
"""A stand-in for torchrun, so that torchrun_ddp.sh runs where PyTorch is
not installed (CI, a laptop).

It takes torchrun's options (--nnodes, --nproc-per-node, --node-rank,
--rdzv-id, --rdzv-backend, --rdzv-endpoint, with '-' or '_'), starts
--nproc-per-node workers on this node with the environment torchrun gives
its workers (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID), and exits with the worst
worker's exit code, as torchrun does.

Where torchrun would run the training script, each worker checks what it
was given instead, prints one line, and exits 1 when something does not
add up:

    worker rank=2 local_rank=0 world_size=4 node=node2 node_rank=1 gpu=0 visible=0,1 rdzv=node1:29517 ok

The node rank comes from SLURM_NODEID, as with torchrun's static
rendezvous (--node-rank=$SLURM_NODEID); the c10d backend would hand out
the same numbers in some order.
"""

import os
import subprocess
import sys


def parse(argv):
    opts = {"nnodes": "1", "nproc_per_node": "1", "node_rank": None, "rdzv_id": "none",
            "rdzv_backend": "static", "rdzv_endpoint": "127.0.0.1:29500"}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        name, eq, value = argv[i][2:].partition("=")
        name = name.replace("-", "_")
        if name not in opts:
            sys.exit("torchrun_standin: unknown option --%s" % name)
        if not eq:
            i += 1
            value = argv[i]
        opts[name] = value
        i += 1
    if i >= len(argv):
        sys.exit("torchrun_standin: no training script given")
    return opts, argv[i:]


def fail(message):
    print("worker rank=%s: %s" % (os.environ.get("RANK"), message), flush=True)
    sys.exit(1)


def worker():
    """One worker: what a training script would read, checked."""
    env = os.environ
    rank, local_rank = int(env["RANK"]), int(env["LOCAL_RANK"])
    world, local_world = int(env["WORLD_SIZE"]), int(env["LOCAL_WORLD_SIZE"])
    node_rank = int(env["GROUP_RANK"])
    node = env.get("SLURMD_NODENAME", "?")
    visible = [d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d]
    host, _, port = env["TORCHRUN_STANDIN_RDZV"].rpartition(":")
    if rank != node_rank * local_world + local_rank:
        fail("RANK %d is not GROUP_RANK*LOCAL_WORLD_SIZE+LOCAL_RANK" % rank)
    if not 0 <= rank < world:
        fail("RANK %d outside WORLD_SIZE %d" % (rank, world))
    if len(visible) < local_world:
        fail("%d workers on this node but CUDA_VISIBLE_DEVICES=%r" % (local_world, ",".join(visible)))
    if (node_rank == 0) != (node == host):
        fail("node %s (node rank %d) but the rendezvous host is %s" % (node, node_rank, host))
    if (env["MASTER_ADDR"], env["MASTER_PORT"]) != (host, port):
        fail("MASTER_ADDR:MASTER_PORT %s:%s, rendezvous %s:%s" % (env["MASTER_ADDR"], env["MASTER_PORT"], host, port))
    # torch.cuda.set_device(LOCAL_RANK): the worker's own GPU.
    print("worker rank=%d local_rank=%d world_size=%d node=%s node_rank=%d gpu=%s visible=%s rdzv=%s:%s ok"
          % (rank, local_rank, world, node, node_rank, visible[local_rank], ",".join(visible), host, port),
          flush=True)


def main():
    if os.environ.get("TORCHRUN_STANDIN_WORKER"):
        worker()
        return 0
    opts, script = parse(sys.argv[1:])
    nnodes, nproc = int(opts["nnodes"]), int(opts["nproc_per_node"])
    node_rank = int(opts["node_rank"] if opts["node_rank"] is not None else os.environ.get("SLURM_NODEID", "0"))
    if not 0 <= node_rank < nnodes:
        sys.exit("torchrun_standin: node rank %d of %d nodes" % (node_rank, nnodes))
    host, _, port = opts["rdzv_endpoint"].rpartition(":")
    workers = []
    for local_rank in range(nproc):
        env = dict(os.environ, TORCHRUN_STANDIN_WORKER="1", TORCHRUN_STANDIN_RDZV=opts["rdzv_endpoint"],
                   TORCHRUN_STANDIN_SCRIPT=" ".join(script), TORCHELASTIC_RUN_ID=opts["rdzv_id"],
                   RANK=str(node_rank * nproc + local_rank), LOCAL_RANK=str(local_rank),
                   WORLD_SIZE=str(nnodes * nproc), LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(node_rank),
                   MASTER_ADDR=host, MASTER_PORT=port)
        workers.append(subprocess.Popen([sys.executable, os.path.abspath(__file__)], env=env))
    return max(w.wait() for w in workers)


if __name__ == "__main__":
    sys.exit(main())
