"""bench/run's cadre workloads on a real local cluster (tests/e2e/harness.py's
Cluster), shared by bench/run and bench/compare-slurm. Each workload takes
the run's config (sizes and the start-stamp program) and returns
({figure key: value}, {details for --json}); workloads(cfg) lists them with
their table rows. Standard library only.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "e2e"))

import bench_lib  # noqa: E402
import harness  # noqa: E402

CLI_TIMEOUT = 120
JOB_TIMEOUT = 120
FINAL_STATES = harness.FINAL_STATES

# ----------------------------------------------------------------- helpers


def progress(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@contextlib.contextmanager
def cluster(agents, name):
    """A fresh cluster of `agents` agents (8 cpus, 32 GiB, no GPUs each),
    always stopped; its logs are printed when the body fails."""
    c = harness.Cluster(agents=agents, cpus=8, memory="32G", gpus=0, name="bench-" + name)
    try:
        c.start()  # stops the cluster itself when it fails to start
        yield c
    except Exception:
        if not c._stopped:
            c.dump_logs("bench workload %s failed" % name, lines=20)
        raise
    finally:
        c.stop()


def cli_env():
    env = dict(os.environ)
    env.pop("CADRE_MASTER", None)
    env.pop("CADRE_TIMEOUT", None)
    return env


def cli_argv(c, *args):
    return [c.cli_bin, "--master", c.endpoint, *[str(a) for a in args]]


def job_flags(c):
    """Flags for every job that runs: its working directory and output files
    are in the cluster's temporary folder, named outright rather than left
    to the CLI's current directory (the default output, cadre-%j-%t.out,
    goes there), so a run never writes into the checkout it was started
    from. scripts/test fails when a test run leaves files in the tree."""
    out = c.path("jobs")
    os.makedirs(out, exist_ok=True)
    return ["--chdir", out, "--output", os.path.join(out, "cadre-%j-%t.out")]


def run_cli(c, argv, env):
    """Runs one CLI process; returns its stdout; raises on failure."""
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       cwd=c.tmp, env=env, timeout=CLI_TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError("`%s` exited with %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r.stdout


def job_id(out):
    out = out.strip()
    if not out.isdigit():
        raise RuntimeError("submit printed %r, expected a job id" % out)
    return int(out)


def active_jobs(c, env):
    """`cadre queue --json` without --all: pending and running jobs."""
    return json.loads(run_cli(c, cli_argv(c, "queue", "--json"), env))["jobs"]


def check_all_pending(c, env, count, ids=None):
    """After a submit workload: exactly `count` jobs, all PENDING (and, with
    ids, exactly those): every acknowledged job is in the queue."""
    jobs = active_jobs(c, env)
    states = {j["state"] for j in jobs}
    if len(jobs) != count or states - {"PENDING"}:
        raise RuntimeError("expected %d pending jobs after the submits, cadre queue lists %d (states %s)"
                           % (count, len(jobs), sorted(states)))
    if ids is not None and {j["id"] for j in jobs} != set(ids):
        raise RuntimeError("the queue's job ids differ from the ids the submits printed")


def wait_job_ended(c, env, jid):
    """Polls `cadre show --json` until the job ends; it must complete."""
    argv = cli_argv(c, "show", jid, "--json")

    def ended():
        job = json.loads(run_cli(c, argv, env))
        return job if job["state"] in FINAL_STATES else None

    job = harness.wait_until(ended, JOB_TIMEOUT, "job %d to end" % jid, interval=0.01)
    if job["state"] != "COMPLETED":
        raise RuntimeError("job %d ended %s (exit code %s)" % (jid, job["state"], job.get("exit_code")))


def wait_stamps(c, env, jid, prefix, ranks):
    """The start stamps (ns) of ranks 0..ranks-1 of job jid. Fails at once
    when the job ends without them (checked every half second)."""
    polls = [0]

    def all_there():
        stamps = [harness.read_number("%s.%d" % (prefix, r)) for r in range(ranks)]
        if None not in stamps:
            return stamps
        polls[0] += 1
        if polls[0] % 250 == 0:
            job = json.loads(run_cli(c, cli_argv(c, "show", jid, "--json"), env))
            if job["state"] in FINAL_STATES and None in [harness.read_number("%s.%d" % (prefix, r))
                                                         for r in range(ranks)]:
                raise RuntimeError("job %d ended %s (exit code %s) without recording its start"
                                   % (jid, job["state"], job.get("exit_code")))
        return None

    return harness.wait_until(all_there, JOB_TIMEOUT, "%d start stamps %s.*" % (ranks, prefix), interval=0.002)


def write_job_file(c, count, flags=()):
    path = c.path("jobs.txt")
    with open(path, "w") as f:
        f.write(" ".join([*flags, "--", "true\n"]) * count)
    return path


def check_summary(out, count):
    m = re.search(r"Submitted (\d+) of (\d+) jobs", out)
    if not m or int(m.group(1)) != count or int(m.group(2)) != count:
        raise RuntimeError("submit --from printed %r, expected 'Submitted %d of %d jobs'" % (out.strip(), count, count))


# --------------------------------------------------------------- workloads
# Each returns ({figure key: value}, {extra details for --json}).


def w_submit_sequential(cfg):
    n = cfg.submit_jobs
    env = cli_env()
    with cluster(0, "submit-seq") as c:
        argv = cli_argv(c, "submit", "--parsable", "--", "true")
        ids = []
        start = time.perf_counter()
        for _ in range(n):
            ids.append(job_id(run_cli(c, argv, env)))
        elapsed = time.perf_counter() - start
        check_all_pending(c, env, n, ids)
    return {"submit_seq": n / elapsed}, {"seconds": elapsed}


def w_submit_parallel(cfg):
    n, threads = cfg.submit_jobs, 4
    env = cli_env()
    with cluster(0, "submit-par") as c:
        argv = cli_argv(c, "submit", "--parsable", "--", "true")
        ids, elapsed = bench_lib.submit_in_parallel(lambda: job_id(run_cli(c, argv, env)), n, threads, "submits")
        check_all_pending(c, env, n, ids)
    return {"submit_par4": n / elapsed}, {"seconds": elapsed}


def w_submit_bulk(cfg):
    n = cfg.submit_jobs
    env = cli_env()
    with cluster(0, "submit-bulk") as c:
        argv = cli_argv(c, "submit", "--from", write_job_file(c, n))
        start = time.perf_counter()
        out = run_cli(c, argv, env)
        elapsed = time.perf_counter() - start
        check_summary(out, n)
        check_all_pending(c, env, n)
    return {"submit_bulk": n / elapsed}, {"seconds": elapsed}


def start_latencies(c, env, cfg, count, ranks, tag, flags=()):
    """Submits `count` jobs one at a time, each waiting for the previous one
    to end. Returns two lists: for each job the ms from just before its
    `cadre submit` process started to the last of its `ranks` ranks' first
    action, and to the submit process's return (the acknowledgement)."""
    latencies, acks = [], []
    for i in range(count):
        prefix = c.marker("%s-%d" % (tag, i))
        argv = cli_argv(c, "submit", "--parsable", *job_flags(c), *flags, "--", *cfg.stamp, prefix)
        time.sleep(bench_lib.SETTLE_S)  # an idle cluster: see SETTLE_S
        before = time.time_ns()
        jid = job_id(run_cli(c, argv, env))
        acks.append((time.time_ns() - before) / 1e6)
        stamps = wait_stamps(c, env, jid, prefix, ranks)
        wait_job_ended(c, env, jid)
        latencies.append((max(stamps) - before) / 1e6)
    return latencies, acks


def w_latency(cfg):
    env = cli_env()
    with cluster(1, "latency") as c:
        lat, acks = start_latencies(c, env, cfg, cfg.latency_jobs, 1, "lat")
    return ({"latency_p50": bench_lib.percentile(lat, 50), "latency_p90": bench_lib.percentile(lat, 90)},
            {"latencies_ms": [round(x, 3) for x in lat], "submit_returned_ms": [round(x, 3) for x in acks]})


def w_drain(cfg):
    d = cfg.drain_jobs
    env = cli_env()
    with cluster(4, "drain") as c:
        argv = cli_argv(c, "submit", "--parsable", "--from", write_job_file(c, d, job_flags(c)))
        queue_argv = cli_argv(c, "queue", "--json")
        polls = 0

        def pause(since):
            # Often enough to be within ~2% of the drain time, rarely enough
            # that the polling costs little CPU.
            time.sleep(min(0.5, max(0.02, 0.02 * (time.perf_counter() - since))))

        start = time.perf_counter()
        out = run_cli(c, argv, env)
        submitted = time.perf_counter()
        ids = [job_id(line) for line in out.split()]
        if len(set(ids)) != d:
            raise RuntimeError("submit --from printed %d distinct job ids for %d lines" % (len(set(ids)), d))
        # Listing thousands of jobs costs the CLI about 40 us of CPU a job, so
        # first wait (cheaply) for the last job, which starts last; then
        # `cadre queue --json` (pending and running jobs) must be empty.
        show_argv = cli_argv(c, "show", max(ids), "--json")
        while json.loads(run_cli(c, show_argv, env))["state"] not in FINAL_STATES:
            polls += 1
            if time.perf_counter() - start > JOB_TIMEOUT + d * 0.1:
                raise RuntimeError("job %d did not end within %.0f s" % (max(ids), time.perf_counter() - start))
            pause(start)
        while True:
            jobs = json.loads(run_cli(c, queue_argv, env))["jobs"]
            polls += 1
            if not jobs:
                break
            if time.perf_counter() - start > JOB_TIMEOUT + d * 0.1:
                raise RuntimeError("the queue still held %d jobs after %.0f s" % (len(jobs), time.perf_counter() - start))
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        ended = json.loads(run_cli(c, cli_argv(c, "queue", "--all", "--json"), env))["jobs"]
        completed = sum(1 for j in ended if j["state"] == "COMPLETED")
        if completed != d or len(ended) != d:
            raise RuntimeError("after the drain: %d jobs listed, %d COMPLETED, expected %d" % (len(ended), completed, d))
    return {"drain": d / elapsed}, {"seconds": elapsed, "submit_seconds": submitted - start, "polls": polls}


def w_gang(cfg):
    env = cli_env()
    with cluster(4, "gang") as c:
        lat, acks = start_latencies(c, env, cfg, cfg.gang_jobs, 4, "gang", flags=("--nodes", "4"))
    return ({"gang_p50": bench_lib.percentile(lat, 50)},
            {"latencies_ms": [round(x, 3) for x in lat], "submit_returned_ms": [round(x, 3) for x in acks]})


# (function, name, [(figure key, row label, unit)])
def workloads(cfg):
    n, d, lj, gj = cfg.submit_jobs, cfg.drain_jobs, cfg.latency_jobs, cfg.gang_jobs
    return [
        (w_submit_sequential, "submit, 1 at a time", [("submit_seq", "submit, 1 CLI call at a time (%d jobs)" % n, "jobs/s")]),
        (w_submit_parallel, "submit, 4 in parallel", [("submit_par4", "submit, 4 CLI callers in parallel (%d jobs)" % n, "jobs/s")]),
        (w_submit_bulk, "submit --from", [("submit_bulk", "submit --from FILE (%d lines)" % n, "jobs/s")]),
        (w_latency, "submit-to-start latency", [("latency_p50", "submit-to-start, idle 1 agent, p50 of %d" % lj, "ms"),
                     ("latency_p90", "submit-to-start, idle 1 agent, p90 of %d" % lj, "ms")]),
        (w_drain, "drain", [("drain", "drain %d 1-rank jobs, 4 agents x 8 cpus" % d, "jobs/s")]),
        (w_gang, "gang start", [("gang_p50", "gang start, 4 nodes, p50 of %d" % gj, "ms")]),
    ]
