"""Adversarial end to end: what a job and the master leave on the host.

The master keeps its state folder to itself (0700, the database 0600,
whatever the umask it was started under) and warns when it finds the folder
open. A job runs under its submitter's umask (and sees it as SLURM_UMASK),
not the agent's. A rank that escapes its process group with setsid is still
killed when its job is cancelled, in the agent's process-group mode (the one
without cgroups, forced here with --no-cgroups).
"""

import os
import stat
import unittest

from adversary import HostileTestCase
from harness import Cluster, parse_env, pid_alive, read_number, wait_until


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class StateFolderModes(unittest.TestCase):
    def start_master(self, prepare=None):
        c = Cluster(agents=0, name="statemodes")
        self.addCleanup(c.stop)
        if prepare:
            prepare(c)
        old = os.umask(0o022)  # as a careless init script would leave it
        try:
            c.start()
        finally:
            os.umask(old)
        return c

    def test_a_fresh_state_folder_and_database_are_the_masters_alone(self):
        c = self.start_master()
        db = os.path.join(c.state_dir, "cadre.db")
        wait_until(lambda: os.path.exists(db), 30, "cadre.db to exist")
        self.assertEqual(oct(mode(c.state_dir)), oct(0o700), "the state folder under umask 022")
        self.assertEqual(oct(mode(db)), oct(0o600), "cadre.db under umask 022")

    def test_an_open_state_folder_gets_a_warning_that_says_chmod(self):
        def open_folder(c):
            os.makedirs(c.state_dir)
            os.chmod(c.state_dir, 0o755)

        c = self.start_master(open_folder)
        with open(c.master_log(), errors="replace") as f:
            log = f.read()
        warnings = [line for line in log.splitlines() if "chmod" in line]
        self.assertTrue(warnings, "no warning mentioning chmod for a 0755 state folder:\n%s" % log[-2000:])
        self.assertIn(c.state_dir, "\n".join(warnings), "the warning names the folder")


class SubmittersUmask(HostileTestCase):
    AGENTS = 1

    def test_a_job_runs_under_the_umask_it_was_submitted_with(self):
        a = self.a
        made = os.path.join(a.home, "made-by-the-job")
        env_file = os.path.join(a.home, "job-env.txt")
        r = a.cli("submit", "--parsable", "--chdir", a.home, "--", "sh", "-c",
                  "touch %s && env > %s" % (made, env_file), umask="027")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_state(int(r.stdout), "COMPLETED")
        self.assertEqual(oct(mode(made)), oct(0o640), "a file the job created under umask 027")
        with open(env_file) as f:
            env = parse_env(f.read())
        self.assertEqual(env.get("SLURM_UMASK"), "0027")
        # And another umask for another job: it is the submitter's, each time.
        made2 = made + "-2"
        r = a.cli("submit", "--parsable", "--chdir", a.home, "--", "touch", made2, umask="077")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_state(int(r.stdout), "COMPLETED")
        self.assertEqual(oct(mode(made2)), oct(0o600), "a file the job created under umask 077")


class SetsidEscapee(HostileTestCase):
    AGENTS = 1
    AGENT_ARGS = ("--no-cgroups",)

    def test_a_rank_that_escapes_with_setsid_is_killed_when_its_job_is_cancelled(self):
        m = self.c.markers
        script = ("echo $$ > {m}/rank.pid; "
                  "setsid sh -c 'echo $$ > {m}/escapee.pid.tmp && mv {m}/escapee.pid.tmp {m}/escapee.pid; "
                  "exec sleep 1000' & "
                  "echo $! > {m}/child.pid; wait").format(m=m)
        job_id = self.a.submit(script)
        self.wait_state(job_id, "RUNNING")
        escapee = wait_until(lambda: read_number(os.path.join(m, "escapee.pid")), 60, "the escapee's pid file")
        rank = wait_until(lambda: read_number(os.path.join(m, "rank.pid")), 60, "the rank's pid file")
        self.assertTrue(pid_alive(escapee))
        # It really escaped: its own session and process group.
        self.assertEqual(os.getsid(escapee), escapee)
        self.assertNotEqual(os.getpgid(escapee), os.getpgid(rank) if pid_alive(rank) else None)
        isolation = self.c.node("n1").get("isolation", "")
        self.assertNotIn("cgroup v2 (", isolation, "the agent was to run ranks in process groups")

        r = self.a.cli("cancel", job_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_state(job_id, "CANCELLED")
        self.c.wait_pids_gone({"rank": rank, "escapee": escapee})
        # The node is free again.
        self.c.wait_all_free(names=["n1"])


if __name__ == "__main__":
    unittest.main()
