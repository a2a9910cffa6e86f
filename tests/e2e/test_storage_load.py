"""A full disk while a workload runs: the state folder is a small tmpfs
that the test fills while multi-rank jobs start and end, and a
`cadre submit --from` batch that would fill it half way.

What must hold: nothing acknowledged to a client is lost or reverts; new
work is refused with an error that says the disk is full, while reads are
still answered (FullDiskReads: master/server/service.cpp makes each read a
turn of its own, which a failed commit cannot take back); the master does
not crash (the harness fails the test on a daemon that died of a signal)
and, once the disk has room, recovers by itself, with the rank exits it
could not record while full recorded after all; a batch is accepted whole
or not at all. Mounting a tmpfs needs root; elsewhere the tests are skipped
with the reason (test_storage.MOUNT_PROBLEM), and run_module.py exits 77."""

import errno
import json
import os
import shutil
import signal
import subprocess
import unittest

from harness import FINAL_STATES, Cluster, ClusterTestCase, wait_until
from test_storage import MOUNT_PROBLEM, mount_tmpfs, unmount

# What the master's refusal says while its database cannot be written:
# its own words, then SQLite's (SQLITE_FULL), which name the disk.
REFUSAL = "cannot write its database"
DISK_FULL = "database or disk is full"

# Generous bounds against hangs; nothing is timed.
RECOVERY_TIMEOUT = 60
WORKLOAD_TIMEOUT = 120


def free_bytes(folder):
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def fill(folder, leave=0):
    """Writes folder/filler until the file system has at most `leave` bytes
    free (0: until ENOSPC, down to the last page). Returns its path."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        chunk = 1 << 20
        while chunk >= 4096:
            want = free_bytes(folder) - leave
            if want <= 0:
                break
            try:
                os.write(fd, b"\0" * min(chunk, want))
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                chunk //= 2
    finally:
        os.close(fd)
    return path


class StateOnTmpfs(ClusterTestCase):
    """A cluster whose state folder is a tmpfs of TMPFS_SIZE, mounted before
    the master starts and unmounted after every process is gone."""

    TMPFS_SIZE = "16m"
    CPUS = 8

    def setUp(self):
        self.c = Cluster(agents=self.AGENTS, cpus=self.CPUS, gpus=0, node_timeout=self.NODE_TIMEOUT,
                         name=type(self).__name__.lower())
        # Cleanups run last first: the cluster stops (its own rmtree cannot
        # remove a mount point), then the tmpfs goes, then what is left.
        if not os.environ.get("CADRE_E2E_KEEP"):
            self.addCleanup(shutil.rmtree, self.c.tmp, ignore_errors=True)
        mount_tmpfs(self.c.state_dir, self.TMPFS_SIZE)
        # A fresh tmpfs is 1777; the master warns of a state folder others can read.
        os.chmod(self.c.state_dir, 0o700)
        self.addCleanup(unmount, self.c.state_dir)
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def refused_for_the_disk(self, result):
        """Checks that a refused CLI call says the database is full."""
        self.assertEqual(result.returncode, 1, "expected a refusal: %s %s" % (result.stdout, result.stderr))
        self.assertIn(REFUSAL, result.stderr)
        self.assertIn(DISK_FULL, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def submit_until_refused(self, acked, tries=1000):
        """Submits small jobs until the master refuses one; the accepted ones
        go into acked (id -> exit code 0). Returns the refusal. A full file
        system may still take a few: SQLite reuses the space its write-ahead
        log already holds, and a commit that fits there is a real one."""
        for _ in range(tries):
            r = self.c.cli("submit", "--parsable", "--", "true", check=False)
            if r.returncode != 0:
                return r
            acked[int(r.stdout.strip())] = 0
        self.fail("the master accepted %d jobs on a full disk without refusing one" % tries)

    def gated(self, tag, code, gate):
        """A rank script: records its pid, waits for the gate file (at most
        5 minutes), then exits with code."""
        wait = "i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -gt 3000 ] && exit 99; sleep 0.1; done; " % gate
        return self.pid_script(tag, then=wait + "exit %d" % code)

    def master_is_the_same_process(self, pid):
        self.assertEqual(self.c.master.pid, pid, "the master was restarted")
        self.assertIsNone(self.c.master.poll(), "the master exited")


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class FullDiskUnderLoad(StateOnTmpfs):
    AGENTS = 2
    CPUS = 3
    # Long enough that agents frozen for a moment are not declared DOWN.
    NODE_TIMEOUT = 12

    def note(self, seen, job_id):
        """Shows a job; fails if it reverted from an ended state it was seen
        in (an ended job stays ended, with the same exit code)."""
        job = self.c.show(job_id)
        was = seen.get(job_id)
        if was and was["state"] in FINAL_STATES:
            self.assertEqual((job["state"], job["exit_code"]), (was["state"], was["exit_code"]),
                             "job %d reverted after it was shown ended: %s" % (job_id, json.dumps(job)))
        seen[job_id] = job
        return job

    def test_ranks_end_while_the_disk_is_full_and_the_master_records_them_once_it_has_room(self):
        pid = self.c.master.pid
        gate = self.c.marker("gate")
        # acked: every job the master acknowledged -> the exit code it must end with.
        acked = {}
        # Two gangs, a rank on each node, that run until the gate opens...
        for tag, code in (("ok", 0), ("bad", 5)):
            acked[self.c.submit(self.gated(tag, code, gate), "--nodes", "2", "--name", tag)] = code
        for job_id in list(acked):
            self.c.wait_state(job_id, "RUNNING")
        self.c.wait_pid_files(4)
        # ...and a short one already done, so the database holds every kind of row.
        done = self.c.submit("exit 0", "--nodes", "2")
        acked[done] = 0
        self.c.wait_state(done, "COMPLETED")

        # A gang launched just before the disk fills, to agents frozen for a
        # moment: its ranks start (and end, exit 7) while the disk is full.
        for name in self.c.agents:
            self.c.kill_agent(name, signal.SIGSTOP)
        try:
            late = self.c.submit(self.pid_script("late", then="exit 7"), "--nodes", "2", "--name", "late")
            acked[late] = 7
            self.c.wait_state(late, "RUNNING")
            # Gangs queued behind the others: they can start only once the disk has room.
            for code in (0, 2, 0):
                acked[self.c.submit("exit %d" % code, "--nodes", "2")] = code
            filler = fill(self.c.state_dir)
            refused = self.submit_until_refused(acked)
        finally:
            for name in self.c.agents:
                self.c.kill_agent(name, signal.SIGCONT)
        self.refused_for_the_disk(refused)

        # Full: the late gang starts and ends, the gate opens and the
        # first two end too, each exit reported to a master that cannot
        # write it down.
        seen = {}
        self.c.wait_pid_files(2, "late-")
        with open(gate, "w"):
            pass
        self.c.wait_pids_gone(self.c.read_pids())
        for job_id in acked:
            self.note(seen, job_id)
        self.assertEqual(free_bytes(self.c.state_dir), 0, "the disk was not full while the ranks ended")
        # Still up, still answering, still refusing.
        self.master_is_the_same_process(pid)
        self.c.cli("queue", "--all")
        self.c.cli("nodes")
        self.refused_for_the_disk(self.c.cli("submit", "--", "true", check=False))

        # Room again: the master takes work by itself, no restart.
        os.unlink(filler)

        def accepted():
            r = self.c.cli("submit", "--parsable", "--", "sh", "-c", "exit 0", check=False)
            return int(r.stdout.strip()) if r.returncode == 0 else None

        after = wait_until(accepted, RECOVERY_TIMEOUT, "the master to accept work once the disk has room")
        acked[after] = 0
        self.master_is_the_same_process(pid)
        self.assertGreater(after, max(j for j in acked if j != after))

        # Every acknowledged job ends as its ranks did, in its first attempt:
        # the exits of the full disk were recorded, not lost and rerun. (A
        # rank whose peer's exit was recorded first is CANCELLED, as ever.)
        for job_id, code in acked.items():
            want = "COMPLETED" if code == 0 else "FAILED"
            job = self.c.wait_state(job_id, want, timeout=WORKLOAD_TIMEOUT)
            self.note(seen, job_id)
            self.assertEqual((job["exit_code"], job["attempt"]), (code, 1), json.dumps(job))
            ended = ("COMPLETED", "FAILED", "CANCELLED")
            self.assertTrue(all(t["state"] in ended for t in job["tasks"]), job["tasks"])
        self.c.wait_all_free()

        # And all of it is in the database, not only in the master's memory.
        self.c.restart_master()
        for job_id, code in acked.items():
            job = self.note(seen, job_id)
            self.assertEqual((job["state"], job["exit_code"], job["attempt"]),
                             ("COMPLETED" if code == 0 else "FAILED", code, 1), json.dumps(job))


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class FullDiskReads(StateOnTmpfs):
    AGENTS = 2
    CPUS = 4
    # Heartbeats every second: the agents keep reporting to the full disk.
    NODE_TIMEOUT = 4
    PENDING = 20000  # reloaded by every turn the full disk fails: turns take a while
    TMPFS_SIZE = "64m"

    def test_reads_are_answered_while_the_disk_is_full_and_agents_keep_reporting(self):
        gate = self.c.marker("gate")
        # Three cpus of each node held to the end; gangs of two cpus a rank
        # wait behind them, never starting.
        self.c.submit(self.pid_script("hold"), "--nodes", "2", "--cpus-per-task", "3")
        gated = self.c.submit(self.gated("gated", 3, gate), "--nodes", "2")
        self.c.wait_state(gated, "RUNNING")
        path = self.c.path("pending.txt")
        with open(path, "w") as f:
            f.write("--cpus-per-task 2 --nodes 2 -- true\n" * self.PENDING)
        # Submitted with a bare environment, which jobs may carry along:
        # small rows, whatever the environment of the test.
        r = subprocess.run([self.c.cli_bin, "--master", self.c.endpoint, "submit", "--from", path], text=True,
                           capture_output=True, timeout=120, cwd=self.c.tmp, env={"PATH": os.environ.get("PATH", "")},
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A master that stops cleanly leaves no write-ahead log behind: the
        # next one's first commit needs new space, so the disk refuses at once.
        self.c.restart_master()
        filler = fill(self.c.state_dir)
        self.refused_for_the_disk(self.submit_until_refused({}))
        # The gang's exits: reported and resent at every heartbeat, each
        # report a turn whose commit fails and reloads the jobs.
        with open(gate, "w"):
            pass
        self.c.wait_pids_gone(self.c.read_pids("gated-"))

        failures = []
        reads = [("show", gated, "--json"), ("nodes", "--json"), ("diag",)] * 50 + [("queue", "--json")] * 3
        for args in reads:
            r = self.c.cli(*args, check=False)
            if r.returncode != 0:
                failures.append("cadre %s: %s" % (" ".join(map(str, args)), r.stderr.strip()))
        self.assertEqual(failures, [], "reads refused while the disk is full")
        self.assertEqual(free_bytes(self.c.state_dir), 0, "the disk was not full while reading")

        os.unlink(filler)
        failed = self.c.wait_state(gated, "FAILED", timeout=RECOVERY_TIMEOUT)
        self.assertEqual((failed["exit_code"], failed["attempt"]), (3, 1))


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class FullDiskBatch(StateOnTmpfs):
    AGENTS = 1
    JOBS = 40
    PAD_BYTES = 50000  # each job's argv: the batch is 2 MB of commands

    def batch_file(self):
        """A --from file of JOBS jobs named big-N with a long argument each;
        returns its path and the bytes of argv it holds."""
        pad = "x" * self.PAD_BYTES
        lines = ["--name big-%d -- sh -c 'exit 0' %s" % (i, pad) for i in range(self.JOBS)]
        path = self.c.path("batch.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path, self.JOBS * self.PAD_BYTES

    def batch_ids(self):
        return sorted(j["id"] for j in self.c.queue() if j["name"].startswith("big-"))

    def test_a_batch_that_would_fill_the_disk_half_way_is_refused_whole_then_accepted_whole(self):
        first = self.c.submit("true")
        self.c.wait_state(first, "COMPLETED")
        path, batch_bytes = self.batch_file()
        # Room for about half of the batch's commands: it cannot fit.
        filler = fill(self.c.state_dir, leave=batch_bytes // 2)
        self.assertLess(free_bytes(self.c.state_dir), batch_bytes)

        refused = self.c.cli("submit", "--parsable", "--from", path, check=False)
        self.refused_for_the_disk(refused)
        self.assertEqual(refused.stdout.strip(), "", "job ids printed for a refused batch")
        self.assertEqual(self.batch_ids(), [], "part of a refused batch was accepted")
        self.assertEqual(self.c.show(first)["state"], "COMPLETED")

        os.unlink(filler)

        def accepted():
            r = self.c.cli("submit", "--parsable", "--from", path, check=False)
            if r.returncode == 0:
                return r
            # Refused again while the master has not noticed the room: whole.
            self.refused_for_the_disk(r)
            self.assertEqual(self.batch_ids(), [], "part of a refused batch was accepted")
            return None

        r = wait_until(accepted, RECOVERY_TIMEOUT, "the master to accept the batch once the disk has room")
        ids = [int(line) for line in r.stdout.split()]
        self.assertEqual(len(ids), self.JOBS, r.stdout)
        self.assertEqual(self.batch_ids(), sorted(ids))
        shown = self.c.show(ids[-1])
        self.assertEqual(shown["name"], "big-%d" % (self.JOBS - 1))
        self.assertEqual(shown["command"][-1], "x" * self.PAD_BYTES)
        for job_id in ids:
            self.c.wait_state(job_id, "COMPLETED", timeout=WORKLOAD_TIMEOUT)

        self.c.restart_master()
        self.assertEqual(self.batch_ids(), sorted(ids))
        for job_id in ids + [first]:
            self.assertEqual(self.c.show(job_id)["state"], "COMPLETED")


if __name__ == "__main__":
    unittest.main()
