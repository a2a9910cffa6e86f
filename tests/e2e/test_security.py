"""End to end: CURVE on the master's tcp endpoint. Only enrolled agents get
in and a revoked one is cut off; a client without an enrolled key gets no
service; users cancel only their own jobs; and the bytes on the wire do not
show what a job runs."""

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from harness import CLI_TIMEOUT, Cluster, ClusterTestCase, free_port, make_user, wait_until


ADMIN_GROUP = "cadre-e2e-admins"


class SecureCluster(Cluster):
    """A Cluster whose master requires CURVE: a master key, every agent's key
    enrolled, and the user running the tests enrolled under their name."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.keys = self.path("keys")
        os.makedirs(self.keys)
        self.agent_keys = os.path.join(self.keys, "agents")
        self.user_keys = os.path.join(self.keys, "users")
        self.master_key = self.keygen("master")
        self.user_key = self.keygen("user")
        self.master_cmd("enroll-user", pwd.getpwuid(os.getuid()).pw_name, self.user_key + ".pub")
        for name in self.agent_specs:
            self.enroll_agent(name)
        # The local socket, where any local user can reach it.
        self.socket_dir = tempfile.mkdtemp(prefix="cadre-e2e-sock-")
        os.chmod(self.socket_dir, 0o755)
        self.local_socket = os.path.join(self.socket_dir, "cadre.sock")

    def stop(self):
        super().stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def keygen(self, name):
        path = os.path.join(self.keys, name)
        subprocess.run([self.cli_bin, "keygen", path], check=True, capture_output=True, timeout=CLI_TIMEOUT)
        return path

    def master_cmd(self, *args):
        return subprocess.run([self.master_bin, "--agent-keys", self.agent_keys, "--user-keys", self.user_keys] +
                              list(args), check=True, capture_output=True, text=True, timeout=CLI_TIMEOUT)

    def enroll_agent(self, name):
        key = self.keygen("agent-" + name)
        self.master_cmd("enroll-agent", name, key + ".pub")
        self.agent_specs[name]["key"] = key

    def _spawn(self, argv, log_name, env=None):
        argv = list(argv)
        if log_name == "master.log":
            argv += ["--key", self.master_key, "--agent-keys", self.agent_keys, "--user-keys", self.user_keys,
                     "--local-socket", self.local_socket, "--admin-group", ADMIN_GROUP]
        elif log_name.startswith("agent-"):
            name = log_name[len("agent-"):-len(".log")]
            argv += ["--key", self.agent_specs[name]["key"], "--master-key", self.master_key + ".pub"]
        return super()._spawn(argv, log_name, env=env)

    def cli(self, *args, env=None, **kw):
        full = {"CADRE_KEY": self.user_key, "CADRE_MASTER_KEY": self.master_key + ".pub"}
        full.update(env or {})
        return super().cli(*args, env=full, **kw)


class Security(ClusterTestCase):
    AGENTS = 2
    GPUS = 0
    NODE_TIMEOUT = 120  # long: a node that goes DOWN sooner was cut off, not timed out

    def setUp(self):
        self.c = SecureCluster(agents=self.AGENTS, gpus=self.GPUS, node_timeout=self.NODE_TIMEOUT, name="security")
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def master_log(self):
        with open(self.c.master_log()) as f:
            return f.read()

    def test_enrolled_agents_run_jobs_and_an_agent_with_an_unknown_key_never_joins(self):
        job_id = self.c.submit("echo ran on $CADRE_NODE_NAME", "--nodes", "2")
        self.c.wait_state(job_id, "COMPLETED")

        # A third agent with a key nobody enrolled.
        self.c.agent_specs["node3"] = {"cpus": 8, "memory": "32G", "gpus": 0, "address": "127.0.0.3",
                                       "key": self.c.keygen("stranger")}
        self.c.start_agent("node3")
        wait_until(lambda: "refused a connection: an unknown key" in self.master_log(), 60,
                   "the master to refuse node3's key")
        self.assertNotIn("node3", [n["name"] for n in self.c.nodes()])

    def test_a_revoked_agent_is_cut_off_at_once(self):
        self.c.master_cmd("revoke-agent", "node2")
        self.c.wait_node_state("node2", "DOWN", timeout=60)
        self.assertIn("node node2 is DOWN: its key was revoked", self.master_log())
        # Its messages are refused from then on; node1 still serves.
        wait_until(lambda: "dropped a message from a key that is no longer enrolled" in self.master_log(), 60,
                   "node2's heartbeats to be refused")
        job_id = self.c.submit("true")
        self.assertEqual(self.c.wait_state(job_id, "COMPLETED")["tasks"][0]["node"], "node1")

    def test_a_client_without_an_enrolled_key_gets_no_service(self):
        home = tempfile.mkdtemp(prefix="cadre-e2e-home-")
        self.addCleanup(shutil.rmtree, home, True)
        no_key = {"HOME": home, "CADRE_KEY": "", "CADRE_MASTER_KEY": ""}
        for args in (["queue"], ["submit", "--", "true"], ["cancel", "1"], ["nodes"]):
            r = self.c.cli("--timeout", "2", *args, env=no_key, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("cadre keygen", r.stderr, "the error says how to get enrolled")

        stranger = self.c.keygen("stranger")
        r = self.c.cli("--timeout", "2", "queue", env={"CADRE_KEY": stranger}, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("enroll", r.stderr)
        self.assertIn("refused a connection: an unknown key", self.master_log())
        self.assertEqual(self.c.queue(), [], "nothing was submitted")

    def test_each_connection_problem_fails_at_once_with_its_own_message(self):
        # --timeout 60: each message below comes from what the connection
        # showed, not from the timeout (whose message says "within 60 s").
        home = tempfile.mkdtemp(prefix="cadre-e2e-home-")
        self.addCleanup(shutil.rmtree, home, True)
        no_key = {"HOME": home, "CADRE_KEY": "", "CADRE_MASTER_KEY": ""}
        r = self.c.cli("--timeout", "60", "queue", env=no_key, check=False, timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("requires a key, and this cadre has none", r.stderr)
        self.assertIn("cadre keygen", r.stderr)

        stranger = self.c.keygen("stranger2")
        with open(stranger + ".pub") as f:
            public = re.search(r'public-key = "(.*)"', f.read()).group(1)
        r = self.c.cli("--timeout", "60", "queue", env={"CADRE_KEY": stranger}, check=False, timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("refused the key in " + stranger, r.stderr)
        self.assertIn("enroll " + stranger + ".pub", r.stderr)
        self.assertNotIn(public, r.stderr, "names the key's file, never prints the raw key")

        # The master's public key given wrong: another key pair's.
        other_master = self.c.keygen("not-the-master")
        r = self.c.cli("--timeout", "60", "queue", env={"CADRE_MASTER_KEY": other_master + ".pub"}, check=False,
                       timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is %s.pub the public key of this master?" % other_master, r.stderr)

        # Nothing listens at the address.
        r = self.c.cli("--timeout", "60", "queue", master="tcp://127.0.0.1:%d" % free_port(), check=False,
                       timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("the connection is refused, nothing listens there", r.stderr)
        self.assertEqual(self.c.queue(), [], "nothing was submitted")

    def test_a_key_enrolled_a_moment_ago_gets_in_at_once(self):
        # The master may have reread its key folders just before the
        # enrolment; the CLI's first handshake is then refused, and it must
        # try again rather than report the key as unknown.
        me = pwd.getpwuid(os.getuid()).pw_name
        for i in range(6):
            key = self.c.keygen("fresh-%d" % i)
            self.c.master_cmd("revoke-user", me)
            self.c.master_cmd("enroll-user", me, key + ".pub")
            r = self.c.cli("--timeout", "30", "queue", env={"CADRE_KEY": key}, check=False, timeout=60)
            self.assertEqual(r.returncode, 0, "try %d: %s" % (i, r.stderr))

    def test_local_users_need_no_key_and_are_who_the_kernel_says(self):
        home = tempfile.mkdtemp(prefix="cadre-e2e-home-")
        self.addCleanup(shutil.rmtree, home, True)
        local = "ipc://" + self.c.local_socket
        no_key = {"HOME": home, "CADRE_KEY": "", "CADRE_MASTER_KEY": ""}
        r = self.c.cli("submit", "--parsable", "--", "true", master=local, env=no_key)
        job = self.c.wait_state(int(r.stdout), "COMPLETED")
        self.assertEqual(job["user"], pwd.getpwuid(os.getuid()).pw_name)
        self.assertEqual(os.stat(self.c.local_socket).st_mode & 0o777, 0o666)

    def test_the_bytes_on_the_wire_never_show_the_command(self):
        marker = "cadre-secret-marker-%d" % os.getpid()
        proxy = TcpRecorder(self.c.port)
        self.addCleanup(proxy.close)
        r = self.c.cli("submit", "--parsable", "--", "sh", "-c", "echo " + marker,
                       master="tcp://127.0.0.1:%d" % proxy.port)
        job_id = int(r.stdout)
        self.assertEqual(self.c.show(job_id)["command"][2], "echo " + marker)
        captured = proxy.captured()
        self.assertGreater(len(captured), 200, "the proxy saw the conversation")
        self.assertNotIn(marker.encode(), captured)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd"), "needs root and useradd for a second user")
class Ownership(Security):
    def test_a_user_cannot_cancel_another_users_job(self):
        other = make_user("cadre-e2e-user", self.addCleanup)
        self.c.master_cmd("enroll-user", other.pw_name, self.c.keygen("other") + ".pub")
        # Their secret key, where only they can read it (the cluster's folder is root's alone).
        home = tempfile.mkdtemp(prefix="cadre-e2e-other-")
        self.addCleanup(shutil.rmtree, home, True)
        os.chmod(home, 0o755)
        key = os.path.join(home, "key")
        shutil.copy(os.path.join(self.c.keys, "other"), key)
        shutil.chown(key, other.pw_uid, other.pw_gid)
        master_pub = os.path.join(home, "master.pub")
        shutil.copy(self.c.master_key + ".pub", master_pub)
        mine = self.c.submit("sleep 300")
        self.c.wait_state(mine, "RUNNING")

        def as_other(*args):
            argv = [self.c.cli_bin, "--master", self.c.endpoint] + list(args)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CADRE_KEY": key,
                   "CADRE_MASTER_KEY": master_pub}
            return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, user=other.pw_uid,
                                  group=other.pw_gid, env=env, cwd="/")

        r = as_other("cancel", str(mine))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("belongs to", r.stderr)
        self.assertEqual(self.c.show(mine)["state"], "RUNNING")
        # The same over the local socket, where the kernel names the user.
        r = as_other("--master", "ipc://" + self.c.local_socket, "cancel", str(mine))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("belongs to", r.stderr)
        # Their job writes its output into a folder of theirs in the test's, not /tmp.
        work = os.path.join(home, "work")
        os.mkdir(work)
        shutil.chown(work, other.pw_uid, other.pw_gid)
        r = as_other("--master", "ipc://" + self.c.local_socket, "submit", "--parsable", "--chdir", work, "--",
                     "sleep", "300")
        self.assertEqual(r.returncode, 0, r.stderr)
        theirs = int(r.stdout)
        self.assertEqual(self.c.show(theirs)["user"], other.pw_name)
        # They still see it, as in Slurm.
        r = as_other("queue", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"id": %d' % mine, r.stdout)
        # Root (an admin) may cancel anyone's job; the owner may cancel their own.
        self.c.cancel(mine)
        self.c.wait_state(mine, "CANCELLED")
        r = as_other("cancel", str(theirs))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.c.wait_state(theirs, "CANCELLED")

        # Draining nodes is for admins: root, and members of the admin group.
        r = as_other("drain", "node1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("only admins", r.stderr)
        self.assertEqual(self.c.node("node1")["state"], "UP")
        if not shutil.which("groupadd"):
            return
        made = subprocess.run(["groupadd", ADMIN_GROUP], capture_output=True, timeout=60).returncode == 0
        if made:
            self.addCleanup(subprocess.run, ["groupdel", ADMIN_GROUP], capture_output=True, timeout=60)
        self.addCleanup(subprocess.run, ["gpasswd", "-d", other.pw_name, ADMIN_GROUP], capture_output=True)
        subprocess.run(["gpasswd", "-a", other.pw_name, ADMIN_GROUP], check=True, capture_output=True, timeout=60)
        r = as_other("drain", "node1", "--reason", "firmware update")
        self.assertEqual(r.returncode, 0, r.stderr)
        node = self.c.node("node1")
        self.assertEqual((node["state"], node["reason"]), ("DRAIN", "firmware update"))
        job_id = self.c.submit("true")
        self.assertEqual(self.c.wait_state(job_id, "COMPLETED")["tasks"][0]["node"], "node2")
        self.c.cli("resume", "node1")
        self.assertEqual(self.c.node("node1")["state"], "UP")

    # The Security tests need not run twice.
    test_enrolled_agents_run_jobs_and_an_agent_with_an_unknown_key_never_joins = None
    test_a_revoked_agent_is_cut_off_at_once = None
    test_a_client_without_an_enrolled_key_gets_no_service = None
    test_each_connection_problem_fails_at_once_with_its_own_message = None
    test_a_key_enrolled_a_moment_ago_gets_in_at_once = None
    test_the_bytes_on_the_wire_never_show_the_command = None
    test_local_users_need_no_key_and_are_who_the_kernel_says = None


class TcpRecorder:
    """A loopback TCP proxy to `port` that keeps every byte it forwards."""

    def __init__(self, port):
        self.target = port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.data = bytearray()
        self.lock = threading.Lock()
        self.sockets = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self.lock:
                self.data += chunk
            try:
                dst.sendall(chunk)
            except OSError:
                return

    def captured(self):
        with self.lock:
            return bytes(self.data)

    def close(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


if __name__ == "__main__":
    unittest.main()
