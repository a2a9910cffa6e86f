"""End to end: batch scripts (#CADRE and #SBATCH), `cadre run` inside and
outside a job, and a real Open MPI program started by mpirun through cadre."""

import os
import shutil
import subprocess
import unittest

from harness import ClusterTestCase, parse_env, read_number, wait_until, write_script


class BatchScripts(ClusterTestCase):
    AGENTS = 2
    GPUS = 2

    def submit_script(self, path, *args):
        r = self.c.cli("submit", "--parsable", path, *args, cwd=os.path.dirname(path))
        out = r.stdout.strip()
        self.assertTrue(out.isdigit(), "submit printed %r (stderr %s)" % (r.stdout, r.stderr))
        return int(out)

    def test_a_migrated_slurm_script_gets_what_slurm_would_allocate_and_runs_once_with_the_slurm_environment(self):
        script = write_script(self.c.path("train.sbatch"), """
            #!/bin/bash
            #SBATCH --job-name=migrated
            #SBATCH --nodes=2
            #SBATCH --ntasks-per-node=2
            #SBATCH --cpus-per-task=2
            #SBATCH --mem=4G
            #SBATCH --gres=gpu:2
            #SBATCH --time=00:10:00
            #SBATCH --output=%x-%j.out
            #SBATCH --error=%x-%j.err
            # A comment between directives is fine.
            #SBATCH -p default

            echo "script ran on $CADRE_NODE_NAME with args $*"
            env | sort
            echo "to stderr" >&2
            # srun's role: once per task of the allocation.
            cadre run -- sh -c 'echo "task $SLURM_PROCID of $SLURM_NTASKS on $CADRE_NODE_NAME"'
            echo "step exit $?"
            """)
        job_id = self.submit_script(script, "first", "--second")
        job = self.c.wait_state(job_id, "COMPLETED")

        # As Slurm reads it: 2 nodes x 2 tasks, --mem per node (so 2G per
        # task), --gres GPUs per node (so one per task).
        self.assertEqual(job["name"], "migrated")
        self.assertEqual(job["nodes_requested"], 2)
        self.assertEqual(job["tasks_per_node"], 2)
        self.assertEqual(job["ntasks"], 4)
        self.assertEqual(job["cpus_per_task"], 2)
        self.assertEqual(job["mem_per_task_mb"], 2048)
        self.assertEqual(job["gpus_per_task"], 1)
        self.assertEqual(job["time_limit"], 600)
        self.assertTrue(job["batch"])
        self.assertEqual(job["output"], "%x-%j.out")
        self.assertEqual(job["command"][1:], ["first", "--second"])
        self.assertEqual(len(job["nodes"]), 2)

        out_path = self.c.path("migrated-%d.out" % job_id)
        with open(out_path) as f:
            out = f.read()
        with open(self.c.path("migrated-%d.err" % job_id)) as f:
            self.assertIn("to stderr", f.read())
        # The script ran once, on the first node of the allocation.
        self.assertEqual(out.count("script ran on"), 1, out)
        self.assertIn("script ran on %s with args first --second" % job["nodes"][0], out)
        env = parse_env(out)
        self.assertEqual(env["SLURM_JOB_ID"], str(job_id))
        self.assertEqual(env["SLURM_NNODES"], "2")
        self.assertEqual(env["SLURM_NTASKS"], "4")
        self.assertEqual(env["SLURM_CPUS_PER_TASK"], "2")
        self.assertEqual(env["SLURM_JOB_NODELIST"], "node[1-2]")
        self.assertEqual(env["SLURM_TASKS_PER_NODE"], "2(x2)")
        self.assertEqual(env["SLURM_PROCID"], "0")
        self.assertEqual(env["SLURM_JOB_NAME"], "migrated")
        self.assertEqual(env["CADRE_NODELIST"], "node1,node2")
        # The step ran once per task, two on each node, and the script saw its exit code.
        tasks = sorted(line for line in out.splitlines() if line.startswith("task "))
        self.assertEqual(tasks, ["task 0 of 4 on node1", "task 1 of 4 on node1", "task 2 of 4 on node2",
                                 "task 3 of 4 on node2"])
        self.assertIn("step exit 0", out)

    def test_cadre_directives_and_command_line_flags_override_in_order(self):
        script = write_script(self.c.path("ordered.sh"), """
            #!/bin/sh
            #CADRE --ntasks 3 --name from-directive
            #SBATCH --time=5
            echo "$SLURM_NTASKS $SLURM_JOB_NAME"
            """)
        job_id = self.submit_script(script)
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual((job["ntasks"], job["name"], job["time_limit"]), (3, "from-directive", 300))

        job_id = int(self.c.cli("submit", "--parsable", "--ntasks", "2", "-J", "from-flag", script,
                                cwd=self.c.tmp).stdout.strip())
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual((job["ntasks"], job["name"]), (2, "from-flag"))
        with open(self.c.path("cadre-%d.out" % job_id)) as f:
            self.assertEqual(f.read().strip(), "2 from-flag")

    def test_unknown_and_unsupported_directives_are_refused_with_the_line(self):
        bad = write_script(self.c.path("bad.sh"), """
            #!/bin/bash
            #SBATCH --nodes=1
            #SBATCH --thread-spec=2
            hostname
            """)
        r = self.c.cli("submit", bad, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--thread-spec", r.stderr)
        self.assertIn("line 3", r.stderr)

        array = write_script(self.c.path("array.sh"), """
            #!/bin/bash
            #SBATCH --array=1-10:0
            hostname
            """)
        r = self.c.cli("submit", array, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--array=1-10:0", r.stderr)
        self.assertEqual(self.c.queue(), [], "a refused script queued a job")

    def test_a_failing_step_reports_the_worst_exit_code_and_the_script_decides_the_job(self):
        script = write_script(self.c.path("steps.sh"), """
            #!/bin/sh
            #CADRE --nodes 2 --tasks-per-node 1
            cadre run -- sh -c 'exit $((CADRE_RANK * 3))'
            echo "first step $?"
            cadre run --ntasks 1 -- true
            echo "second step $?"
            cadre run --ntasks 9 -- true
            echo "third step $?"
            exit 4
            """)
        job_id = self.submit_script(script)
        job = self.c.wait_state(job_id, "FAILED")
        self.assertEqual(job["exit_code"], 4)
        with open(self.c.path("cadre-%d.out" % job_id)) as f:
            out = f.read()
        self.assertIn("first step 3", out)
        self.assertIn("second step 0", out)
        self.assertIn("third step 1", out)
        self.assertIn("more than the 2 tasks", out)
        # Its slots were all given back.
        self.c.wait_all_free()

    def test_cancelling_a_batch_job_kills_its_script_and_steps(self):
        marker = self.c.marker("step-started")
        script = write_script(self.c.path("long.sh"), """
            #!/bin/sh
            #CADRE --nodes 2
            cadre run -- sh -c 'echo $$ > %s-$CADRE_RANK; exec sleep 300'
            """ % marker)
        job_id = self.submit_script(script)
        self.c.wait_state(job_id, "RUNNING")
        pids = [wait_until(lambda: read_number("%s-%d" % (marker, rank)), 60, "step rank %d to start" % rank)
                for rank in (0, 1)]
        self.c.cancel(job_id)
        self.c.wait_state(job_id, "CANCELLED")
        self.c.wait_pids_gone(pids)
        self.c.wait_all_free()

    def test_cadre_run_outside_a_job_submits_waits_and_shows_the_output(self):
        # Rank 1 fails (ending the job) only once rank 0 has written its line.
        script = ('echo hello from $CADRE_RANK; [ $CADRE_RANK = 0 ] && exit 0; i=0; '
                  'until grep -q "hello from 0" cadre-$CADRE_JOB_ID.out 2>/dev/null; do '
                  'i=$((i+1)); [ $i -gt 300 ] && break; sleep 0.1; done; exit 1')
        r = self.c.cli("run", "--nodes", "2", "--", "sh", "-c", script, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("hello from 0", r.stdout)
        self.assertIn("hello from 1", r.stdout)

    def test_submit_from_a_file_is_all_or_nothing_and_names_the_refused_line(self):
        jobs = self.c.path("jobs.txt")
        lines = ["# three jobs and one the master refuses\n",
                 "--name first -- sh -c 'echo one'\n",
                 "\n",
                 "--ntasks 2 --name second -- true\n",
                 "--partition nowhere -- true\n",
                 "--nodes 2 --name third -- hostname\n"]
        with open(jobs, "w") as f:
            f.writelines(lines)
        r = self.c.cli("submit", "--parsable", "--from", jobs, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout.split(), [])
        self.assertIn("jobs.txt line 5: no partition 'nowhere'", r.stderr)
        self.assertIn("nothing was submitted", r.stderr)
        self.assertEqual(self.c.queue(), [])

        # Without the refused line, every job goes in, in file order.
        del lines[4]
        with open(jobs, "w") as f:
            f.writelines(lines)
        r = self.c.cli("submit", "--parsable", "--from", jobs)
        ids = [int(x) for x in r.stdout.split()]
        self.assertEqual(len(ids), 3)
        names = [self.c.wait_state(i, "COMPLETED")["name"] for i in ids]
        self.assertEqual(names, ["first", "second", "third"])

        # A line that does not parse stops everything before anything is sent.
        with open(jobs, "a") as f:
            f.write("--ntasks many -- true\n")
        r = self.c.cli("submit", "--from", jobs, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 6: --ntasks", r.stderr)
        self.assertEqual(len(self.c.queue()), 3)

    def test_queue_lists_more_jobs_than_one_reply_holds(self):
        # The master answers listJobs in pages of 10,000 jobs; cadre queue
        # asks for every page. The first job takes both nodes, the rest wait.
        count = 10500
        jobs = self.c.path("many.txt")
        with open(jobs, "w") as f:
            for i in range(count):
                f.write("--nodes 2 --tasks-per-node 1 --cpus-per-task 8 --time 10:00 -- sleep 600\n")
        r = self.c.cli("submit", "--parsable", "--from", jobs, timeout=300)
        ids = [int(x) for x in r.stdout.split()]
        self.assertEqual(len(ids), count)
        listed = self.c.queue(all_jobs=False)
        self.assertEqual([j["id"] for j in listed], sorted(ids))
        self.assertEqual(sum(1 for j in listed if j["state"] == "PENDING"), count - 1)
        table = self.c.cli("queue").stdout.splitlines()
        self.assertEqual(len(table), count + 1)  # and the header

    def test_cadre_rsh_refuses_to_run_outside_a_job(self):
        r = self.c.cli("rsh", "node1", "hostname", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("inside a job", r.stderr)


@unittest.skipUnless(shutil.which("mpicc") and shutil.which("mpirun"),
                     "Open MPI not installed (apt-get install openmpi-bin libopenmpi-dev; scripts/test does)")
class OpenMpi(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    PROGRAM = r"""
        #include <mpi.h>
        #include <stdio.h>
        #include <stdlib.h>

        int main(int argc, char** argv) {
          MPI_Init(&argc, &argv);
          int rank, size;
          MPI_Comm_rank(MPI_COMM_WORLD, &rank);
          MPI_Comm_size(MPI_COMM_WORLD, &size);
          long mine = rank + 1, sum = 0;
          MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
          const char* node = getenv("CADRE_NODE_NAME");
          const char* job = getenv("CADRE_JOB_ID");
          printf("mpi rank %d of %d on %s job %s sum %ld\n", rank, size, node ? node : "?", job ? job : "?", sum);
          MPI_Finalize();
          return sum == (long)size * (size + 1) / 2 ? 0 : 1;
        }
        """

    def test_mpirun_in_a_batch_job_starts_every_rank_on_the_node_cadre_gave_it(self):
        src = write_script(self.c.path("allreduce.c"), self.PROGRAM, mode=0o644)
        prog = self.c.path("allreduce")
        subprocess.run(["mpicc", "-o", prog, src], check=True, capture_output=True, timeout=120)
        script = write_script(self.c.path("mpi.sh"), """
            #!/bin/bash
            #SBATCH --nodes=2
            #SBATCH --ntasks-per-node=2
            #SBATCH --job-name=allreduce
            #SBATCH --output=mpi-%%j.out
            # Open MPI refuses root unless told; the test may run as root.
            export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
            # Both "nodes" are this one host: their shared-memory segments
            # would collide, so ranks talk over TCP, as on a real cluster.
            export OMPI_MCA_btl=self,tcp
            mpirun --hostfile $CADRE_HOSTFILE %s
            """ % prog)
        job_id = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        job = self.c.wait_state(job_id, ("COMPLETED", "FAILED"), timeout=180)
        with open(self.c.path("mpi-%d.out" % job_id)) as f:
            out = f.read()
        self.assertEqual(job["state"], "COMPLETED", out)
        lines = sorted(l for l in out.splitlines() if l.startswith("mpi rank"))
        self.assertEqual(len(lines), 4, out)
        # 2 ranks per node, in the order of the hostfile, all in this job.
        for rank, line in enumerate(lines):
            node = "node1" if rank < 2 else "node2"
            self.assertEqual(line, "mpi rank %d of 4 on %s job %d sum 10" % (rank, node, job_id))


if __name__ == "__main__":
    unittest.main()
