"""Durability torture test: a stream of short gang jobs while the master and
the agents are SIGKILLed and restarted at random moments.

The master has two partitions over every node: "low" (the default, tier 0,
preemptible) and "high" (tier 10). One background thread submits a few
hundred jobs of mixed gang shapes into both, most of them on GPUs, some low
ones holding many GPUs for seconds, so that high jobs preempt low gangs
(which go back to the queue and run again as a new attempt) while the
faults go on. Every rank appends one line "JOBID ATTEMPT RANK" to a shared
ledger file, records its GPUs in a GPU ledger (gpu_ledger.py), then sleeps a
little; a SIGTERM (a preemption, a requeue) makes it record its end and
exit. Meanwhile the main thread follows a seeded plan of faults:
master crashes (SIGKILL, restart on the same port and state folder), short
agent crashes (SIGKILL of the agent's process group, restarted well before
the node timeout, preferably while it runs ranks), crashes of an agent and
the master together (the agent coming back first or last), and slow
outages: an agent dead, or frozen with SIGSTOP, until its node is DOWN (its
gangs are requeued) before it comes back.

When the faults stop and everything has settled, the test checks:
  * every acknowledged job (submit printed an id) still exists and ended;
  * no job ran an attempt twice: no "JOBID ATTEMPT RANK" line appears twice;
  * every COMPLETED job's final attempt shows each of its ranks exactly once;
  * no job has ledger lines for an attempt later than its final attempt,
    and every job in the ledger is known to the master;
  * a requeued gang's next attempt starts only after every rank of the
    previous attempt ended, except ranks cut off on a node that went DOWN
    (each rank also logs its node and start and end times in "spans");
  * no job ends in a state its ranks cannot cause (they all exit 0): only
    COMPLETED, or NODE_FAIL once its retries are used up, are expected;
  * no GPU of a node was held by two ranks at once (the GPU ledger), except
    by ranks cut off on a node that went DOWN; every rank ran on the GPUs
    the master gave it;
  * preemption happened, only to low jobs, and every preempted job was
    requeued and ran again as a later attempt (it ended COMPLETED, or
    NODE_FAIL after node failures) and never ran two attempts at once;
  * every node ends with all resources free, and no rank or supervisor
    process is left behind, neither while the cluster runs nor after it
    has been stopped.

Knobs (environment):
  CADRE_TORTURE_SEED   the seed of the job mix and the fault plan (printed
                       on failure). A seed replays the same jobs, faults and
                       pauses; the exact interleaving with the cluster still
                       varies from run to run.
  CADRE_TORTURE_JOBS   how many jobs to submit (default 300)
  CADRE_TORTURE_SAVE   a folder to copy the logs and ledger into on failure
                       (default: a new cadre-torture-* folder in $TMPDIR)
"""

import collections
import datetime
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

import gpu_ledger
from harness import FINAL_STATES, TWO_TIERS, Cluster, tail, wait_until

DEFAULT_SEED = 20240611
SEED = int(os.environ.get("CADRE_TORTURE_SEED", DEFAULT_SEED))
JOBS = int(os.environ.get("CADRE_TORTURE_JOBS", 300))

AGENTS = 4
GPUS = 4  # per node
NODE_TIMEOUT = 5  # s; short agent outages stay well below it
KILL_GRACE = 1

# Two tiers over every node: high jobs preempt low ones.
CONFIG = TWO_TIERS

# The fault plan, in a seeded random order.
MASTER_ONLY_KILLS = 18
MASTER_AND_AGENT_KILLS = 3  # an agent and the master at once; the master comes back first
AGENT_BEFORE_MASTER = 2  # both die; the agent comes back while the master is still down
AGENT_ONLY_KILLS = 5  # short: restarted within 2 s, well before the node timeout
# Slow outages, spread over the run (no master restart during them, since a
# restarted master gives every node a fresh node timeout):
LONG_OUTAGES = 2  # an agent stays dead until its node is DOWN
FREEZES = 1  # an agent is SIGSTOPped until its node is DOWN, then continued
GAP_S = (0.3, 3.0)  # pause before each fault
MASTER_DOWN_S = (0.0, 3.0)  # a submit waits 2 s: some time out
AGENT_DOWN_S = (0.0, 2.0)

SUBMIT_PACE_S = 0.25  # mean time per job between bursts
SUBMIT_TIMEOUT = 2  # the CLI's --timeout for a submit
SETTLE_TIMEOUT = 90  # after the faults: every job must end within this
LEFTOVER_TIMEOUT = 20

# (submit flags, ranks, weight, seconds each rank sleeps). Low jobs go to
# the default partition; the long low gangs, on many GPUs, are what high
# jobs mostly preempt.
SHAPES = [
    ([], 1, 3, (0, 0.3)),
    (["--gpus-per-task", "1"], 1, 2, (0, 0.3)),
    (["--nodes", "2", "--gpus-per-node", "2"], 2, 3, (0, 0.3)),
    (["--nodes", "4"], 4, 1, (0, 0.3)),
    (["--ntasks", "3", "--gpus-per-task", "1"], 3, 2, (0, 0.3)),
    (["--nodes", "2", "--tasks-per-node", "2", "--gpus-per-task", "1"], 4, 1, (0, 0.3)),
    (["--nodes", "2", "--gpus-per-node", "4"], 2, 1, (1.5, 3.0)),
    (["--nodes", "4", "--gpus-per-node", "2"], 4, 1, (1.5, 3.0)),
    (["-p", "high", "--nodes", "1", "--gpus-per-node", "4"], 1, 1, (0, 0.3)),
    (["-p", "high", "--nodes", "2", "--gpus-per-node", "3"], 2, 1, (0, 0.3)),
    (["-p", "high", "--ntasks", "2", "--gpus-per-task", "2"], 2, 1, (0, 0.3)),
]
EXPECTED_END_STATES = ("COMPLETED", "NODE_FAIL")


def log(msg):
    sys.stderr.write("[torture %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Submitter(threading.Thread):
    """Submits every planned job once it is acknowledged. A submit that
    fails (master down, no answer in time) is tried again later; it may
    still have been accepted, which only adds an unacknowledged job."""

    def __init__(self, cluster, plan, seed):
        super().__init__(name="torture-submitter", daemon=True)
        self.c = cluster
        self.plan = plan
        self.rng = random.Random(seed)
        self.acked = {}  # job id -> plan index
        self.failed_calls = 0
        self.failure_samples = collections.Counter()
        self.error = None
        self.stop_now = threading.Event()

    def submit_one(self, flags, script):
        r = self.c.cli(
            "--timeout", SUBMIT_TIMEOUT, "submit", "--parsable", *flags, "--", "sh", "-c", script,
            check=False, timeout=60,
        )
        out = r.stdout.strip()
        if r.returncode == 0 and out.isdigit():
            return int(out)
        if r.returncode == 2:  # a usage error: retrying cannot help
            raise AssertionError("cadre submit %s refused its flags: %s" % (" ".join(flags), r.stderr.strip()))
        self.failed_calls += 1
        first = (r.stderr.strip().splitlines() or ["exit %d, stdout %r" % (r.returncode, r.stdout)])[0]
        # Group messages that differ only in numbers (ports, seconds).
        self.failure_samples["".join("#" if ch.isdigit() else ch for ch in first)[:120]] += 1
        return None

    def run(self):
        try:
            i = 0
            while i < len(self.plan) and not self.stop_now.is_set():
                burst = self.rng.randint(1, 8)
                for _ in range(burst):
                    if i >= len(self.plan) or self.stop_now.is_set():
                        break
                    flags, _ranks, script = self.plan[i]
                    job_id = self.submit_one(flags, script)
                    if job_id is None:
                        time.sleep(self.rng.uniform(0.1, 0.5))
                        continue  # the same job again
                    if job_id in self.acked:
                        raise AssertionError("job id %d acknowledged twice" % job_id)
                    self.acked[job_id] = i
                    i += 1
                time.sleep(SUBMIT_PACE_S * burst * self.rng.uniform(0.5, 1.5))
        except BaseException as e:  # reported by the main thread
            self.error = e


class Torture(unittest.TestCase):
    def setUp(self):
        self.started = time.monotonic()
        self.c = Cluster(agents=AGENTS, gpus=GPUS, node_timeout=NODE_TIMEOUT, kill_grace=KILL_GRACE, name="torture",
                         config=CONFIG)
        self.addCleanup(self._cleanup)
        self.c.start()
        self.ledger = self.c.path("ledger")
        self.spans = self.c.path("spans")
        self.gpu_ledger = self.c.path("gpu-ledger")
        for f in (self.ledger, self.spans, self.gpu_ledger):
            open(f, "w").close()
        self.master_restarts = 0
        self.agent_kills = collections.Counter()
        self.long_outages = 0
        self.freezes = 0
        self.down_windows = []  # (node, from, to) in time.time(): ranks there may outlive their attempt
        self.crashes = []  # daemons that died without being killed
        self.busy_agent_kills = 0  # agent kills with ranks running
        self.ranks_under_killed_agents = 0

    def doCleanups(self):
        outcome = getattr(self, "_outcome", None)
        self._failed = outcome is None or not getattr(outcome, "success", False)
        return super().doCleanups()

    def _cleanup(self):
        sub = getattr(self, "submitter", None)
        if sub is not None:
            sub.stop_now.set()
            sub.join(timeout=90)
        if getattr(self, "_failed", True):
            log("FAILED with CADRE_TORTURE_SEED=%d (replay: CADRE_TORTURE_SEED=%d python3 -m unittest -v test_torture)"
                % (SEED, SEED))
            if not self.c._stopped:
                self.c.dump_logs("torture seed %d FAILED" % SEED, lines=60)
                self._save_evidence()
        self.c.stop()

    def _save_evidence(self):
        dest = os.environ.get("CADRE_TORTURE_SAVE") or tempfile.mkdtemp(prefix="cadre-torture-seed%d-" % SEED)
        try:
            os.makedirs(dest, exist_ok=True)
            shutil.copytree(self.c.logs, os.path.join(dest, "logs"), dirs_exist_ok=True)
            for f in (self.ledger, self.spans, self.gpu_ledger):
                if os.path.exists(f):
                    shutil.copy(f, dest)
            for name in ("state",):
                src = self.c.path(name)
                if os.path.isdir(src):
                    shutil.copytree(src, os.path.join(dest, name), dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("*.sock"))
            log("logs, ledger and database copied to %s" % dest)
        except OSError as e:
            log("could not save the evidence: %s" % e)

    # ------------------------------------------------------------ the plan

    def _job_plan(self, rng):
        shapes = [s for s in SHAPES for _ in range(s[2])]
        plan = []
        for _ in range(JOBS):
            flags, ranks, _w, sleep = rng.choice(shapes)
            # The ledger line, then the rank's start and end times (and
            # node) in the spans file for the overlap check, and its GPUs
            # in the GPU ledger. Stopped by SIGTERM (a preemption, a
            # requeue), it records its end and exits.
            me = "$CADRE_JOB_ID $CADRE_ATTEMPT $CADRE_RANK $CADRE_NODE_NAME"
            end = 'echo "{me} end $(date +%s.%N)" >> {spans}; {gpu_end}'.format(
                me=me, spans=self.spans, gpu_end=gpu_ledger.line_command(self.gpu_ledger, "end"))
            script = ("trap '{end}; exit 143' TERM; {gpu_start}; "
                      'echo "$CADRE_JOB_ID $CADRE_ATTEMPT $CADRE_RANK" >> {ledger}; '
                      'echo "{me} start $(date +%s.%N)" >> {spans}; sleep {sleep:.3f} & wait $!; {end}').format(
                end=end, gpu_start=gpu_ledger.line_command(self.gpu_ledger, "start"), ledger=self.ledger,
                spans=self.spans, me=me, sleep=rng.uniform(*sleep))
            plan.append((flags, ranks, script))
        return plan

    def _fault_plan(self, rng):
        names = sorted(self.c.agent_specs)
        faults = (["master"] * MASTER_ONLY_KILLS + ["master+agent"] * MASTER_AND_AGENT_KILLS
                  + ["agent-before-master"] * AGENT_BEFORE_MASTER + ["agent"] * AGENT_ONLY_KILLS)
        rng.shuffle(faults)
        slow = ["long"] * LONG_OUTAGES + ["freeze"] * FREEZES
        rng.shuffle(slow)
        for k, kind in enumerate(slow):
            faults.insert((k + 1) * len(faults) // (len(slow) + 1) + k, kind)
        return [(kind, rng.choice(names), rng.uniform(*GAP_S)) for kind in faults]

    # -------------------------------------------------------------- faults

    def _crash_master(self, rng):
        self.c.stop_master(signal.SIGKILL)
        time.sleep(rng.uniform(*MASTER_DOWN_S))
        self.c.start_master(new_port=False)
        self.master_restarts += 1

    def _live_ranks(self, name):
        """Rank folders of the agent without an exit yet: running ranks and
        ranks being launched (a kill then lands mid-launch)."""
        ranks = self.c.path("agents", name, "ranks")
        try:
            entries = os.listdir(ranks)
        except OSError:
            return []
        return [e for e in entries if not os.path.exists(os.path.join(ranks, e, "exit"))]

    def _kill_agent_when_busy(self, name, wait_s=3.0):
        """SIGKILLs the agent, preferably while it has ranks running (the
        jobs are short, so an idle moment is likely otherwise): they must
        survive it, and their exits be reported by the next agent."""
        deadline = time.monotonic() + wait_s
        while not self._live_ranks(name) and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = len(self._live_ranks(name))
        self.c.kill_agent(name, signal.SIGKILL)
        self.agent_kills[name] += 1
        self.ranks_under_killed_agents += busy
        if busy:
            self.busy_agent_kills += 1

    def _crash_agent(self, name, down_s):
        self._kill_agent_when_busy(name)
        time.sleep(down_s)
        self.c.start_agent(name)

    def _slow_outage(self, name, freeze):
        """Keeps the agent dead, or frozen, until its node is DOWN: its
        gangs are requeued. A frozen agent then continues where it stopped
        (its ranks ran on under their supervisors meanwhile)."""
        began = time.time()
        if freeze:
            deadline = time.monotonic() + 3.0
            while not self._live_ranks(name) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.c.kill_agent(name, signal.SIGSTOP)
        else:
            self._kill_agent_when_busy(name)
        t0 = time.monotonic()
        self.c.wait_node_state(name, "DOWN", timeout=NODE_TIMEOUT + 30)
        log("%s %s, DOWN after %.1fs" % (name, "frozen" if freeze else "dead", time.monotonic() - t0))
        time.sleep(0.5)
        if freeze:
            self.c.kill_agent(name, signal.SIGCONT)
            self.freezes += 1
        else:
            self.c.start_agent(name)
            self.long_outages += 1
        # Cut-off ranks run on until the agent is back and registered.
        self.down_windows.append((name, began, time.time() + NODE_TIMEOUT + 2))

    def _check_alive(self):
        """Records (and repairs) a master or agent that died on its own."""
        if self.c.master.poll() is not None:
            self.crashes.append("cadre-master exited by itself with %s:\n%s"
                                % (self.c.master.returncode, tail(self.c.master_log(), 30)))
            self.c.start_master(new_port=False)
        for name, p in list(self.c.agents.items()):
            if p.poll() is not None:
                self.crashes.append("cadre-agent %s exited by itself with %s:\n%s"
                                    % (name, p.returncode, tail(self.c.agent_log(name), 30)))
                self.c.start_agent(name)

    def _run_faults(self, plan, rng):
        for n, (kind, agent, gap) in enumerate(plan):
            time.sleep(gap)
            if self.submitter.error is not None:
                break
            self._check_alive()
            if kind == "master":
                self._crash_master(rng)
            elif kind == "agent":
                self._crash_agent(agent, rng.uniform(*AGENT_DOWN_S))
            elif kind == "master+agent":
                self._kill_agent_when_busy(agent)
                self._crash_master(rng)
                self.c.start_agent(agent)
            elif kind == "agent-before-master":
                # The agent's registrations queue up until the master is back.
                self._kill_agent_when_busy(agent)
                self.c.stop_master(signal.SIGKILL)
                self.c.start_agent(agent)
                time.sleep(rng.uniform(1.0, 3.0))
                self.c.start_master(new_port=False)
                self.master_restarts += 1
            elif kind in ("long", "freeze"):
                self._slow_outage(agent, freeze=kind == "freeze")
            if n % 5 == 4:
                log("fault %d/%d (%s); %d jobs acknowledged" % (n + 1, len(plan), kind, len(self.submitter.acked)))

    # -------------------------------------------------------------- checks

    def _read_ledger(self):
        lines = collections.Counter()
        bad = []
        with open(self.ledger) as f:
            for raw in f:
                parts = raw.split()
                if len(parts) != 3 or not all(p.isdigit() for p in parts):
                    bad.append(raw)
                    continue
                lines[tuple(int(p) for p in parts)] += 1
        return lines, bad

    def _read_spans(self):
        """{(job, attempt, rank): (node, start, end or None)}"""
        spans = {}
        with open(self.spans) as f:
            for raw in f:
                parts = raw.split()
                if len(parts) != 6 or parts[4] not in ("start", "end"):
                    continue  # torn lines are reported from the ledger
                try:
                    key = tuple(int(p) for p in parts[:3])
                    t = float(parts[5])
                except ValueError:
                    continue
                node, start, end = spans.get(key, (parts[3], None, None))
                if parts[4] == "start":
                    start = t
                else:
                    end = t
                spans[key] = (node, start, end)
        return spans

    def _logged_downs(self):
        """(node, time.time()) of each "node X is DOWN" in the master log."""
        downs = []
        try:
            with open(self.c.master_log(), errors="replace") as f:
                for line in f:
                    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z .* node (\S+) is DOWN", line)
                    if m:
                        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
                        downs.append((m.group(2), at.replace(tzinfo=datetime.timezone.utc).timestamp()))
        except OSError:
            pass
        return downs

    def _overlaps(self, jobs):
        """Ranks of an attempt still running when the job's next attempt
        started. A requeued gang starts again only once every rank of the
        old attempt is gone (killed and reported, or found gone), except
        ranks cut off on a node that went DOWN, which may run on."""
        spans = self._read_spans()
        windows = self._down_node_windows()
        first_start = {}
        for (job_id, attempt, _rank), (_node, start, _end) in spans.items():
            if start is not None:
                key = (job_id, attempt)
                first_start[key] = min(start, first_start.get(key, start))
        found = []
        for (job_id, attempt, rank), (node, start, end) in sorted(spans.items()):
            nxt = first_start.get((job_id, attempt + 1))
            if end is None or nxt is None or end <= nxt:
                continue  # killed, the last attempt, or ended in time
            if any(n == node and frm <= end and (start or end) <= to for n, frm, to in windows):
                continue  # cut off by a DOWN node
            found.append("job %d attempt %d rank %d on %s ran %.3f-%.3f, after attempt %d started at %.3f (%s)" % (
                job_id, attempt, rank, node, start or 0, end, attempt + 1, nxt,
                jobs.get(job_id, {}).get("state", "?")))
        return found

    def _down_node_windows(self):
        """(node, from, to) in time.time(): the planned slow outages, and
        every DOWN the master logged (in case a node also went DOWN
        unplanned). Ranks cut off there may outlive their attempt."""
        windows = list(self.down_windows)
        for node, at in self._logged_downs():
            windows.append((node, at - 1, at + 1))
        return windows

    def _gpu_problems(self, jobs):
        """The GPU ledger: no GPU of a node held by two ranks at once (ranks
        cut off on a DOWN node aside), and every rank of a COMPLETED job's
        final attempt on the node and GPUs the master says it had."""
        problems = []
        spans, bad = gpu_ledger.read(self.gpu_ledger)
        if bad:
            problems.append("%d torn GPU ledger lines, e.g. %r" % (len(bad), bad[:3]))
        wall = self._read_spans()
        windows = self._down_node_windows()

        def cut_off(s):
            node, start, end = wall.get((s.job, s.attempt, s.rank), (None, None, None))
            if node is None or (start is None and end is None):
                return False
            start, end = start or end, end or time.time()
            return any(n == s.node and frm <= end and start <= to for n, frm, to in windows)

        overlaps = gpu_ledger.overlaps(spans, exempt=cut_off)
        problems.extend(overlaps[:10])
        if overlaps:
            problems.append("%d times two ranks held the same GPU at once" % len(overlaps))
        with_gpus = 0
        for job_id, j in sorted(jobs.items()):
            if j["state"] != "COMPLETED":
                continue
            for t in j["tasks"]:
                s = spans.get((job_id, j["attempt"], t["rank"]))
                if s is None:
                    problems.append("COMPLETED job %d attempt %d rank %d is not in the GPU ledger"
                                    % (job_id, j["attempt"], t["rank"]))
                elif (s.node, s.gpus) != (t["node"], frozenset(t["gpus"])):
                    problems.append("job %d attempt %d rank %d ran on %s GPUs %s, the master gave it %s GPUs %s"
                                    % (job_id, j["attempt"], t["rank"], s.node, sorted(s.gpus), t["node"],
                                       sorted(t["gpus"])))
                with_gpus += bool(t["gpus"])
        return problems, len(spans), with_gpus

    def _preemption_problems(self, jobs):
        """Only low jobs were preempted, and each preempted job ran again
        as a later attempt; preemption happened at all."""
        problems = []
        preempted = {i: j for i, j in jobs.items() if j["preemptions"] > 0}
        for job_id, j in sorted(preempted.items()):
            if j["partition"] != "low":
                problems.append("job %d of partition %s was preempted %d times" % (
                    job_id, j["partition"], j["preemptions"]))
            if j["state"] in FINAL_STATES and j["attempt"] <= j["preemptions"]:
                problems.append("job %d ended %s at attempt %d after %d preemptions: a preempted attempt was "
                                "never run again" % (job_id, j["state"], j["attempt"], j["preemptions"]))
        if not preempted:
            problems.append("no job was preempted: the job mix did not exercise preemption")
        return problems, preempted

    def _all_jobs(self):
        r = self.c.cli("--timeout", "10", "queue", "--all", "--json", check=False)
        if r.returncode != 0:
            return None
        return {j["id"]: j for j in json.loads(r.stdout)["jobs"]}

    def _own_pids(self):
        procs = list(self.c.agents.values()) + [self.c.master]
        return {p.pid for p in procs if p.poll() is None}

    def test_jobs_survive_master_and_agent_crashes(self):
        rng = random.Random(SEED)
        job_plan = self._job_plan(random.Random(rng.random()))
        fault_plan = self._fault_plan(random.Random(rng.random()))
        log("seed %d: %d jobs, %d faults, node timeout %ds, tmp %s"
            % (SEED, len(job_plan), len(fault_plan), NODE_TIMEOUT, self.c.tmp))

        self.submitter = Submitter(self.c, job_plan, rng.random())
        self.submitter.start()
        chaos_start = time.monotonic()
        self._run_faults(fault_plan, random.Random(rng.random()))
        chaos_s = time.monotonic() - chaos_start
        log("faults done after %.1fs; waiting for the submitter" % chaos_s)

        # Settle: every agent runs, the master too; the rest of the jobs go in.
        self._check_alive()
        self.submitter.join(timeout=120)
        self.assertFalse(self.submitter.is_alive(), "the submitter hangs (seed %d)" % SEED)
        if self.submitter.error is not None:
            raise AssertionError("submitter failed (seed %d): %r" % (SEED, self.submitter.error))
        acked = dict(self.submitter.acked)
        self.assertEqual(len(acked), len(job_plan), "not every planned job was acknowledged")
        self.c.wait_nodes_up(timeout=NODE_TIMEOUT + 30)

        settle_start = time.monotonic()
        last = {}

        def settled():
            jobs = self._all_jobs()
            if jobs is None:
                return None
            last["jobs"] = jobs
            return (all(j in jobs for j in acked)
                    and all(j["state"] in FINAL_STATES for j in jobs.values()))

        try:
            wait_until(settled, SETTLE_TIMEOUT, "every job to end", interval=1.0)
        except AssertionError:
            pass  # reported in detail below
        settle_s = time.monotonic() - settle_start
        jobs = self._all_jobs() or last.get("jobs") or {}

        self._check_alive()
        problems = list(self.crashes)

        # 1. Every acknowledged job exists, and every job ended (those
        # accepted without an acknowledgement too).
        lost = []
        for job_id in sorted(acked):
            if job_id not in jobs:
                r = self.c.cli("show", job_id, "--json", check=False)
                if r.returncode == 0:
                    jobs[job_id] = json.loads(r.stdout)
                else:
                    lost.append((job_id, r.stderr.strip()))
        if lost:
            problems.append("%d acknowledged jobs are LOST: %s" % (len(lost), lost[:10]))
        stuck = [j for _, j in sorted(jobs.items()) if j["state"] not in FINAL_STATES]
        for j in stuck[:10]:
            problems.append("job %d%s is stuck %s (attempt %d, reason %r, tasks %s)" % (
                j["id"], "" if j["id"] in acked else " (not acknowledged)", j["state"], j["attempt"],
                j["reason"], j["tasks"]))
        if stuck:
            problems.append("%d jobs did not end within %ds" % (len(stuck), SETTLE_TIMEOUT))

        # 2. Ends the ranks cannot explain: they all exit 0.
        lines, bad_lines = self._read_ledger()
        for j in sorted(jobs.values(), key=lambda j: j["id"]):
            if j["state"] in FINAL_STATES and j["state"] not in EXPECTED_END_STATES:
                ran = sorted(r for (jid, a, r) in lines if jid == j["id"] and a == j["attempt"])
                problems.append("job %d ended %s (exit code %d, attempt %d): %s; ranks of that attempt in the "
                                "ledger: %s of %d" % (j["id"], j["state"], j["exit_code"], j["attempt"], j["reason"],
                                                     ran, j["ntasks"]))

        # 3. The ledger.
        if bad_lines:
            problems.append("%d torn ledger lines, e.g. %r" % (len(bad_lines), bad_lines[:3]))
        for (job_id, attempt, rank), count in sorted(lines.items()):
            if count > 1:
                problems.append("job %d attempt %d rank %d ran %d times" % (job_id, attempt, rank, count))
        by_job = collections.defaultdict(set)
        for (job_id, attempt, rank) in lines:
            by_job[job_id].add((attempt, rank))
        for job_id in sorted(by_job):
            j = jobs.get(job_id)
            if j is None:
                r = self.c.cli("show", job_id, "--json", check=False)
                if r.returncode != 0:
                    problems.append("job %d ran (ledger) but the master does not know it: %s"
                                    % (job_id, r.stderr.strip()))
                    continue
                j = jobs[job_id] = json.loads(r.stdout)
            later = sorted(a for a, _ in by_job[job_id] if a > j["attempt"])
            if later:
                problems.append("job %d ran attempt(s) %s after its final attempt %d (%s)"
                                % (job_id, later, j["attempt"], j["state"]))
            if 0 in {a for a, _ in by_job[job_id]}:
                problems.append("job %d has a rank with CADRE_ATTEMPT 0" % job_id)
        for job_id, j in sorted(jobs.items()):
            if j["state"] != "COMPLETED":
                continue
            ranks = sorted(r for a, r in by_job.get(job_id, ()) if a == j["attempt"])
            if ranks != list(range(j["ntasks"])):
                problems.append("COMPLETED job %d attempt %d: ledger has ranks %s, expected 0..%d" % (
                    job_id, j["attempt"], ranks, j["ntasks"] - 1))

        # 4. A requeued gang never overlaps its previous attempt.
        overlaps = self._overlaps(jobs)
        for o in overlaps[:10]:
            problems.append(o)
        if overlaps:
            problems.append("%d ranks outlived their attempt (not on a DOWN node)" % len(overlaps))

        # 5. No GPU shared; preempted jobs requeued and run again.
        gpu_problems, gpu_spans, gpu_ranks = self._gpu_problems(jobs)
        problems.extend(gpu_problems)
        preemption_problems, preempted = self._preemption_problems(jobs)
        problems.extend(preemption_problems)

        # 6. Nothing held, nothing left running.
        try:
            self.c.wait_all_free(timeout=15)
        except AssertionError as e:
            problems.append("%s: %s" % (e, [(n["name"], n["state"], n["cpus_free"], n["cpus"])
                                             for n in self.c.nodes(check=False)]))
        if not stuck:
            own = self._own_pids()
            try:
                wait_until(lambda: not (set(self.c._leftover_pids()) - own), LEFTOVER_TIMEOUT,
                           "rank processes to be gone", interval=0.5)
            except AssertionError:
                problems.append("processes left while the cluster runs: %s"
                                % self._describe(set(self.c._leftover_pids()) - self._own_pids()))
        # Stop the cluster's own processes (agents leave ranks running by
        # design, so none may be left to leave) and scan again.
        for name in self.c.agents:
            self.c.kill_agent(name, signal.SIGTERM)
        self.c.stop_master(signal.SIGTERM)
        time.sleep(0.5)
        left = self.c._leftover_pids()
        if left:
            problems.append("processes left after the cluster stopped: %s" % self._describe(left))

        # Summary.
        outcomes = collections.Counter(j["state"] for j in jobs.values())
        attempts = collections.Counter(j["attempt"] for j in jobs.values() if j["state"] in FINAL_STATES)
        unacked = sorted(set(jobs) - set(acked))
        duration = time.monotonic() - self.started
        log("summary: seed %d; %d jobs acknowledged (+%d accepted without acknowledgement), %d failed submit calls %s"
            % (SEED, len(acked), len(unacked), self.submitter.failed_calls, dict(self.submitter.failure_samples)))
        log("summary: %d master restarts, %d agent kills %s (%d with %d ranks running; %d long outages), "
            "%d agent freezes; faults %.0fs, settle %.1fs, total %.0fs"
            % (self.master_restarts, sum(self.agent_kills.values()), dict(sorted(self.agent_kills.items())),
               self.busy_agent_kills, self.ranks_under_killed_agents, self.long_outages, self.freezes,
               chaos_s, settle_s, duration))
        log("summary: outcomes %s; final attempts %s; %d ledger lines"
            % (dict(sorted(outcomes.items())), dict(sorted(attempts.items())), sum(lines.values())))
        partitions = collections.Counter(j["partition"] for j in jobs.values())
        log("summary: jobs per partition %s; %d jobs preempted (%d preemptions; %s of them COMPLETED); "
            "%d ranks in the GPU ledger, %d completed ranks on GPUs"
            % (dict(sorted(partitions.items())), len(preempted), sum(j["preemptions"] for j in preempted.values()),
               sum(j["state"] == "COMPLETED" for j in preempted.values()), gpu_spans, gpu_ranks))

        self.assertGreaterEqual(self.master_restarts, 20)
        self.assertGreaterEqual(sum(self.agent_kills.values()), 5)
        self.assertGreaterEqual(self.long_outages, 1)
        if problems:
            self.fail("seed %d: %d problems:\n  %s" % (SEED, len(problems), "\n  ".join(problems[:60])))

    @staticmethod
    def _describe(pids):
        out = []
        for pid in sorted(pids):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                cmd = "?"
            out.append("%d: %s" % (pid, cmd[:200]))
        return out


if __name__ == "__main__":
    unittest.main()
