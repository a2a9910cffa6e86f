"""End to end: scripts/quickstart, and the README's tour after it, followed
by the user who ran it and by a second local user, as real users would.

The quickstart runs with its own state folder, port and HOME (nothing of
the real user's is touched), on the build under test. The second user is
created for this test alone (root only) and removed after it.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import REPO_ROOT, build_dir, free_port

QUICKSTART = os.path.join(REPO_ROOT, "scripts", "quickstart")
# Generous: only catches a hang (the quickstart may have to build).
QUICKSTART_TIMEOUT = 900
COMMAND_TIMEOUT = 120


def exported(lines, needle):
    """The `export ...` line of the quickstart's message that holds needle."""
    for line in lines:
        line = line.strip()
        if line.startswith("export ") and needle in line:
            return line
    raise AssertionError("no export line with %r in the quickstart's message:\n%s" % (needle, "\n".join(lines)))


@unittest.skipUnless(os.geteuid() == 0, "creates a second local user (root only)")
class Quickstart(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cadre-e2e-quickstart-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        self.shared = "/tmp/cadre-quickstart-%d" % self.port
        self.addCleanup(shutil.rmtree, self.shared, True)
        self.env = dict(os.environ)
        for name in ("CADRE_MASTER", "CADRE_TIMEOUT", "CADRE_KEY", "CADRE_MASTER_KEY"):
            self.env.pop(name, None)
        self.env.update({
            "HOME": os.path.join(self.tmp, "home-admin"),
            "CADRE_QUICKSTART_DIR": os.path.join(self.tmp, "qs"),
            "CADRE_QUICKSTART_PORT": str(self.port),
            "CADRE_QUICKSTART_BUILD_DIR": build_dir(),
        })
        os.makedirs(self.env["HOME"])
        self.addCleanup(self.stop_quickstart)

    def stop_quickstart(self):
        subprocess.run([QUICKSTART, "stop"], env=self.env, capture_output=True, timeout=COMMAND_TIMEOUT)

    def make_second_user(self):
        name = "cadre-qs-%d" % os.getpid()
        home = os.path.join(self.tmp, name)
        subprocess.run(["useradd", "--system", "--home-dir", home, "--no-create-home", "--shell", "/bin/sh", name],
                       check=True, capture_output=True, timeout=60)
        self.addCleanup(subprocess.run, ["userdel", name], capture_output=True, timeout=60)
        user = pwd.getpwnam(name)
        os.makedirs(os.path.join(home, "bin"))
        # A cadre this user may run, whatever the modes of the checkout's
        # folders (the README: build/cli/cadre, or the cadre-client package).
        shutil.copy2(os.path.join(build_dir(), "cli", "cadre"), os.path.join(home, "bin", "cadre"))
        for folder, _, files in os.walk(home):
            os.chown(folder, user.pw_uid, user.pw_gid)
            for f in files:
                os.chown(os.path.join(folder, f), user.pw_uid, user.pw_gid)
        return user

    def as_user(self, user, script, extra_env=None):
        """Runs `script` with bash as `user`, in their home, with only what a
        login would give them (and extra_env)."""
        env = {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
               "PATH": os.path.join(user.pw_dir, "bin") + ":/usr/local/bin:/usr/bin:/bin"}
        env.update(extra_env or {})
        return subprocess.run(["bash", "-euc", script], cwd=user.pw_dir, env=env, user=user.pw_uid,
                              group=user.pw_gid, extra_groups=[], capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)

    def test_the_tour_works_for_the_admin_and_for_a_second_local_user(self):
        r = subprocess.run([QUICKSTART], env=self.env, capture_output=True, text=True, timeout=QUICKSTART_TIMEOUT)
        self.assertEqual(r.returncode, 0, "quickstart failed:\n%s\n%s" % (r.stdout[-4000:], r.stderr[-4000:]))
        self.assertRegex(r.stdout, r"rank 0 of 4 on node\d")
        lines = r.stdout.splitlines()

        # The user who ran it: the printed lines put cadre on the PATH and
        # point it at the master, so the tour's commands run as written.
        path_line = exported(lines, "PATH=")
        master_line = exported(lines, "CADRE_MASTER=tcp://")
        admin_env = dict(self.env)
        admin_env["PATH"] = "/usr/bin:/bin"  # no cadre but the one the lines name
        tour = subprocess.run(["bash", "-euc", "%s\n%s\ncadre --version\ncadre nodes\ncadre queue --all\n"
                               % (path_line, master_line)], env=admin_env, cwd=self.tmp, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)
        self.assertEqual(tour.returncode, 0, tour.stderr)
        self.assertRegex(tour.stdout, r"^cadre \d+\.\d+\.\d+\n")
        self.assertIn("node4", tour.stdout)

        user = self.make_second_user()
        # 1. With no key, over the local socket the message names.
        socket_line = exported(lines, "CADRE_MASTER=ipc://")
        socket_endpoint = re.search(r"CADRE_MASTER=(ipc://\S+)", socket_line).group(1)
        r = self.as_user(user, "cadre submit --wait --output who.out -- id -un\ncat who.out\n",
                         {"CADRE_MASTER": socket_endpoint})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], user.pw_name)

        # 2. Over tcp with a key of their own: keygen makes ~/.cadre itself ...
        self.assertFalse(os.path.exists(os.path.join(user.pw_dir, ".cadre")))
        r = self.as_user(user, "cadre keygen ~/.cadre/key\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.stat(os.path.join(user.pw_dir, ".cadre")).st_mode & 0o777, 0o700)
        # ... the admin enrolls it with the command the message prints ...
        enroll = next((line.strip() for line in lines if "enroll-user" in line), None)
        self.assertIsNotNone(enroll, "the message says how to enroll another user")
        enroll = enroll.replace("~bob", user.pw_dir).replace(" bob ", " %s " % user.pw_name)
        r = subprocess.run(["bash", "-euc", enroll], env=self.env, capture_output=True, text=True,
                           timeout=COMMAND_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        # ... and with the line the message gives, the master's public key is
        # one they may read.
        tcp_line = exported([line for line in lines if "PATH=" not in line], "CADRE_MASTER=tcp://")
        r = self.as_user(user, "%s\ncadre submit --wait --output tcp.out -- id -un\ncat tcp.out\n" % tcp_line)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], user.pw_name)


if __name__ == "__main__":
    unittest.main()
