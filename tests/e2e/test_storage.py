"""The master and its database under storage failures: a full disk, a
read-only state folder, a corrupt database file. Nothing acknowledged may
be lost and every refusal must say why. Mounting small tmpfs folders needs
root; elsewhere these tests are skipped with the reason."""

import os
import subprocess
import tempfile
import time
import unittest

from harness import Cluster, ClusterTestCase, binary, free_port, wait_until


def can_mount():
    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs"
    probe = tempfile.mkdtemp(prefix="cadre-e2e-mountprobe-")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True)
        if r.returncode != 0:
            return "cannot mount tmpfs here: " + r.stderr.decode().strip()
        subprocess.run(["umount", probe], check=False)
        return None
    finally:
        os.rmdir(probe)


MOUNT_PROBLEM = can_mount()


def mount_tmpfs(path, size, read_only=False):
    os.makedirs(path, exist_ok=True)
    opts = "size=%s%s" % (size, ",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True)


def unmount(path):
    subprocess.run(["umount", "-l", path], check=False, capture_output=True)


def fill(folder):
    """Writes a file until the file system is full; returns its path.
    Unbuffered: a buffered file would try again to write what did not fit
    when it is closed, and raise ENOSPC there (depending on how the free
    space falls against the chunk size)."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        chunk = 65536
        while chunk >= 512:
            try:
                if os.write(fd, b"\0" * chunk) < chunk:
                    chunk //= 2
            except OSError:
                chunk //= 2
    finally:
        os.close(fd)
    return path


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class FullDisk(ClusterTestCase):
    AGENTS = 1

    def setUp(self):
        # The state folder is a 4 MiB tmpfs, mounted before the master starts.
        self.c = Cluster(agents=self.AGENTS, node_timeout=self.NODE_TIMEOUT, name="fulldisk")
        self.addCleanup(self._stop_cluster)
        mount_tmpfs(self.c.state_dir, "4m")
        self.addCleanup(unmount, self.c.state_dir)
        self.c.start()

    def test_a_full_disk_refuses_new_work_with_a_clear_error_and_loses_nothing(self):
        before = [self.c.submit("true") for _ in range(3)]
        for job_id in before:
            self.c.wait_state(job_id, "COMPLETED")
        filler = fill(self.c.state_dir)

        refused = self.c.cli("submit", "--", "true", check=False)
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        self.assertIn("cannot write its database", refused.stderr)
        self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
        # Still serving reads, and still refusing while the disk is full.
        self.c.cli("nodes")
        self.c.cli("queue", "--all")
        again = self.c.cli("submit", "--", "true", check=False)
        self.assertNotEqual(again.returncode, 0)

        os.unlink(filler)

        def accepted():
            r = self.c.cli("submit", "--parsable", "--", "true", check=False)
            return int(r.stdout.strip()) if r.returncode == 0 else None

        after = wait_until(accepted, 30, "the master to accept work once the disk has room")
        self.c.wait_state(after, "COMPLETED")
        for job_id in before:
            self.assertEqual(self.c.show(job_id)["state"], "COMPLETED")
        self.assertGreater(after, max(before))
        # Survives a restart too: everything acknowledged is in the database.
        self.c.restart_master()
        for job_id in before + [after]:
            self.assertEqual(self.c.show(job_id)["state"], "COMPLETED")


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class BadStateFolder(unittest.TestCase):
    def run_master(self, state_dir):
        argv = [binary("master/cadre-master"), "--listen", "tcp://127.0.0.1:%d" % free_port(),
                "--state-dir", state_dir]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)

    def test_a_read_only_state_folder_stops_the_master_with_a_clear_error(self):
        folder = tempfile.mkdtemp(prefix="cadre-e2e-rostate-")
        self.addCleanup(os.rmdir, folder)
        mount_tmpfs(folder, "1m", read_only=True)
        self.addCleanup(unmount, folder)
        r = self.run_master(folder)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(folder, r.stderr)
        self.assertIn("Read-only file system", r.stderr)

    def test_a_corrupt_database_stops_the_master_and_is_left_untouched(self):
        folder = tempfile.mkdtemp(prefix="cadre-e2e-corrupt-")
        db = os.path.join(folder, "cadre.db")
        garbage = os.urandom(8192)
        with open(db, "wb") as f:
            f.write(garbage)
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", folder]))
        r = self.run_master(folder)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cadre.db", r.stderr)
        self.assertIn("not a database", r.stderr)
        with open(db, "rb") as f:
            self.assertEqual(f.read(), garbage, "the corrupt database was modified")


if __name__ == "__main__":
    unittest.main()
