"""End to end: the master with a state folder whose path is longer than a
unix socket's address holds (as under a long TMPDIR) starts, says where its
local socket went, and serves users there."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CLI_TIMEOUT, START_TIMEOUT, binary, free_port, wait_until


class LongStateFolder(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cadre-e2e-paths-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # 200 characters of path, in folders of 50.
        parts = [self.tmp] + ["p" * 49] * 4
        self.state = os.path.join(*parts)
        self.assertGreaterEqual(len(self.state), 200)
        self.log = os.path.join(self.tmp, "master.log")

    def start_master(self):
        with open(self.log, "ab") as log:
            p = subprocess.Popen([binary("master/cadre-master"), "--listen", "tcp://127.0.0.1:%d" % free_port(),
                                  "--state-dir", self.state], stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop, p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def socket_from_log(self):
        with open(self.log) as f:
            m = re.search(r"local users connect on (ipc://\S+)", f.read())
        return m.group(1) if m else None

    def test_the_local_socket_moves_to_a_short_private_place_and_serves(self):
        p = self.start_master()
        endpoint = wait_until(self.socket_from_log, START_TIMEOUT, "the master to say where its local socket is")
        self.assertIsNone(p.poll(), "the master runs")
        with open(self.log) as f:
            text = f.read()
        self.assertIn("too long for a unix socket", text)
        path = endpoint[len("ipc://"):]
        self.assertLessEqual(len(path), 107)
        self.assertNotIn(self.state, path)
        folder = os.path.dirname(path)
        self.addCleanup(shutil.rmtree, folder, True)
        self.assertEqual(os.stat(folder).st_mode & 0o777, 0o700)
        r = subprocess.run([binary("cli/cadre"), "--master", endpoint, "submit", "--parsable", "--", "true"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A restart finds the same place again.
        self.stop(p)
        os.unlink(self.log)
        self.start_master()
        self.assertEqual(wait_until(self.socket_from_log, START_TIMEOUT, "the restarted master's socket"), endpoint)
        r = subprocess.run([binary("cli/cadre"), "--master", endpoint, "show", r.stdout.strip()],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_configured_local_socket_path_too_long_is_refused_at_start(self):
        r = subprocess.run([binary("master/cadre-master"), "--listen", "tcp://127.0.0.1:%d" % free_port(),
                            "--state-dir", os.path.join(self.tmp, "s"), "--local-socket", self.state + "/x.sock"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("at most 107", r.stderr)


if __name__ == "__main__":
    unittest.main()
