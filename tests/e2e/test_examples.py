"""End to end: the Slurm batch scripts in docs/examples run unchanged on a
real cluster. Each test copies the folder into its cluster's temporary
folder, submits one script as a user would (`cadre submit SCRIPT`, or a
login-node driver that calls sbatch), waits for every job it makes, and
checks what the scripts printed: ranks, nodes, GPUs, array indices,
pipeline order, the requeued run. A script in docs/examples that no test
here runs fails the module (ExamplesCoverage)."""

import glob
import os
import re
import shutil
import subprocess
import unittest

from harness import REPO_ROOT, ClusterTestCase, binary, wait_until

EXAMPLES = os.path.join(REPO_ROOT, "docs", "examples")

# Only hangs fail on these; a requeued job and a throttled array take a
# while on a loaded CI host.
JOB_TIMEOUT = 180

# Which test runs each script: filled by @runs, checked by ExamplesCoverage.
RUN_BY = {}


def runs(*scripts):
    def mark(test):
        for script in scripts:
            RUN_BY[script] = test.__name__
        return test
    return mark


class Examples(ClusterTestCase):
    AGENTS = 3
    GPUS = 4

    def setUp(self):
        super().setUp()
        # The scripts read their helper files from the working directory, as
        # they would from the folder they are submitted from.
        self.work = self.c.path("work")
        shutil.copytree(EXAMPLES, self.work)

    def sbatch(self, script, *args, env=None):
        r = self.c.cli("submit", "--parsable", script, *args, cwd=self.work, env=env)
        out = r.stdout.strip()
        self.assertTrue(out.isdigit(), "cadre submit %s printed %r (stderr %r)" % (script, r.stdout, r.stderr))
        return int(out)

    def read(self, *parts):
        with open(os.path.join(self.work, *parts)) as f:
            return f.read()

    def finished(self, job):
        return self.c.wait_state(job, "COMPLETED", timeout=JOB_TIMEOUT)

    def array_tasks(self, array, count):
        """Waits until all `count` tasks of the array have ended; returns
        them by index, each COMPLETED."""
        def ended():
            jobs = [j for j in self.c.queue() if j.get("array_job_id") == array]
            if any(j["array_pending"] for j in jobs) or len(jobs) != count:
                return None
            if all(j["state"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")
                   for j in jobs):
                return {j["array_task_id"]: j for j in jobs}
            return None
        tasks = wait_until(ended, JOB_TIMEOUT, "the %d tasks of array %d to end" % (count, array))
        for index, job in sorted(tasks.items()):
            self.assertEqual(job["state"], "COMPLETED", "task %d: %s" % (index, job))
        return tasks

    def check_sweep(self, array, tasks):
        """What array_sweep.sh's tasks printed and wrote, against its
        parameter file."""
        params = [line.split() for line in self.read("array_params.txt").splitlines() if not line.startswith("#")]
        self.assertEqual(sorted(tasks), list(range(len(params))))
        for index, job in tasks.items():
            lr, batch = params[index]
            out = self.read("logs", "sweep_%d_%d.out" % (array, index))
            self.assertRegex(out, r"^task %d of 6 \(array %d, job %d, indices 0-5\) on %s: lr=%s batch=%s\n$"
                             % (index, array, job["id"], job["tasks"][0]["node"], re.escape(lr), batch))
            self.assertEqual(self.read("logs", "sweep_%d_%d.err" % (array, index)), "")
            self.assertTrue(self.read("results", "sweep_%d.txt" % index).startswith("%d %s %s loss=" % (index, lr, batch)))

    # ------------------------------------------------------------ examples

    @runs("torchrun_ddp.sh")
    def test_torchrun_ddp_starts_a_worker_per_gpu_on_each_node_around_one_rendezvous(self):
        job = self.sbatch("torchrun_ddp.sh")
        done = self.finished(job)
        self.assertEqual((done["name"], done["ntasks"], done["tasks_per_node"]), ("ddp-train", 2, 1))
        self.assertEqual((done["cpus_per_task"], done["mem_per_task_mb"], done["time_limit"]), (4, 8192, 1800))
        nodes = done["nodes"]
        self.assertEqual(len(set(nodes)), 2, done)
        gpus = {t["node"]: t["gpus"] for t in done["tasks"]}
        self.assertTrue(all(len(g) == 2 for g in gpus.values()), gpus)

        out = self.read("ddp-train-%d.out" % job)
        rendezvous = "%s:%d" % (nodes[0], 20000 + job % 10000)
        self.assertIn("job %d (ddp-train): 2 nodes" % job, out)
        self.assertIn("rendezvous %s, 2 workers per node" % rendezvous, out)
        self.assertIn("batch script on %s sees CUDA_VISIBLE_DEVICES=%s" % (nodes[0], ",".join(map(str, gpus[nodes[0]]))),
                      out)
        workers = re.findall(r"^worker rank=(\d+) local_rank=(\d) world_size=(\d+) node=(\S+) node_rank=(\d) "
                             r"gpu=(\d+) visible=(\S+) rdzv=(\S+) ok$", out, re.M)
        self.assertEqual(sorted(int(w[0]) for w in workers), [0, 1, 2, 3], out)
        for rank, local, world, node, node_rank, gpu, visible, rdzv in workers:
            rank, local, node_rank = int(rank), int(local), int(node_rank)
            self.assertEqual((world, rdzv), ("4", rendezvous))
            self.assertEqual((node, node_rank, local), (nodes[rank // 2], rank // 2, rank % 2))
            self.assertEqual(visible, ",".join(map(str, gpus[node])))
            self.assertEqual(int(gpu), gpus[node][local], "worker %d uses its own GPU of its node" % rank)
        self.assertTrue(out.endswith("training done\n"), out)

    @runs("mpi_hello.sh")
    def test_mpi_hello_runs_a_rank_per_task_and_the_per_node_and_serial_steps(self):
        job = self.sbatch("mpi_hello.sh")
        done = self.finished(job)
        self.assertEqual((done["ntasks"], done["tasks_per_node"], done["cpus_per_task"]), (4, 2, 2))
        self.assertEqual(done["mem_per_task_mb"], 1024, "--mem-per-cpu=512M times 2 cpus")
        self.assertIn("--hint=nomultithread", done["hints"])
        nodes = done["nodes"]
        self.assertEqual(len(set(nodes)), 2, done)

        out = self.read("mpi-hello-%d.out" % job)
        self.assertIn("tasks: 4 (2(x2))", out)
        self.assertEqual(sorted(re.findall(r"^staged on (\S+)$", out, re.M)), sorted(nodes),
                         "srun --ntasks-per-node=1 runs once on each node")
        hellos = re.findall(r"^hello from rank (\d) of (\d) \(local (\d), node (\d) (\S+), threads (\d)\)$", out, re.M)
        self.assertEqual(sorted(int(h[0]) for h in hellos), [0, 1, 2, 3], out)
        for rank, ntasks, local, node_id, node, threads in hellos:
            rank = int(rank)
            self.assertEqual((ntasks, threads), ("4", "2"))
            self.assertEqual((int(local), int(node_id), node), (rank % 2, rank // 2, nodes[rank // 2]))
        self.assertEqual(re.findall(r"^post-processing on (\S+)$", out, re.M), [nodes[0]])

    @runs("array_sweep.sh")
    def test_array_sweep_runs_each_index_with_its_parameters_at_most_two_at_once(self):
        os.makedirs(os.path.join(self.work, "logs"))  # as its header says: sbatch does not create it
        array = self.sbatch("array_sweep.sh")
        tasks = self.array_tasks(array, 6)
        self.check_sweep(array, tasks)
        # %2: never three running at once (by the master's clock; an end and
        # a start in the same second do not overlap).
        events = sorted([(j["start_time"], 1) for j in tasks.values()] + [(j["end_time"], -1) for j in tasks.values()],
                        key=lambda e: (e[0], e[1]))
        running = peak = 0
        for _, change in events:
            running += change
            peak = max(peak, running)
        self.assertLessEqual(peak, 2, tasks)

    @runs("submit_pipeline.sh", "collect_results.sh")
    def test_submit_pipeline_collects_after_every_task_of_the_sweep_completed(self):
        # A login node: Slurm's commands on PATH (cadre's front ends, first
        # here so that a Slurm installed on the test host is not used).
        slurm_bin = os.path.dirname(binary("cli/slurm-bin/sbatch"))
        env = dict(os.environ, CADRE_MASTER=self.c.endpoint, PATH=slurm_bin + os.pathsep + os.environ["PATH"])
        env.pop("CADRE_TIMEOUT", None)
        r = subprocess.run(["bash", os.path.join(self.work, "submit_pipeline.sh")], cwd=self.c.tmp, env=env,
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))
        self.assertEqual(r.stderr, "")
        array = int(re.search(r"^sweep: array job (\d+)$", r.stdout, re.M).group(1))
        collect = int(re.search(r"^collect: job (\d+) ", r.stdout, re.M).group(1))

        done = self.finished(collect)
        tasks = self.array_tasks(array, 6)
        self.check_sweep(array, tasks)
        self.assertGreaterEqual(done["start_time"], max(j["end_time"] for j in tasks.values()),
                                "afterok on the array waits for its last task")
        out = self.read("collect-%d.out" % collect)
        self.assertEqual(out, "collect (job %d): 6 results\nbest: task 5 lr=0.0005 batch=128 loss=0.0004\n" % collect)

    @runs("chain.sh")
    def test_chain_submits_its_next_stage_from_inside_the_job_until_the_last(self):
        first = self.sbatch("chain.sh")
        log = os.path.join(self.work, "chain.log")

        def three_stages():
            try:
                with open(log) as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                return None
            return lines if len(lines) >= 3 else None
        lines = wait_until(three_stages, JOB_TIMEOUT, "three stages in chain.log")
        stages = [re.fullmatch(r"stage (\d) job (\d+) steps (\d+)", line) for line in lines]
        self.assertTrue(all(stages), lines)
        self.assertEqual([(int(m.group(1)), int(m.group(3))) for m in stages], [(1, 10), (2, 20), (3, 30)])
        jobs = [int(m.group(2)) for m in stages]
        self.assertEqual(jobs[0], first)
        self.assertEqual(len(set(jobs)), 3, jobs)
        previous = None
        for stage, job in enumerate(jobs, 1):
            done = self.finished(job)
            out = self.read("chain-%d.out" % job)
            self.assertTrue(out.startswith("stage %d/3 (job %d on %s): resuming at step %d\n"
                                           % (stage, job, done["tasks"][0]["node"], 10 * (stage - 1))), out)
            if stage < 3:
                self.assertTrue(out.endswith("stage %d is job %d\n" % (stage + 1, jobs[stage])), out)
            else:
                self.assertTrue(out.endswith("chain finished after 30 steps\n"), out)
            if previous:
                self.assertGreaterEqual(done["start_time"], previous["end_time"], "afterok:$SLURM_JOB_ID")
            previous = done
        self.assertEqual(len([j for j in self.c.queue() if j["name"] == "chain"]), 3, "no fourth stage")

    @runs("serial_checkpoint.sh")
    def test_serial_checkpoint_is_signalled_before_its_limit_requeues_itself_and_resumes(self):
        job = self.sbatch("serial_checkpoint.sh", env={"INPUT_LABEL": "ci-label-7"})
        shown = self.c.show(job)
        self.assertEqual((shown["signal"], shown["time_limit"], shown["mem_per_task_mb"]), ("B:USR1@50", 60, 2048))
        self.assertTrue(shown["requeue"])
        self.assertEqual(shown["open_mode"], "append")
        self.assertEqual((shown["mail_type"], shown["mail_user"]), ("END,FAIL", "someone@example.org"))
        self.assertIn("--comment=checkpointed serial job", shown["hints"])

        done = self.finished(job)
        self.assertEqual(done["attempt"], 2, "the trap's scontrol requeue started a second run")
        out = self.read("serial-%d.out" % job)
        caught = re.findall(r"^USR1 at step (\d+): checkpointing and requeueing$", out, re.M)
        self.assertEqual(len(caught), 1, out)
        step = int(caught[0])
        self.assertTrue(0 < step < 15, out)
        # The run number comes from SLURM_RESTART_COUNT, which Slurm sets on a
        # requeued run and cadre does not set yet (both runs print "run 1"),
        # so it is not checked; the resume rests on the checkpoint file.
        starts = re.findall(r"^run \d+ of job %d on \S+: label (\S+), starting at step (\d+) of 15$" % job, out, re.M)
        self.assertEqual(starts, [("ci-label-7", "0"), ("ci-label-7", str(step))], out)
        self.assertTrue(out.endswith("finished 15 steps\n"), out)
        self.assertEqual(self.read("serial-%d.ckpt" % job), "15\n")

    @runs("gpu_tasks.sh")
    def test_gpu_tasks_get_one_gpu_each_and_cpus_and_memory_by_gpu(self):
        job = self.sbatch("gpu_tasks.sh")
        done = self.finished(job)
        self.assertEqual((done["ntasks"], done["gpus_per_task"]), (4, 1))
        self.assertEqual((done["cpus_per_task"], done["mem_per_task_mb"]), (2, 3072))
        given = {t["rank"]: (t["node"], t["gpus"]) for t in done["tasks"]}
        self.assertEqual(len({(node, g[0]) for node, g in given.values()}), 4, "four distinct GPUs: %s" % given)

        out = self.read("gpu-%d.out" % job)
        self.assertIn("job %d: 4 tasks on " % job, out)
        lines = re.findall(r"^task (\d) on (\S+): shard (\d)/4 CUDA_VISIBLE_DEVICES=(\S*) cpus 2$", out, re.M)
        self.assertEqual(sorted(int(t[0]) for t in lines), [0, 1, 2, 3], out)
        for rank, node, shard, visible in lines:
            self.assertEqual(shard, rank)
            self.assertEqual((node, visible), (given[int(rank)][0], str(given[int(rank)][1][0])),
                             "each task sees its own GPU, and only it")

    @runs("exclusive_benchmark.sh")
    def test_exclusive_benchmark_waits_for_its_begin_time_and_avoids_the_excluded_node(self):
        job = self.sbatch("exclusive_benchmark.sh")
        shown = self.c.show(job)
        self.assertIn(shown["begin_time"] - shown["submit_time"], (4, 5, 6), "--begin=now+5: %s" % shown)
        done = self.finished(job)
        self.assertTrue(done["exclusive"])
        self.assertEqual(done["exclude"], "node1")
        self.assertGreaterEqual(done["start_time"], done["begin_time"])
        node = done["tasks"][0]["node"]
        self.assertNotEqual(node, "node1")
        out = self.read("bench-%d.out" % job)
        self.assertTrue(out.startswith("benchmark job %d on %s with 4 threads\n" % (job, node)), out)
        self.assertIn("timing loop on %s\n" % node, out)
        self.assertRegex(out, r"\nloop done in \d+ ms\n$")


class ExamplesCoverage(unittest.TestCase):
    """No cluster: every script in docs/examples is run by a test above."""

    def test_every_example_script_is_run_by_a_test(self):
        scripts = sorted(os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES, "*.sh")))
        self.assertTrue(scripts, "no scripts in %s" % EXAMPLES)
        self.assertEqual([s for s in scripts if s not in RUN_BY], [],
                         "scripts in docs/examples that no test in test_examples.py runs (mark the test @runs)")
        self.assertEqual(sorted(s for s in RUN_BY if s not in scripts), [], "@runs names a script that is gone")
        with open(os.path.join(EXAMPLES, "README.md")) as f:
            readme = f.read()
        self.assertEqual([s for s in scripts if "(%s)" % s not in readme], [], "scripts docs/examples/README.md omits")
        self.assertEqual([s for s in scripts if not os.access(os.path.join(EXAMPLES, s), os.X_OK)], [],
                         "scripts not executable (./submit_pipeline.sh is run that way)")


if __name__ == "__main__":
    unittest.main()
