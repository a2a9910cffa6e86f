"""End to end: per-user limits on submissions ([limits] in cadre.toml). One
real user floods the master; the breaches are refused to that user alone,
with messages that name the limit, and another real user's submission still
goes through."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import CLI_TIMEOUT, make_user
from test_scheduling import FAST_PASSES, SchedulingTestCase


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd"),
                     "needs root and useradd to create two users")
class SubmissionLimits(SchedulingTestCase):
    NODES = {"n1": {"cpus": 1}}
    # One submission every 5 s sustained, 6 at once: a burst of CLI calls
    # runs out of tokens however slow the machine is.
    CONFIG = FAST_PASSES + "[limits]\nmax_pending_jobs_per_user = 4\nsubmit_rate = 0.2\nsubmit_burst = 6\n"

    def setUp(self):
        super().setUp()
        self.shared = tempfile.mkdtemp(prefix="cadre-e2e-limits-")
        self.addCleanup(shutil.rmtree, self.shared, True)
        os.chmod(self.shared, 0o1777)

    def submit_as(self, user, script):
        argv = [self.c.cli_bin, "--master", self.c.endpoint, "submit", "--parsable", "--chdir", self.shared, "--",
                "sh", "-c", script]
        return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, user=user.pw_uid,
                              group=user.pw_gid, cwd=self.shared, stdin=subprocess.DEVNULL)

    def test_a_flood_from_one_user_hits_the_limits_while_another_users_submit_succeeds(self):
        flooder = make_user("cadre-e2e-flood", self.addCleanup)
        other = make_user("cadre-e2e-user", self.addCleanup)
        release = os.path.join(self.shared, "release")
        # The other user holds the only cpu, so the flooder's jobs wait.
        hold = self.submit_as(other, "i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 9; sleep 0.1; done"
                              % release)
        self.assertEqual(hold.returncode, 0, hold.stderr)
        self.c.wait_state(int(hold.stdout), "RUNNING")

        results = [self.submit_as(flooder, "true") for _ in range(12)]
        accepted = [int(r.stdout) for r in results if r.returncode == 0]
        errors = [r.stderr.strip() for r in results if r.returncode != 0]
        self.assertEqual(len(accepted), 4, "the pending limit is 4: %s" % errors)
        pending_errors = [e for e in errors if "already has 4 pending jobs" in e]
        rate_errors = [e for e in errors if "too many submissions: user %s may submit 0.2 jobs per second" % flooder.pw_name in e]
        self.assertTrue(pending_errors, errors)
        self.assertTrue(rate_errors, errors)
        self.assertEqual(len(pending_errors) + len(rate_errors), len(errors), errors)

        # Another user is not affected by any of it.
        theirs = self.submit_as(other, "true")
        self.assertEqual(theirs.returncode, 0, theirs.stderr)

        # The master logged the flood once, and serves on: every accepted job runs.
        with open(self.c.master_log()) as f:
            log = f.read()
        self.assertEqual(log.count("user %s is submitting faster than limits.submit_rate" % flooder.pw_name), 1)
        with open(release, "w") as f:
            f.write("go\n")
        for job_id in accepted + [int(theirs.stdout)]:
            self.c.wait_state(job_id, "COMPLETED")


if __name__ == "__main__":
    unittest.main()


class LongCancel(SchedulingTestCase):
    """A cancel of many jobs is worked through in slices of 200 (each its
    own turn, committed on its own), answered once, when all are done."""
    NODES = {"n1": {"cpus": 1}}

    def test_a_cancel_of_many_jobs_is_sliced_and_answered_once_for_all(self):
        hold = int(self.c.cli("submit", "--parsable", "--chdir", self.c.path(), "--", "sleep", "600").stdout)
        self.c.wait_state(hold, "RUNNING")
        jobs = self.c.path("many.txt")
        with open(jobs, "w") as f:
            f.writelines("--chdir %s -- true\n" % self.c.path() for _ in range(1200))
        ids = [int(x) for x in self.c.cli("submit", "--parsable", "--from", jobs).stdout.split()]
        self.assertEqual(len(ids), 1200)
        commits_before = json.loads(self.c.cli("diag", "--json").stdout)["store"]["commits"]

        r = self.c.cli("cancel", str(hold), *map(str, ids), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        states = {j["id"]: j["state"] for j in self.c.queue()}
        self.assertEqual({states[i] for i in ids + [hold]}, {"CANCELLED"})
        # 1201 cancels in slices of 200: at least three commits of their own (seven).
        commits_after = json.loads(self.c.cli("diag", "--json").stdout)["store"]["commits"]
        self.assertGreaterEqual(commits_after - commits_before, 3)
