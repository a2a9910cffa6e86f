"""bench/run's workloads, done the usual Slurm way (sbatch, squeue, srun),
for bench/compare-slurm. Each takes the run's config and returns
({figure key: value}, {details for --json}) under the same keys as
bench/cadre_workloads.py, so the two line up row by row. Every workload of
every repetition gets a fresh Slurm (as cadre gets a fresh cluster).

cfg carries the sizes, cfg.stamp (the start-stamp program, which names its
file by $SLURM_PROCID), cfg.workdir, cfg.slurm_nodes (4, or 1 when this
slurmd cannot run as several nodes on one host) and cfg.progress.
"""

import contextlib
import os
import sys
import tempfile
import time

import bench_lib  # bench/, on sys.path (bench/compare-slurm puts it there)
import slurm_cluster

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "e2e"))
from harness import read_number, wait_until  # noqa: E402

JOB_TIMEOUT = 120
FAILED_STATES = ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
                 "PREEMPTED")


class NotComparable(Exception):
    """This Slurm cannot run the workload as asked (said in the table as
    n/a with the reason; never a made-up figure)."""


@contextlib.contextmanager
def slurm(cfg, nodes, cpus, name):
    """A fresh Slurm with `nodes` nodes of `cpus` cpus (32 GiB each), always
    stopped; its log tails are printed when the body fails."""
    tmp = tempfile.mkdtemp(prefix="slurm-%s-" % name, dir=cfg.workdir)
    c = slurm_cluster.SlurmCluster(tmp, nodes, cpus, 32768)
    c.start()  # stops what it started when it fails
    try:
        yield c
    except Exception:
        cfg.progress("slurm workload %s failed; daemon logs:\n%s" % (name, c.log_tails()))
        raise
    finally:
        stuck = c.stop()
        if stuck:
            raise slurm_cluster.SlurmError("would not stop: " + ", ".join(stuck))


def job_id(out):
    """sbatch --parsable prints ID or ID;CLUSTER."""
    text = out.strip().split(";")[0]
    if not text.isdigit():
        raise RuntimeError("sbatch printed %r, expected a job id" % out.strip())
    return int(text)


def sbatch(c, *args):
    return job_id(c.run("sbatch", "--parsable", *args))


def queue(c, *args):
    """(job id, state) of the jobs squeue lists: pending, running, completing
    (-r: one line per array task)."""
    rows = []
    for line in c.run("squeue", "-h", "-r", "-o", "%i %T", *args).splitlines():
        words = line.split()
        if len(words) == 2:
            rows.append((words[0], words[1]))
    return rows


def check_all_pending(c, count, ids=None):
    """Every acknowledged job is in the queue, pending (the "hold"
    partition is down, so none may start)."""
    rows = queue(c, "-t", "all")
    states = {s for _, s in rows}
    if len(rows) != count or states - {"PENDING"}:
        raise RuntimeError("expected %d pending jobs after the submits, squeue lists %d (states %s)"
                           % (count, len(rows), sorted(states)))
    if ids is not None and {int(i) for i, _ in rows} != set(ids):
        raise RuntimeError("squeue's job ids differ from the ids sbatch printed")


def job_state(c, jid):
    out = c.run("scontrol", "show", "job", "-o", jid)
    for word in out.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1]
    raise RuntimeError("scontrol show job %d printed no JobState: %r" % (jid, out[:200]))


def wait_job_completed(c, jid):
    def ended():
        state = job_state(c, jid)
        if state in FAILED_STATES:
            raise RuntimeError("job %d ended %s" % (jid, state))
        return state == "COMPLETED"

    wait_until(ended, JOB_TIMEOUT, "job %d to complete" % jid, 0.01)


def wait_stamps(c, jid, prefix, ranks):
    """The start stamps (ns) of ranks 0..ranks-1; fails at once when the job
    ends without them (checked every half second)."""
    polls = [0]

    def all_there():
        stamps = [read_number("%s.%d" % (prefix, r)) for r in range(ranks)]
        if None not in stamps:
            return stamps
        polls[0] += 1
        if polls[0] % 250 == 0:
            state = job_state(c, jid)
            if state in FAILED_STATES + ("COMPLETED",) and None in [read_number("%s.%d" % (prefix, r))
                                                                    for r in range(ranks)]:
                raise RuntimeError("job %d ended %s without recording its start" % (jid, state))
        return None

    return wait_until(all_there, JOB_TIMEOUT, "%d start stamps %s.*" % (ranks, prefix), 0.002)


def stamp_command(cfg, prefix):
    # `exec`: the batch shell becomes the stamp program, as a cadre rank is.
    return "exec " + " ".join(cfg.stamp + [prefix])


# --------------------------------------------------------------- workloads


def w_submit_sequential(cfg):
    n = cfg.submit_jobs
    with slurm(cfg, 1, 8, "submit-seq") as c:
        ids = []
        start = time.perf_counter()
        for _ in range(n):
            ids.append(sbatch(c, "-p", "hold", "--wrap", "true"))
        elapsed = time.perf_counter() - start
        check_all_pending(c, n, ids)
    return {"submit_seq": n / elapsed}, {"seconds": elapsed}


def w_submit_parallel(cfg):
    n, threads = cfg.submit_jobs, 4
    with slurm(cfg, 1, 8, "submit-par") as c:
        ids, elapsed = bench_lib.submit_in_parallel(lambda: sbatch(c, "-p", "hold", "--wrap", "true"), n, threads, "sbatch calls")
        check_all_pending(c, n, ids)
    return {"submit_par4": n / elapsed}, {"seconds": elapsed}


def w_submit_bulk(cfg):
    """Slurm has no many-jobs-in-one-message submit but job arrays: one
    sbatch --array=1-N, N jobs (array tasks) in one request."""
    n = cfg.submit_jobs
    with slurm(cfg, 1, 8, "submit-bulk") as c:
        start = time.perf_counter()
        sbatch(c, "-p", "hold", "--array", "1-%d" % n, "--wrap", "true")
        elapsed = time.perf_counter() - start
        check_all_pending(c, n)
    return {"submit_bulk": n / elapsed}, {"seconds": elapsed}


def start_latencies(c, cfg, count, ranks, tag, flags, command):
    """As bench/run's: `count` jobs one at a time, each after the previous
    one completed; ms from just before sbatch started to the last rank's
    first action, and to sbatch's return."""
    latencies, acks = [], []
    for i in range(count):
        prefix = os.path.join(c.tmp, "out", "%s-%d" % (tag, i))
        time.sleep(bench_lib.SETTLE_S)  # an idle cluster: see SETTLE_S
        before = time.time_ns()
        jid = sbatch(c, *flags, "--wrap", command(prefix))
        acks.append((time.time_ns() - before) / 1e6)
        stamps = wait_stamps(c, jid, prefix, ranks)
        wait_job_completed(c, jid)
        latencies.append((max(stamps) - before) / 1e6)
    return latencies, acks


def w_latency(cfg):
    with slurm(cfg, 1, 8, "latency") as c:
        lat, acks = start_latencies(c, cfg, cfg.latency_jobs, 1, "lat", (), lambda p: stamp_command(cfg, p))
    return ({"latency_p50": bench_lib.percentile(lat, 50), "latency_p90": bench_lib.percentile(lat, 90)},
            {"latencies_ms": [round(x, 3) for x in lat], "submit_returned_ms": [round(x, 3) for x in acks]})


def w_drain(cfg):
    """D one-task jobs as one job array (Slurm's fastest way in), on 4 nodes
    of 8 cpus (or 1 of 32): from just before sbatch until squeue is empty;
    then every task must have COMPLETED."""
    d = cfg.drain_jobs
    nodes, cpus = (4, 8) if cfg.slurm_nodes == 4 else (1, 32)
    with slurm(cfg, nodes, cpus, "drain") as c:
        polls = 0
        start = time.perf_counter()
        array = sbatch(c, "--array", "1-%d" % d, "--wrap", "true")
        submitted = time.perf_counter()
        while True:
            rows = queue(c)
            polls += 1
            if not rows:
                break
            if time.perf_counter() - start > JOB_TIMEOUT + d * 0.1:
                raise RuntimeError("squeue still listed %d jobs after %.0f s" % (len(rows), time.perf_counter() - start))
            # As bench/run: within ~2% of the drain time, at little CPU cost.
            time.sleep(min(0.5, max(0.02, 0.02 * (time.perf_counter() - start))))
        elapsed = time.perf_counter() - start
        states = {}
        for line in c.run("scontrol", "show", "job", "-o", array).splitlines():
            fields = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "ArrayTaskId" in fields:
                states[fields["ArrayTaskId"]] = fields.get("JobState")
        completed = sum(1 for s in states.values() if s == "COMPLETED")
        if completed != d or len(states) != d:
            raise RuntimeError("after the drain: %d array tasks listed, %d COMPLETED, expected %d"
                               % (len(states), completed, d))
    return {"drain": d / elapsed}, {"seconds": elapsed, "submit_seconds": submitted - start, "polls": polls}


def w_gang(cfg):
    if cfg.slurm_nodes != 4:
        raise NotComparable("this slurmd cannot run as 4 nodes on one host (no --enable-multiple-slurmd)")
    with slurm(cfg, 4, 8, "gang") as c:
        lat, acks = start_latencies(c, cfg, cfg.gang_jobs, 4, "gang", ("-N", "4", "--ntasks-per-node", "1"),
                                    lambda p: "exec srun " + " ".join(cfg.stamp + [p]))
    return ({"gang_p50": bench_lib.percentile(lat, 50)},
            {"latencies_ms": [round(x, 3) for x in lat], "submit_returned_ms": [round(x, 3) for x in acks]})


def probe_nodes(cfg):
    """4 when this host can run 4 slurmd as 4 nodes (slurmd -N, each its
    own port) and a 4-node job runs on them; else 1, with the reason. Also
    returns the Slurm and munge versions. Raises SlurmError when not even
    one slurmd starts."""
    try:
        with slurm(cfg, 4, 8, "probe") as c:
            jid = sbatch(c, "-N", "4", "--ntasks-per-node", "1", "--wrap", "exec srun true")
            wait_job_completed(c, jid)
            return 4, None, c.versions()
    except (slurm_cluster.SlurmError, RuntimeError, AssertionError) as e:  # AssertionError: a wait timed out
        reason = str(e).splitlines()[0]
    # One node must work, or this Slurm cannot start at all: that error (with
    # the daemons' log tails) goes to the caller.
    with slurm(cfg, 1, 32, "probe-1") as c:
        return 1, reason, c.versions()
