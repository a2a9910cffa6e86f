"""End to end: the environment a job starts with, as sbatch's --export
gives it (issue 18, item 1): the submitting shell's variables by default,
NONE, a list of names and NAME=value, --export-file, #SBATCH --export, the
SLURM_* variables sbatch sets, a step started by `cadre run` inside a batch
script seeing the script's own changes, and the environment surviving a
master restart while the job waits."""

import os

from harness import ClusterTestCase, parse_env, write_script


class ExportedEnvironment(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def run_env(self, *flags, env=None, cwd=None):
        """Submits `env` as a one-task job with `flags` from a shell whose
        environment adds `env`; returns the job's environment."""
        out = self.c.path("env-%d.out" % len(os.listdir(self.c.tmp)))
        job = self.c.submit(["env"], "--output", out, *flags, env=env, cwd=cwd)
        self.c.wait_state(job, "COMPLETED")
        with open(out) as f:
            return parse_env(f.read())

    def script(self, name, text):
        return write_script(self.c.path(name), text)

    def test_by_default_the_submitting_shells_variables_reach_the_job(self):
        env = self.run_env(env={"CADRE_E2E_MARK": "from the shell", "PYTHONPATH": "/opt/lib",
                                "PATH": "/opt/tool/bin:" + os.environ["PATH"]})
        self.assertEqual(env.get("CADRE_E2E_MARK"), "from the shell")
        self.assertEqual(env.get("PYTHONPATH"), "/opt/lib")
        self.assertTrue(env["PATH"].startswith("/opt/tool/bin:"), env["PATH"])
        # What sbatch sets, whatever the shell had.
        self.assertEqual(env["SLURM_JOB_PARTITION"], "default")
        self.assertEqual(env["SLURM_SUBMIT_HOST"], os.uname().nodename)
        self.assertEqual(env["SLURM_JOB_ACCOUNT"], env["SLURM_JOB_USER"])
        self.assertEqual(env["SLURM_CPUS_ON_NODE"], "1")
        self.assertEqual(env["SLURM_MEM_PER_NODE"], "1024")
        self.assertNotIn("SLURM_EXPORT_ENV", env, "set only when --export was given")

    def test_cadres_own_variables_win_over_exported_ones(self):
        env = self.run_env(env={"RANK": "99", "SLURM_JOB_ID": "424242", "CUDA_VISIBLE_DEVICES": "0,1,2,3"})
        self.assertEqual(env["RANK"], "0")
        self.assertNotEqual(env["SLURM_JOB_ID"], "424242")
        self.assertEqual(env["CUDA_VISIBLE_DEVICES"], "")

    def test_export_none_keeps_only_slurm_variables_and_a_login_base(self):
        env = self.run_env("--export=NONE", env={"CADRE_E2E_MARK": "x", "SLURM_E2E_MARK": "kept"})
        self.assertNotIn("CADRE_E2E_MARK", env)
        self.assertEqual(env.get("SLURM_E2E_MARK"), "kept", "SLURM_* variables are always exported")
        self.assertIn("HOME", env)
        self.assertIn("PATH", env)
        self.assertEqual(env["SLURM_EXPORT_ENV"], "NONE")

    def test_export_names_and_values(self):
        env = self.run_env("--export=CADRE_E2E_A,CADRE_E2E_SET=given,CADRE_E2E_MISSING",
                           env={"CADRE_E2E_A": "a", "CADRE_E2E_B": "b"})
        self.assertEqual(env.get("CADRE_E2E_A"), "a")
        self.assertEqual(env.get("CADRE_E2E_SET"), "given")
        self.assertNotIn("CADRE_E2E_B", env, "not named, so not exported")
        self.assertNotIn("CADRE_E2E_MISSING", env)
        # With ALL the shell's value wins over a given one (Slurm's rule).
        env = self.run_env("--export=ALL,CADRE_E2E_A=given,CADRE_E2E_C=c", env={"CADRE_E2E_A": "shell"})
        self.assertEqual(env.get("CADRE_E2E_A"), "shell")
        self.assertEqual(env.get("CADRE_E2E_C"), "c")

    def test_export_file_and_slurm_export_env(self):
        path = self.c.path("vars.env")
        with open(path, "wb") as f:
            f.write(b"CADRE_E2E_F=with, comma and\nnewline\0CADRE_E2E_G=g\0")
        env = self.run_env("--export=NONE", "--export-file", path)
        self.assertEqual(env.get("CADRE_E2E_G"), "g")
        self.assertEqual(env.get("CADRE_E2E_F"), "with, comma and")  # parse_env reads line by line
        # SLURM_EXPORT_ENV stands for --export when the flag is not given.
        env = self.run_env(env={"SLURM_EXPORT_ENV": "NONE", "CADRE_E2E_MARK": "x"})
        self.assertNotIn("CADRE_E2E_MARK", env)

    def test_bad_export_values_are_refused_before_anything_is_queued(self):
        for flags, words in ((["--export=NONE,X"], "NONE takes no variables"),
                             (["--export=1X"], "'1X' is not ALL"),
                             (["--export-file", self.c.path("missing")], "--export-file")):
            r = self.c.cli("submit", *flags, "--", "true", check=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(words, r.stderr)
        r = self.c.cli("submit", "--", "true", check=False, env={"SLURM_EXPORT_ENV": "NONE,Y"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("SLURM_EXPORT_ENV", r.stderr)
        self.assertEqual(self.c.cli("queue", "--json").stdout.count('"id"'), 0, "nothing was queued")

    def run_script(self, name, text, env):
        script = self.script(name, text)
        out = self.c.path(name + ".out")
        r = self.c.cli("submit", "--parsable", "--output", out, script, env=env)
        self.c.wait_state(int(r.stdout.strip()), "COMPLETED")
        with open(out) as f:
            return f.read()

    def test_a_step_starts_from_the_batch_scripts_own_environment(self):
        # srun's rule: a step exports its caller's environment, changes the
        # script made included.
        text = self.run_script("steps.sh", """
            #!/bin/bash
            #SBATCH --ntasks=2
            export CADRE_E2E_STEP="set in the script"
            cadre run -- sh -c 'echo "step $SLURM_PROCID sees $CADRE_E2E_STEP and $CADRE_E2E_A"'
            """, env={"CADRE_E2E_A": "a"})
        self.assertEqual(text.count("sees set in the script and a"), 2, text)

    def test_an_export_directive_narrows_the_script_and_its_steps_as_slurm_export_env_says(self):
        text = self.run_script("narrow.sh", """
            #!/bin/bash
            #SBATCH --export=CADRE_E2E_A
            #SBATCH --ntasks=2
            echo "script A=$CADRE_E2E_A B=${CADRE_E2E_B:-unset} export=$SLURM_EXPORT_ENV"
            export CADRE_E2E_STEP="set in the script"
            cadre run -- sh -c 'echo "narrowed step $SLURM_PROCID: A=$CADRE_E2E_A step=${CADRE_E2E_STEP:-unset}"'
            # Slurm's advice for steps that should see everything again.
            SLURM_EXPORT_ENV=ALL cadre run -- sh -c 'echo "full step $SLURM_PROCID: step=$CADRE_E2E_STEP"'
            """, env={"CADRE_E2E_A": "a", "CADRE_E2E_B": "b"})
        self.assertIn("script A=a B=unset export=CADRE_E2E_A", text)
        self.assertEqual(text.count(": A=a step=unset"), 2, text)
        self.assertEqual(text.count(": step=set in the script"), 2, text)

    def test_the_environment_survives_a_master_restart_while_the_job_waits(self):
        hold = self.c.submit(["sleep", "600"], "--ntasks", "16", "--cpus-per-task", "1")
        self.c.wait_state(hold, "RUNNING")
        out = self.c.path("late.out")
        job = self.c.submit(["env"], "--output", out, "--ntasks", "16", env={"CADRE_E2E_LATE": "kept"})
        self.assertEqual(self.c.show(job)["state"], "PENDING")
        self.c.restart_master()
        self.c.cli("cancel", str(hold))
        self.c.wait_state(job, "COMPLETED")
        with open(out) as f:
            self.assertEqual(parse_env(f.read()).get("CADRE_E2E_LATE"), "kept")
