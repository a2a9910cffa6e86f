"""End to end: the scheduler as a user meets it through cadre-master's TOML
config: partitions and their limits, preemption by partition tier, EASY
backfill and the reasons a job waits, switch topology, per-user limits, and
config errors.

Each test starts its own cluster with its own config and node names (the
partitions select nodes by name, the topology comes from agent labels).
Jobs that must hold a node for a while wait on a release file the test
creates, so nothing depends on how long a sleep takes.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (
    CLI_TIMEOUT,
    FINAL_STATES,
    STATE_TIMEOUT,
    TWO_TIERS,
    Cluster,
    ClusterTestCase,
    binary,
    free_port,
    pid_alive,
    wait_until,
)

# Every config runs the periodic pass every second, so waits that need a
# pass without an event (a --switches wait running out) are short.
FAST_PASSES = '[scheduler]\ninterval = "1s"\n'


class ConfiguredCluster(Cluster):
    """A Cluster whose master reads a TOML config and whose agents have
    chosen names, sizes and labels.

    nodes: {name: {"cpus", "memory", "gpus", "labels"}} (all optional;
    defaults 8 cpus, 32G, 0 GPUs, no labels); node i (1-based, in the given
    order) reports address 127.0.0.i.
    """

    def __init__(self, nodes, config=None, **kw):
        super().__init__(agents=0, **kw)
        self.agent_specs = {}
        for i, (name, spec) in enumerate(nodes.items(), 1):
            full = {"cpus": 8, "memory": "32G", "gpus": 0, "address": "127.0.0.%d" % i, "labels": None}
            full.update(spec)
            self.agent_specs[name] = full
        self.config_path = None
        if config is not None:
            self.config_path = self.path("cadre.toml")
            with open(self.config_path, "w") as f:
                f.write(config)

    def _spawn(self, argv, log_name, env=None):
        # The harness builds the master's and the agents' command lines; add
        # what it does not know about (--config, --labels).
        argv = list(argv)
        if log_name == "master.log" and self.config_path:
            argv += ["--config", self.config_path]
        elif log_name.startswith("agent-") and log_name.endswith(".log"):
            labels = self.agent_specs.get(log_name[len("agent-"):-len(".log")], {}).get("labels")
            if labels:
                argv += ["--labels", labels]
        return super()._spawn(argv, log_name, env=env)


class SchedulingTestCase(ClusterTestCase):
    NODES = {"n1": {}, "n2": {}}
    CONFIG = FAST_PASSES

    def setUp(self):
        self.c = ConfiguredCluster(self.NODES, self.CONFIG, name=type(self).__name__.lower())
        # Registered before start so a failing start is cleaned up too.
        self.addCleanup(self._stop_cluster)
        self.c.start()

    # Helpers ------------------------------------------------------------

    def release_file(self, name="release"):
        return self.c.marker(name)

    def release(self, name="release"):
        with open(self.release_file(name), "w") as f:
            f.write("go\n")

    def held_script(self, tag, release="release", then="exit 0"):
        """A rank script that records its pid in markers/<tag>-<rank>.pid and
        waits (at most ~2 minutes: a hang guard) for markers/<release>."""
        m = self.c.markers
        return (
            'echo $$ > %(m)s/%(tag)s-$CADRE_RANK.pid.tmp && mv %(m)s/%(tag)s-$CADRE_RANK.pid.tmp %(m)s/%(tag)s-$CADRE_RANK.pid; '
            'i=0; while [ ! -e %(m)s/%(release)s ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.1; done; %(then)s'
            % {"m": m, "tag": tag, "release": release, "then": then}
        )

    def wait_pending(self, job_id, reason, timeout=STATE_TIMEOUT):
        """Polls until the job is PENDING with `reason` in its reason; a
        RUNNING job may still get there (preemption), a finished one fails."""
        last = {}

        def reached():
            last["job"] = job = self.c.show(job_id)
            if job["state"] in FINAL_STATES:
                raise AssertionError("job %s ended %s while waiting for PENDING (%s): %s"
                                     % (job_id, job["state"], reason, json.dumps(job)))
            return job if job["state"] == "PENDING" and reason in job["reason"] else None

        try:
            return wait_until(reached, timeout, "job %s to be PENDING with reason %r" % (job_id, reason))
        except AssertionError as e:
            raise AssertionError("%s; last seen: %s" % (e, json.dumps(last.get("job")))) from None

    def assert_stays_pending(self, job_id, reason, seconds=2.5):
        """Watches the job over a few scheduling passes: it must neither
        start nor change its reason."""
        deadline = time.monotonic() + seconds
        job = None
        while time.monotonic() < deadline:
            job = self.c.show(job_id)
            self.assertEqual(job["state"], "PENDING", job)
            self.assertIn(reason, job["reason"], job)
            self.assertEqual(job["tasks"], [], job)
            time.sleep(0.2)
        return job

    def submit_error(self, *args):
        """Runs a submit that must be refused; returns its stderr."""
        r = self.c.cli("submit", "--parsable", *args, "--", "true", check=False)
        self.assertNotEqual(r.returncode, 0, "submit %s was accepted: %s" % (args, r.stdout))
        self.assertEqual(r.stdout.strip(), "", "a refused submit printed a job id")
        return r.stderr


# --------------------------------------------------------------- partitions

class Partitions(SchedulingTestCase):
    NODES = {
        "a1": {"gpus": 0},
        "a2": {"gpus": 0},
        "b1": {"gpus": 2},
        "b2": {"gpus": 2},
    }
    CONFIG = FAST_PASSES + """
[[partition]]
name = "cpu"
nodes = ["a[1-2]"]
default = true
default_time = "30m"
max_time = "1h"

[[partition]]
name = "gpu"
nodes = ["b[1-2]"]
default_time = "10m"
max_time = "2h"
tier = 1
preemptible = false
max_running_jobs_per_user = 3
max_gpus_per_user = 4
"""

    def test_partitions_lists_both_with_their_nodes_limits_and_the_default(self):
        parts = {p["name"]: p for p in json.loads(self.c.cli("partitions", "--json").stdout)["partitions"]}
        self.assertEqual(sorted(parts), ["cpu", "gpu"])
        cpu, gpu = parts["cpu"], parts["gpu"]
        self.assertTrue(cpu["default"], cpu)
        self.assertFalse(gpu["default"], gpu)
        self.assertEqual(sorted(cpu["nodes"]), ["a1", "a2"])
        self.assertEqual(sorted(gpu["nodes"]), ["b1", "b2"])
        self.assertEqual(cpu["patterns"], ["a[1-2]"])
        self.assertEqual(gpu["patterns"], ["b[1-2]"])
        self.assertEqual((cpu["default_time"], cpu["max_time"]), (1800, 3600))
        self.assertEqual((gpu["default_time"], gpu["max_time"]), (600, 7200))
        self.assertEqual((cpu["tier"], gpu["tier"]), (0, 1))
        self.assertEqual((cpu["preemptible"], gpu["preemptible"]), (True, False))
        self.assertEqual((cpu["max_running_jobs_per_user"], cpu["max_gpus_per_user"]), (0, 0))
        self.assertEqual((gpu["max_running_jobs_per_user"], gpu["max_gpus_per_user"]), (3, 4))
        self.assertEqual((cpu["total"]["gpus"], cpu["total"]["cpus"]), (0, 16))
        self.assertEqual((gpu["total"]["gpus"], gpu["total"]["cpus"]), (4, 16))
        self.assertEqual(gpu["free"]["gpus"], 4)
        self.assertEqual((cpu["pending_jobs"], cpu["running_jobs"]), (0, 0))

        # The table marks the default partition with '*'.
        table = self.c.cli("partitions").stdout.splitlines()
        self.assertTrue(table and table[0].startswith("PARTITION"), table)
        names = [line.split()[0] for line in table[1:]]
        self.assertEqual(sorted(names), ["cpu*", "gpu"])

    def test_jobs_run_in_their_partition_and_get_its_default_time(self):
        # -p gpu: only b nodes, with their fake GPUs.
        gpu_job = self.c.submit("echo $CUDA_VISIBLE_DEVICES", "-p", "gpu", "--nodes", "2", "--gpus-per-task", "2")
        # Without -p: the default partition (cpu), only a nodes.
        cpu_job = self.c.submit("true", "--nodes", "2")
        # A small gpu job that would fit anywhere still stays on b nodes.
        small = self.c.submit("true", "--partition", "gpu", "--ntasks", "3")

        done = self.c.wait_state(gpu_job, "COMPLETED")
        self.assertEqual(done["partition"], "gpu")
        self.assertEqual(sorted(done["nodes"]), ["b1", "b2"])
        self.assertEqual(done["time_limit"], 600, "gpu's default_time")
        for rank in range(2):
            with open(self.c.output(gpu_job, rank)) as f:
                self.assertEqual(sorted(f.read().strip().split(",")), ["0", "1"], "rank %d's GPUs" % rank)

        done = self.c.wait_state(cpu_job, "COMPLETED")
        self.assertEqual(done["partition"], "cpu")
        self.assertEqual(sorted(done["nodes"]), ["a1", "a2"])
        self.assertEqual(done["time_limit"], 1800, "cpu's default_time")

        done = self.c.wait_state(small, "COMPLETED")
        self.assertEqual(done["partition"], "gpu")
        self.assertTrue(set(done["nodes"]) <= {"b1", "b2"}, done["nodes"])
        self.assertTrue({t["node"] for t in done["tasks"]} <= {"b1", "b2"}, done["tasks"])

        # An explicit --time within the limit is kept; show prints the partition.
        timed = self.c.submit("true", "--time", "45")
        done = self.c.wait_state(timed, "COMPLETED")
        self.assertEqual(done["time_limit"], 45 * 60)
        plain = self.c.cli("show", str(timed)).stdout
        self.assertIn("Partition=cpu\n", plain)
        self.assertIn("TimeLimit=", plain)

    def test_submit_is_refused_for_an_unknown_partition_a_time_above_max_time_and_gpus_the_partition_lacks(self):
        err = self.submit_error("-p", "nope")
        self.assertIn("nope", err)
        self.assertIn("cpu", err)
        self.assertIn("gpu", err)

        err = self.submit_error("--time", "1:00:01")  # cpu allows 1h
        self.assertIn("cpu", err)
        self.assertIn("at most", err)
        err = self.submit_error("-p", "gpu", "--time", "2-00:00:00")  # gpu allows 2h
        self.assertIn("gpu", err)
        self.assertIn("at most", err)

        # The default partition has no GPUs: such a job could never run there.
        err = self.submit_error("--gpus-per-task", "1")
        self.assertIn("cpu", err)
        # max_gpus_per_user = 4 in gpu.
        err = self.submit_error("-p", "gpu", "--ntasks", "3", "--gpus-per-task", "2")
        self.assertIn("4", err)

        # Nothing of that reached the queue.
        self.assertEqual(self.c.queue(), [])

    def test_time_unlimited_is_refused_by_a_partition_with_max_time(self):
        # The user guide: "0, UNLIMITED and INFINITE mean no limit"; the
        # scheduling guide: longer requests than max_time "are refused at
        # submit". No limit is longer than any max_time.
        for value in ("UNLIMITED", "0"):
            with self.subTest(time=value):
                r = self.c.cli("submit", "--parsable", "--time", value, "--", "true", check=False)
                accepted = r.returncode == 0 and r.stdout.strip().isdigit()
                limit = self.c.show(int(r.stdout.strip()))["time_limit"] if accepted else None
                self.assertFalse(accepted, "--time %s in partition cpu (max_time 1h) was accepted with time_limit=%s"
                                 % (value, limit))
                self.assertIn("at most", r.stderr)


# --------------------------------------------------------------- preemption

class Preemption(SchedulingTestCase):
    NODES = {"n1": {}, "n2": {}}
    CONFIG = FAST_PASSES + TWO_TIERS

    def low_script(self):
        """First attempt: record the pid, sleep until SIGTERM, then write
        markers/low-<rank>-<attempt>.term and exit. Later attempts write
        markers/low-<rank>-<attempt>.done and exit at once."""
        m = self.c.markers
        return (
            'if [ "$CADRE_ATTEMPT" -gt 1 ]; then echo done > %(m)s/low-$CADRE_RANK-$CADRE_ATTEMPT.done; exit 0; fi; '
            "trap 'echo term > %(m)s/low-$CADRE_RANK-$CADRE_ATTEMPT.term; exit 0' TERM; "
            'echo $$ > %(m)s/low-$CADRE_RANK.pid.tmp && mv %(m)s/low-$CADRE_RANK.pid.tmp %(m)s/low-$CADRE_RANK.pid; '
            "sleep 300 & wait $!; exit 3" % {"m": m}
        )

    def test_higher_tier_job_preempts_a_lower_tier_gang_which_then_runs_again(self):
        low = self.c.submit(self.low_script(), "--nodes", "2", "-c", "8")  # default partition: low
        running = self.c.wait_state(low, "RUNNING")
        self.assertEqual(running["partition"], "low")
        self.assertEqual(running["attempt"], 1)
        low_pids = self.c.wait_pid_files(2, "low-")

        high = self.c.submit(self.held_script("high"), "-p", "high", "--nodes", "2", "-c", "8")

        # The low gang is stopped: SIGTERM reaches every rank, and the job
        # goes back to the queue saying who preempted it.
        job = self.wait_pending(low, "Preempted by job %d" % high)
        self.assertEqual(job["preemptions"], 1, job)
        wait_until(
            lambda: all(os.path.exists(self.c.marker("low-%d-1.term" % r)) for r in range(2)),
            STATE_TIMEOUT, "both low ranks to write their SIGTERM marker",
        )
        self.c.wait_pids_gone(low_pids)

        # The high job runs on the nodes the low job had; the low job waits.
        running = self.c.wait_state(high, "RUNNING")
        self.assertEqual(sorted(running["nodes"]), ["n1", "n2"])
        self.c.wait_pid_files(2, "high-")
        job = self.c.show(low)
        self.assertEqual(job["state"], "PENDING", job)
        self.assertIn("Preempted by job %d" % high, job["reason"])
        self.assertEqual(job["preemptions"], 1, job)
        self.assertEqual(job["attempt"], 1, job)
        # Until it starts again it shows its stopped attempt, all of it ended.
        live = [t for t in job["tasks"] if t["state"] not in ("COMPLETED", "CANCELLED", "FAILED")]
        self.assertEqual(live, [], job)
        plain = self.c.cli("show", str(low)).stdout
        self.assertIn("Preemptions=1\n", plain)
        self.assertIn("Preempted by job %d" % high, plain)
        self.assertEqual(self.c.show(high)["preemptions"], 0)

        self.release()
        done = self.c.wait_state(high, "COMPLETED")
        self.assertEqual(done["exit_code"], 0)

        # Then the low job runs again, as attempt 2, from the start.
        done = self.c.wait_state(low, "COMPLETED")
        self.assertEqual(done["attempt"], 2, done)
        self.assertEqual(done["preemptions"], 1, done)
        self.assertEqual(done["exit_code"], 0, done)
        self.assertEqual(sorted(done["nodes"]), ["n1", "n2"])
        for r in range(2):
            self.assertTrue(os.path.exists(self.c.marker("low-%d-2.done" % r)), "rank %d did not run attempt 2" % r)
            self.assertFalse(os.path.exists(self.c.marker("low-%d-2.term" % r)), "attempt 2 of rank %d was stopped" % r)
        self.assertGreaterEqual(done["start_time"], self.c.show(high)["end_time"])
        self.c.wait_all_free()

    def test_higher_tier_job_that_fits_without_preemption_preempts_nothing(self):
        low = self.c.submit(self.low_script(), "--nodes", "1", "-c", "8")
        running = self.c.wait_state(low, "RUNNING")
        low_node = running["nodes"]
        self.assertEqual(len(low_node), 1)
        low_pids = self.c.wait_pid_files(1, "low-")

        high = self.c.submit("true", "-p", "high", "--nodes", "1", "-c", "8")
        done = self.c.wait_state(high, "COMPLETED")
        self.assertEqual(done["preemptions"], 0)
        self.assertNotEqual(done["nodes"], low_node, "the high job ran on the low job's node")

        job = self.c.show(low)
        self.assertEqual(job["state"], "RUNNING", job)
        self.assertEqual(job["attempt"], 1, job)
        self.assertEqual(job["preemptions"], 0, job)
        self.assertNotIn("Preempted", job["reason"])
        self.assertTrue(all(pid_alive(p) for p in low_pids.values()), "a low rank died")
        self.assertFalse(any(f.endswith(".term") for f in os.listdir(self.c.markers)), "a low rank got SIGTERM")


# ----------------------------------------------------------------- backfill

class Backfill(SchedulingTestCase):
    NODES = {"n1": {}, "n2": {}}
    CONFIG = FAST_PASSES  # one implicit partition, EASY backfill

    def test_reservation_expected_start_and_backfill_of_jobs_that_end_before_it(self):
        # The holder takes all of one node for at most 10 minutes.
        holder = self.c.submit(self.held_script("holder"), "-c", "8", "--time", "10")
        held = self.c.wait_state(holder, "RUNNING")
        self.assertEqual(held["time_limit"], 600)
        self.assertEqual(len(held["nodes"]), 1)
        free_node = ({"n1", "n2"} - set(held["nodes"])).pop()

        # A whole-cluster job must wait for the holder: it gets the reservation.
        wide = self.c.submit("true", "--nodes", "2", "-c", "8", "--time", "5")
        job = self.wait_pending(wide, "Reservation")
        self.assertGreater(job["expected_start"], 0, job)
        # It is planned at the holder's time limit.
        self.assertGreaterEqual(job["expected_start"], held["start_time"] + 600 - 1, job)
        self.assertLessEqual(job["expected_start"], held["start_time"] + 600 + 1, job)
        plain = self.c.cli("show", str(wide)).stdout
        self.assertIn("ExpectedStart=", plain)
        self.assertIn("Reason=Reservation", plain)
        self.assertIn("Priority=", plain)

        # A job on the free node for longer than the holder has left would
        # delay the reservation: it waits, behind the reserved job.
        long_job = self.c.submit("true", "-c", "8", "--time", "20")
        self.wait_pending(long_job, "Priority")
        # A short one ends before the reservation starts: it backfills now.
        short = self.c.submit("echo $CADRE_NODE_NAME", "-c", "8", "--time", "1")
        done = self.c.wait_state(short, "COMPLETED")
        self.assertEqual(done["nodes"], [free_node])
        with open(self.c.output(short, 0)) as f:
            self.assertEqual(f.read().strip(), free_node)

        # The long one still waits, and the reservation still holds.
        self.wait_pending(long_job, "Priority")
        self.assert_stays_pending(long_job, "Priority")
        job = self.c.show(wide)
        self.assertEqual(job["state"], "PENDING", job)
        self.assertIn("Reservation", job["reason"])
        self.assertEqual(self.c.show(holder)["state"], "RUNNING")

        # Once the holder ends, the reserved job goes first, then the long one.
        self.release()
        self.c.wait_state(holder, "COMPLETED")
        wide_done = self.c.wait_state(wide, "COMPLETED")
        long_done = self.c.wait_state(long_job, "COMPLETED")
        self.assertGreaterEqual(long_done["start_time"], wide_done["start_time"])


# ----------------------------------------------------------------- topology

class Topology(SchedulingTestCase):
    NODES = {
        "n1": {"labels": "switch=s1,rack=r1"},
        "n2": {"labels": "switch=s1,rack=r1"},
        "n3": {"labels": "switch=s2,rack=r1"},
        "n4": {"labels": "switch=s2,rack=r1"},
    }
    # pin1 and pin3 let a test fill exactly the node it means to.
    CONFIG = FAST_PASSES + """
[[partition]]
name = "all"
default = true

[[partition]]
name = "pin1"
nodes = ["n1"]

[[partition]]
name = "pin3"
nodes = ["n3"]
"""

    def test_gangs_stay_on_one_switch_and_switches_limit_waits_then_relaxes(self):
        labels = {n["name"]: n["labels"] for n in self.c.nodes()}
        self.assertEqual(labels["n1"], {"switch": "s1", "rack": "r1"})
        self.assertEqual(labels["n4"], {"switch": "s2", "rack": "r1"})

        h1 = self.c.submit(self.held_script("h1"), "-p", "pin1", "-c", "8")
        self.assertEqual(self.c.wait_state(h1, "RUNNING")["nodes"], ["n1"])

        # n2 (s1), n3 and n4 (s2) are free: a 2-node gang takes one switch.
        pair = self.c.submit("true", "--nodes", "2")
        done = self.c.wait_state(pair, "COMPLETED")
        self.assertEqual(sorted(done["nodes"]), ["n3", "n4"])

        # Now fill n3 too: one free node on each switch.
        h3 = self.c.submit(self.held_script("h3"), "-p", "pin3", "-c", "8")
        self.assertEqual(self.c.wait_state(h3, "RUNNING")["nodes"], ["n3"])
        # A whole-cluster job ranked first holds the EASY reservation, so the
        # jobs below show why they cannot start now rather than a reservation.
        big = self.c.submit("true", "--nodes", "4", "--priority", "100")
        self.wait_pending(big, "Reservation")

        strict = self.c.submit("true", "--nodes", "2", "--switches", "1", "--time", "5")
        job = self.wait_pending(strict, "Topology")
        self.assertEqual((job["switches"], job["switches_wait"]), (1, 0))
        self.assertIn("Switches=1\n", self.c.cli("show", str(strict)).stdout)
        self.assert_stays_pending(strict, "Topology")

        # With a wait, the limit is relaxed once the job waited that long.
        relaxed = self.c.submit("hostname", "--nodes", "2", "--switches", "1@0:03", "--time", "5")
        job = self.c.show(relaxed)
        self.assertEqual((job["switches"], job["switches_wait"]), (1, 3))
        done = self.c.wait_state(relaxed, "COMPLETED")
        self.assertEqual(sorted(done["nodes"]), ["n2", "n4"], "should run across the switches")
        self.assertGreaterEqual(done["start_time"] - done["submit_time"], 3, "started before its switches wait")

        # The same with --switches-wait; the strict job still waits.
        relaxed2 = self.c.submit("true", "--nodes", "2", "--switches", "1", "--switches-wait", "0:02", "--time", "5")
        self.assertEqual(self.c.show(relaxed2)["switches_wait"], 2)
        done = self.c.wait_state(relaxed2, "COMPLETED")
        self.assertEqual(sorted(done["nodes"]), ["n2", "n4"])
        self.assertEqual(self.c.show(strict)["state"], "PENDING")

        # Freeing n1 puts two free nodes on s1: the strict job starts there.
        self.c.cancel(big)
        self.release()
        self.c.wait_state(h1, "COMPLETED")
        self.c.wait_state(h3, "COMPLETED")
        done = self.c.wait_state(strict, "COMPLETED")
        switches = {labels[n]["switch"] for n in done["nodes"]}
        self.assertEqual(len(switches), 1, done["nodes"])


# ---------------------------------------------------------- per-user limits

class PerUserLimit(SchedulingTestCase):
    NODES = {"n1": {}, "n2": {}}
    CONFIG = FAST_PASSES + """
[[partition]]
name = "limited"
default = true
max_running_jobs_per_user = 1
"""

    def test_second_job_of_a_user_waits_for_partition_limit_until_the_first_ends(self):
        first = self.c.submit(self.held_script("first"))
        self.c.wait_state(first, "RUNNING")
        self.c.wait_pid_files(1, "first-")

        second = self.c.submit("true")
        self.wait_pending(second, "PartitionLimit")
        self.assert_stays_pending(second, "PartitionLimit")
        self.assertIn("Reason=PartitionLimit", self.c.cli("show", str(second)).stdout)
        queue = self.c.cli("queue").stdout
        self.assertIn("(PartitionLimit)", queue)

        self.release()
        first_done = self.c.wait_state(first, "COMPLETED")
        second_done = self.c.wait_state(second, "COMPLETED")
        self.assertGreaterEqual(second_done["start_time"], first_done["end_time"])


# ------------------------------------------------------------ config errors

class ConfigErrors(unittest.TestCase):
    """cadre-master's --config and --check-config, without a cluster."""

    def setUp(self):
        self.master_bin = binary("master/cadre-master")
        self.tmp = tempfile.mkdtemp(prefix="cadre-e2e-config-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def master(self, *args):
        argv = [self.master_bin] + list(args)
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=self.tmp,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("`%s` did not exit within %ss" % (" ".join(argv), CLI_TIMEOUT)) from e

    GOOD = """[scheduler]
policy = "easy"
interval = "1s"

[[partition]]
name = "cpu"
nodes = ["a[1-2]"]
default = true
default_time = "30m"
max_time = "1h"

[[partition]]
name = "gpu"
nodes = ["b[1-2]"]
tier = 1
max_running_jobs_per_user = 2
"""

    def test_master_refuses_to_start_with_an_unknown_key_and_names_the_file_and_line(self):
        path = self.write("unknown.toml", '[scheduler]\ninterval = "1s"\npolcy = "easy"\n')
        r = self.master("--config", path, "--listen", "tcp://127.0.0.1:%d" % free_port(),
                        "--state-dir", os.path.join(self.tmp, "state"))
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("unknown.toml:3:", r.stderr)
        self.assertIn("polcy", r.stderr)

    def test_check_config_accepts_a_good_file(self):
        path = self.write("good.toml", self.GOOD)
        r = self.master("--check-config", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK", r.stdout)
        self.assertIn("2 partition", r.stdout)

    def test_check_config_rejects_bad_values_naming_the_file_and_line(self):
        cases = [
            ('[scheduler]\npolicy = "fastest"\n', 2, "policy"),
            ('[[partition]]\nname = "p"\ndefault_time = "2h"\nmax_time = "1h"\n', None, "max_time"),
            ('[[partition]]\nname = "p"\nnodes = ["n[3-1]"]\n', 3, "nodes"),
            ('[[partition]]\nname = "p"\n[[partition]]\nname = "p"\n', None, "p"),
            ('[scheduler]\ninterval = 0\n', 2, "interval"),
        ]
        for i, (text, line, word) in enumerate(cases):
            with self.subTest(config=text):
                name = "bad%d.toml" % i
                path = self.write(name, text)
                r = self.master("--check-config", "--config", path)
                self.assertNotEqual(r.returncode, 0, "accepted:\n%s\n%s" % (text, r.stdout))
                self.assertIn(name + ":" + ("%d:" % line if line else ""), r.stderr)
                self.assertIn(word, r.stderr)
                self.assertNotIn("OK", r.stdout)

    def test_check_config_without_config_and_a_missing_file_are_errors(self):
        r = self.master("--check-config")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--config", r.stderr)
        missing = os.path.join(self.tmp, "missing.toml")
        r = self.master("--check-config", "--config", missing)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing.toml", r.stderr)


if __name__ == "__main__":
    unittest.main()
