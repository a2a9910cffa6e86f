"""End to end: squeue's filters on `cadre queue` and scancel's on `cadre
cancel` (--user, --me, --states/--state, --name, --partition, --account,
--jobs), against a real cluster.

One node with 4 cpus: two running jobs of 2 cpus each fill it, so jobs that
ask for all 4 stay PENDING (Resources) until both end. Every job waits on a
release file the test never creates, so nothing depends on how long a sleep
takes; the cluster's teardown ends them.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from harness import CLI_TIMEOUT, Cluster, ClusterTestCase, make_user

ME = pwd.getpwuid(os.getuid()).pw_name
NOBODY = "cadre-e2e-no-such-user"
CONFIG = """[scheduler]
interval = "1s"

[[partition]]
name = "main"
nodes = ["node1"]
default = true

[[partition]]
name = "side"
nodes = ["node1"]

[accounts]
physics = ["%s"]
""" % ME


class FilterTestCase(ClusterTestCase):
    def setUp(self):
        self.c = Cluster(agents=1, cpus=4, gpus=0, config=CONFIG, name=type(self).__name__.lower())
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def held(self, release=None):
        """A rank script that waits (at most ~2 minutes: a hang guard) for a
        release file nobody creates."""
        path = release or self.c.marker("never")
        return 'i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.1; done' % path

    def queued(self, *args):
        """The ids `cadre queue --json ARGS` lists."""
        r = self.c.cli("queue", "--json", *args)
        return sorted(j["id"] for j in json.loads(r.stdout)["jobs"])

    def table_ids(self, *args):
        """The ids in the first column of `cadre queue ARGS` (the table)."""
        lines = self.c.cli("queue", *args).stdout.splitlines()
        self.assertTrue(lines and lines[0].startswith("JOBID"), lines)
        return sorted(int(line.split()[0]) for line in lines[1:] if line.strip())

    def state(self, job_id):
        return self.c.show(job_id)["state"]

    def refused(self, *args, names=()):
        """Runs the CLI, expecting exit 2 and one line naming each of names."""
        r = self.c.cli(*args, check=False)
        self.assertEqual(r.returncode, 2, "%s: exit %d, stderr %r" % (args, r.returncode, r.stderr))
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        for name in names:
            self.assertIn(name, r.stderr, args)
        return r.stderr

    def start_jobs(self):
        """done (ended), two running jobs and two pending ones:
            done  COMPLETED  main  account ME
            r1    RUNNING    main  physics  name alpha
            r2    RUNNING    side  ME       name beta
            p1    PENDING    side  ME       name alpha
            p2    PENDING    main  physics  name gamma"""
        j = {}
        j["done"] = self.c.submit("true", "-J", "done")
        self.c.wait_state(j["done"], "COMPLETED")
        j["r1"] = self.c.submit(self.held(), "-J", "alpha", "-A", "physics", "-c", "2")
        j["r2"] = self.c.submit(self.held(), "-J", "beta", "-p", "side", "-c", "2")
        for k in ("r1", "r2"):
            self.c.wait_state(j[k], "RUNNING")
        j["p1"] = self.c.submit(self.held(), "-J", "alpha", "-p", "side", "-c", "4")
        j["p2"] = self.c.submit(self.held(), "-J", "gamma", "-A", "physics", "-c", "4")
        for k in ("p1", "p2"):
            self.assertEqual(self.state(j[k]), "PENDING")
        return j


class QueueFilters(FilterTestCase):
    def test_each_filter_lists_only_matching_jobs_and_filters_combine_with_and(self):
        j = self.start_jobs()
        active = sorted([j["r1"], j["r2"], j["p1"], j["p2"]])
        self.assertEqual(self.queued(), active)

        # --states: short or long, any case; ended states bring ended jobs in.
        self.assertEqual(self.queued("-t", "PD"), sorted([j["p1"], j["p2"]]))
        self.assertEqual(self.queued("--states", "running"), sorted([j["r1"], j["r2"]]))
        self.assertEqual(self.queued("-t", "pd,R"), active)
        self.assertEqual(self.queued("-t", "CD"), [j["done"]])
        self.assertEqual(self.queued("--states=COMPLETED,pending"), sorted([j["done"], j["p1"], j["p2"]]))
        self.assertEqual(self.queued("-t", "all"), sorted(active + [j["done"]]))
        self.assertEqual(self.queued("--all", "-t", "R"), sorted([j["r1"], j["r2"]]))
        self.assertEqual(self.queued("-t", "S,CG"), [])  # Slurm's states cadre never enters

        # --name, in any case; a list is OR.
        self.assertEqual(self.queued("-n", "alpha"), sorted([j["r1"], j["p1"]]))
        self.assertEqual(self.queued("--name", "ALPHA"), sorted([j["r1"], j["p1"]]))
        self.assertEqual(self.queued("-n", "alpha,gamma"), sorted([j["r1"], j["p1"], j["p2"]]))
        self.assertEqual(self.queued("-n", "done"), [])  # ended, and no ended state asked for
        self.assertEqual(self.queued("-n", "done", "--all"), [j["done"]])

        # --partition, --account (a job without -A is charged to its user).
        self.assertEqual(self.queued("-p", "side"), sorted([j["r2"], j["p1"]]))
        self.assertEqual(self.queued("--partition", "main,side"), active)
        self.assertEqual(self.queued("-A", "physics"), sorted([j["r1"], j["p2"]]))
        self.assertEqual(self.queued("--account", ME), sorted([j["r2"], j["p1"]]))

        # --jobs.
        self.assertEqual(self.queued("-j", "%d,%d" % (j["r1"], j["p2"])), sorted([j["r1"], j["p2"]]))
        self.assertEqual(self.queued("--jobs", str(j["done"])), [])
        self.assertEqual(self.queued("--jobs", str(j["done"]), "-t", "all"), [j["done"]])

        # --user (a name or a uid number) and --me.
        self.assertEqual(self.queued("-u", ME), active)
        self.assertEqual(self.queued("--user", str(os.getuid())), active)
        self.assertEqual(self.queued("-u", NOBODY), [])
        self.assertEqual(self.queued("-u", "%s,%s" % (NOBODY, ME)), active)
        self.assertEqual(self.queued("--me"), active)

        # AND across kinds.
        self.assertEqual(self.queued("-p", "side", "-t", "PD"), [j["p1"]])
        self.assertEqual(self.queued("-n", "alpha", "-A", "physics"), [j["r1"]])
        self.assertEqual(self.queued("-n", "alpha", "-p", "main", "-t", "PD"), [])
        self.assertEqual(self.queued("--me", "-j", str(j["p2"]), "-t", "PD,CD"), [j["p2"]])
        self.assertEqual(self.queued("-u", NOBODY, "-t", "all"), [])

        # The table lists the same jobs as --json.
        self.assertEqual(self.table_ids("-t", "PD"), sorted([j["p1"], j["p2"]]))
        self.assertEqual(self.table_ids("-n", "alpha", "-t", "all"), sorted([j["r1"], j["p1"]]))
        self.assertEqual(self.table_ids("-u", NOBODY), [])

    def test_bad_values_are_refused_naming_the_flag(self):
        err = self.refused("queue", "-t", "bogus", names=["--states", "'bogus'"])
        for state in ("PENDING (PD)", "RUNNING (R)", "COMPLETED (CD)", "OUT_OF_MEMORY (OOM)", "all"):
            self.assertIn(state, err)
        self.refused("queue", "--states", "PD,,R", names=["--states"])
        self.refused("queue", "-j", "abc", names=["--jobs", "'abc'"])
        self.refused("queue", "--jobs", "1,0", names=["--jobs", "'0'"])
        self.refused("queue", "-u", "", names=["--user", "empty"])
        self.refused("queue", "-u", "a,,b", names=["--user", "empty item"])
        self.refused("queue", "-p", "x\x01y", names=["--partition", "x\\x01y", "control character"])
        self.refused("queue", "-A", "a" * 65, names=["--account", "at most 64"])
        self.refused("queue", "-n", "a" * 257, names=["--name", "at most 256"])
        self.refused("queue", "--me", "-u", ME, names=["--me", "--user"])
        self.refused("queue", "-t", names=["-t", "needs a value"])
        self.refused("queue", "--me=yes", names=["--me"])


class CancelFilters(FilterTestCase):
    def test_filters_choose_what_is_cancelled_as_scancel_does(self):
        j = self.start_jobs()

        # --name with --state: the pending alpha, not the running one.
        r = self.c.cli("cancel", "-n", "alpha", "-t", "PD")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.state(j["p1"]), "CANCELLED")
        self.assertEqual([self.state(j[k]) for k in ("r1", "r2", "p2")], ["RUNNING", "RUNNING", "PENDING"])

        # Filters that match nothing cancel nothing, and that is no error.
        for args in (["-u", NOBODY], ["--account", "nosuch"], ["--jobname", "alpha", "-p", "side"],
                     ["-t", "R", "-n", "gamma"], ["-p", "nosuch", str(j["r1"])]):
            r = self.c.cli("cancel", *args)
            self.assertEqual((r.returncode, r.stderr), (0, ""), args)
        self.assertEqual([self.state(j[k]) for k in ("r1", "r2", "p2")], ["RUNNING", "RUNNING", "PENDING"])

        # Filters with ids: only the ids that match.
        r = self.c.cli("cancel", "-p", "side", str(j["r1"]), str(j["r2"]), str(j["p2"]))
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.state(j["r2"]), "CANCELLED")
        self.assertEqual([self.state(j[k]) for k in ("r1", "p2")], ["RUNNING", "PENDING"])

        # --me with --account and --state; the pending physics job stays.
        r = self.c.cli("cancel", "--me", "-A", "physics", "-t", "running")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.state(j["r1"]), "CANCELLED")
        self.assertIn(self.state(j["p2"]), ("PENDING", "RUNNING"))  # it may start once r1's ranks exit

        # A named job that already ended is reported, as scancel does, and
        # the exit status says so.
        r = self.c.cli("cancel", "-t", "PD", str(j["done"]), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot cancel job %d" % j["done"], r.stderr)
        self.assertIn("already ended COMPLETED", r.stderr)
        r = self.c.cli("cancel", "--me", "424242", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no job 424242", r.stderr)

        # --user alone: everything left of that user.
        r = self.c.cli("cancel", "--user", ME)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.state(j["p2"]), "CANCELLED")
        self.assertEqual(self.queued(), [])
        self.assertEqual(self.state(j["done"]), "COMPLETED")

    def test_bad_values_and_signals_are_refused_naming_the_flag(self):
        job = self.c.submit(self.held())
        self.c.wait_state(job, "RUNNING")
        err = self.refused("cancel", "-s", "KILL", str(job), names=["--signal", "SIGTERM", "SIGKILL"])
        self.assertIn("without --signal", err)
        self.refused("cancel", "--signal=USR1", "--me", names=["--signal"])
        self.refused("cancel", "-i", "--me", names=["--interactive"])
        self.refused("cancel", "-t", "CD", "--me", names=["--state", "PENDING (PD) or RUNNING (R)"])
        self.refused("cancel", "--state", "SUSPENDED", str(job), names=["--state", "never suspends"])
        self.refused("cancel", "-t", "bogus", names=["--state", "'bogus'"])
        self.refused("cancel", "-u", "", names=["--user", "empty"])
        self.refused("cancel", "-p", "a\nb", names=["--partition", "a\\nb"])
        self.refused("cancel", "--me", "-u", ME, names=["--me", "--user"])
        self.refused("cancel", names=["job id", "filters"])
        self.refused("cancel", "--me", "abc", names=["'abc'", "job id"])
        # None of it touched the job.
        self.assertEqual(self.state(job), "RUNNING")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd"), "needs root and useradd for a second user")
class TwoUsers(FilterTestCase):
    def test_user_and_me_tell_the_users_jobs_apart(self):
        other = make_user("cadre-e2e-filt", self.addCleanup)
        home = tempfile.mkdtemp(prefix="cadre-e2e-filt-")
        self.addCleanup(shutil.rmtree, home, True)
        os.chmod(home, 0o755)
        shutil.chown(home, other.pw_uid, other.pw_gid)

        def as_other(*args):
            argv = [self.c.cli_bin, "--master", self.c.endpoint] + [str(a) for a in args]
            r = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, user=other.pw_uid,
                               group=other.pw_gid, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, cwd=home)
            self.assertEqual(r.returncode, 0, "%s as %s: %s" % (args, other.pw_name, r.stderr))
            return r

        def their_queue(*args):
            return sorted(j["id"] for j in json.loads(as_other("queue", "--json", *args).stdout)["jobs"])

        mine_running = self.c.submit(self.held(), "-c", "4")
        self.c.wait_state(mine_running, "RUNNING")
        mine_pending = self.c.submit(self.held(), "-c", "1")
        theirs = [int(as_other("submit", "--parsable", "--chdir", home, "-c", "1", "--", "sh", "-c",
                               self.held(os.path.join(home, "never"))).stdout) for _ in range(2)]
        for t in theirs:
            self.assertEqual(self.c.show(t)["user"], other.pw_name)
            self.assertEqual(self.state(t), "PENDING")
        mine = sorted([mine_running, mine_pending])

        self.assertEqual(self.queued("-u", other.pw_name), sorted(theirs))
        self.assertEqual(self.queued("-u", str(other.pw_uid)), sorted(theirs))
        self.assertEqual(self.queued("-u", "%s,%s" % (ME, other.pw_name)), sorted(mine + theirs))
        self.assertEqual(self.queued("--me"), mine)
        self.assertEqual(their_queue("--me"), sorted(theirs))
        self.assertEqual(their_queue("-u", ME, "-t", "PD"), [mine_pending])

        # --me cancels only the caller's jobs.
        r = self.c.cli("cancel", "--me", "-t", "PD")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.state(mine_pending), "CANCELLED")
        self.assertEqual([self.state(t) for t in theirs], ["PENDING", "PENDING"])
        as_other("cancel", "--me")
        self.assertEqual([self.state(t) for t in theirs], ["CANCELLED", "CANCELLED"])
        self.assertEqual(self.state(mine_running), "RUNNING")
        self.assertEqual(self.queued(), [mine_running])


if __name__ == "__main__":
    unittest.main()
