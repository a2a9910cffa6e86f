"""End to end: Slurm's own commands (srun, sbatch, squeue, scancel,
scontrol, sinfo) as batch scripts call them, answered by cadre's front
ends (issue 18): inside a job they are on PATH after everything else, so a
script written for Slurm runs as written; outside one they answer in
Slurm's words."""

import os
import re
import subprocess

from harness import CLI_TIMEOUT, ClusterTestCase, binary, wait_until, write_script


class SlurmCommands(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def front(self, name, *args, check=True):
        env = dict(os.environ, CADRE_MASTER=self.c.endpoint)
        r = subprocess.run([binary("cli/slurm-bin/" + name)] + list(args), capture_output=True, text=True,
                           timeout=CLI_TIMEOUT, cwd=self.c.tmp, env=env)
        if check:
            self.assertEqual(r.returncode, 0, "%s %s: %s" % (name, args, r.stderr))
        return r

    def test_a_slurm_script_runs_as_written(self):
        script = write_script(self.c.path("train.sbatch"), """
            #!/bin/bash
            #SBATCH --job-name=ddp
            #SBATCH -N 2
            #SBATCH --ntasks-per-node=1
            #SBATCH --output=slurm-%j.out
            MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
            echo "master $MASTER_ADDR of $(scontrol show hostnames $SLURM_JOB_NODELIST | wc -l)"
            srun --mpi=pmix -l bash -c 'echo "rank $SLURM_PROCID of $SLURM_NTASKS"'
            srun -n 1 echo one step
            echo "queued $(squeue -h -j $SLURM_JOB_ID | wc -l)"
            next=$(sbatch --parsable --dependency=afterok:$SLURM_JOB_ID --wrap "echo next stage")
            echo "next $next"
            """)
        r = self.front("sbatch", script)
        m = re.fullmatch(r"Submitted batch job (\d+)\n", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        job = int(m.group(1))
        self.c.wait_state(job, "COMPLETED")
        with open(self.c.path("slurm-%d.out" % job)) as f:
            out = f.read()
        self.assertIn("master node1 of 2", out)
        self.assertEqual(sorted(re.findall(r"rank \d of 2", out)), ["rank 0 of 2", "rank 1 of 2"])
        self.assertIn("one step", out)
        self.assertIn("queued 1", out)
        nxt = int(re.search(r"next (\d+)", out).group(1))
        done = self.c.wait_state(nxt, "COMPLETED")
        self.assertGreaterEqual(done["start_time"], self.c.show(job)["end_time"])

    def test_outside_a_job_the_commands_answer_in_slurms_words(self):
        r = self.front("scontrol", "show", "hostnames", "node[1-3],login")
        self.assertEqual(r.stdout.split(), ["node1", "node2", "node3", "login"])
        self.assertEqual(self.front("scontrol", "show", "hostlist", "n1,n2,n3,n7").stdout.strip(), "n[1-3,7]")
        r = self.front("sbatch", "--parsable", "--hold", "--wrap", "sleep 30")
        job = int(r.stdout.strip())
        self.assertEqual(self.c.show(job)["reason"], "JobHeldUser")
        table = self.front("squeue").stdout.splitlines()
        self.assertTrue(table[0].startswith("JOBID"), table)
        self.assertEqual(len(self.front("squeue", "-h").stdout.splitlines()), 1)
        self.front("scontrol", "release", str(job))
        self.c.wait_state(job, "RUNNING")
        self.front("scontrol", "update", "JobId=%d" % job, "TimeLimit=5")
        self.assertEqual(self.c.show(job)["time_limit"], 300)
        self.assertIn("JobId=%d" % job, self.front("scontrol", "show", "job", str(job)).stdout)
        self.front("scancel", str(job))
        self.c.wait_state(job, "CANCELLED")
        self.assertIn("PARTITION", self.front("sinfo").stdout.upper())
        r = self.front("srun", "-n", "2", "echo", "hi", "from", "srun")
        self.assertEqual(r.stdout.count("hi from srun"), 2, r.stdout)
        r = self.front("scontrol", "ping", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("scontrol ping is not supported", r.stderr)
