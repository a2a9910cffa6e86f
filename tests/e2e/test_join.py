"""End to end: the one-command node install, minus apt and systemctl.

`cadre-master --config FILE enroll-agent node9` prints the line an admin runs
on a new node; its `cadre-agent join TOKEN --config-dir DIR` part writes the
node's keys and a drop-in; `cadre-agent --config DIR/cadre.toml` then
registers as node9 over CURVE and runs a job. Also: a tampered token is
refused, a bad config names its file and line, and the master tells systemd
READY=1 / STOPPING=1 and logs in the journal's format when stderr is the
journal."""

import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import unittest

from harness import CLI_TIMEOUT, START_TIMEOUT, ClusterTestCase, binary, free_port, wait_until
from test_security import SecureCluster

LINE = re.compile(r"^sh -c 'apt-get install -y cadre-agent && cadre-agent join (cadre1:[A-Za-z0-9_-]+) "
                  r"&& systemctl enable --now cadre-agent'$")


class JoinCluster(SecureCluster):
    """A CURVE master with no agents yet, and its config file."""

    def __init__(self, **kw):
        super().__init__(agents=0, **kw)
        self.join_config = self.path("master.toml")

    def write_master_config(self):
        with open(self.join_config, "w") as f:
            f.write('[master]\nlisten = "%s"\n[security]\nkey = "%s"\nagent_keys = "%s"\nuser_keys = "%s"\n'
                    '[agent]\n# the agents\' section: the master leaves it alone\ncpus = 1\n'
                    % (self.endpoint, self.master_key, self.agent_keys, self.user_keys))

    def run(self, argv, **kw):
        return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=self.tmp, **kw)


class Join(ClusterTestCase):
    def setUp(self):
        self.c = JoinCluster(name="join")
        self.addCleanup(self._stop_cluster)
        self.c.start()
        self.c.write_master_config()

    def enroll(self, name):
        r = self.c.run([self.c.master_bin, "--config", self.c.join_config, "enroll-agent", name])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, "stdout is the one line: %r" % r.stdout)
        m = LINE.match(lines[0])
        self.assertIsNotNone(m, lines[0])
        self.assertIn("not kept", r.stderr)
        return m.group(1)

    def node_config(self, folder, extra=""):
        """The packaged cadre.toml's part a node admin would edit, next to the drop-in."""
        path = os.path.join(folder, "cadre.toml")
        with open(path, "w") as f:
            f.write('[agent]\ncpus = 2\nmemory = "4G"\ngpus = 0\nwork_dir = "%s"\naddress = "127.0.0.9"\n'
                    'kill_grace = "1s"\nallow_root_jobs = %s\n%s'
                    % (os.path.join(folder, "work"), "true" if os.geteuid() == 0 else "false", extra))
        return path

    def test_a_node_joins_with_the_printed_token_and_runs_a_job(self):
        token = self.enroll("node9")
        self.assertTrue(os.path.exists(os.path.join(self.c.agent_keys, "node9.pub")))

        folder = self.c.path("node9")
        r = self.c.run([self.c.agent_bin, "join", token, "--config-dir", folder])
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, mode in (("node.key", 0o600), ("node.key.pub", 0o644), ("master.pub", 0o644),
                           ("cadre.toml.d/50-join.toml", 0o644)):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode), mode, name)
        with open(os.path.join(folder, "cadre.toml.d", "50-join.toml")) as f:
            drop_in = f.read()
        self.assertIn("node9", drop_in)
        self.assertIn(self.c.endpoint, drop_in)
        # The master kept the node's public key only.
        with open(os.path.join(self.c.agent_keys, "node9.pub")) as f:
            self.assertNotIn("secret", f.read())

        config = self.node_config(folder)
        r = self.c.run([self.c.agent_bin, "--config", config, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("node node9", r.stdout)

        self.c.agents["node9"] = self.c._spawn([self.c.agent_bin, "--config", config], "join-node9.log")
        self.c.wait_node_state("node9", "UP", timeout=START_TIMEOUT)
        job_id = self.c.submit("echo ran on $CADRE_NODE_NAME")
        done = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(done["tasks"][0]["node"], "node9")
        with open(self.c.master_log()) as f:
            self.assertIn("node node9 registered", f.read())

    def test_an_agent_started_before_its_key_is_enrolled_gets_in_once_it_is(self):
        # libzmq drops a connection whose key the master refused and never
        # retries it: the agent must say why and connect again by itself.
        key = self.c.keygen("agent-late")
        self.c.agent_specs["late"] = {"cpus": 1, "memory": "1G", "gpus": 0, "address": "127.0.0.7",
                                      "key": key}
        self.c.start_agent("late")
        wait_until(lambda: "refused this node's key" in open(self.c.agent_log("late")).read(), START_TIMEOUT,
                   "the agent to log that the master refused its key")
        self.assertIn("cadre-master enroll-agent late", open(self.c.agent_log("late")).read())
        self.assertNotIn("late", {n["name"] for n in self.c.nodes(check=False)})
        self.c.master_cmd("enroll-agent", "late", key + ".pub")
        self.c.wait_nodes_up(["late"])
        job_id = self.c.submit("echo ran on $CADRE_NODE_NAME")
        done = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(done["tasks"][0]["node"], "late")
        wait_until(lambda: "accepted this node's key" in open(self.c.agent_log("late")).read(), START_TIMEOUT,
                   "the agent to log that its key got in")

    def test_a_tampered_token_is_refused_and_writes_nothing(self):
        token = self.enroll("node9")
        i = len(token) // 2
        tampered = token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]
        folder = self.c.path("tampered")
        r = self.c.run([self.c.agent_bin, "join", tampered, "--config-dir", folder])
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a usable join token", r.stderr)
        self.assertFalse(os.path.exists(folder))
        # A token from stdin works, and a second join with another node's token is refused.
        r = self.c.run([self.c.agent_bin, "join", "-", "--config-dir", folder], input=token + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        other = self.enroll("node10")
        r = self.c.run([self.c.agent_bin, "join", other, "--config-dir", folder])
        self.assertEqual(r.returncode, 2)
        self.assertIn("already holds another node key", r.stderr)

    def test_a_bad_agent_config_names_the_file_and_line(self):
        folder = self.c.path("bad")
        os.makedirs(os.path.join(folder, "cadre.toml.d"))
        config = self.node_config(folder, extra='labels = "rack"\n')
        for argv in ([self.c.agent_bin, "--config", config, "--check-config"], [self.c.agent_bin, "--config", config]):
            r = self.c.run(argv)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn("%s:9:10: agent.labels: expected key=value pairs" % config, r.stderr)

        self.node_config(folder)
        drop_in = os.path.join(folder, "cadre.toml.d", "60-site.toml")
        with open(drop_in, "w") as f:
            f.write("[agent]\n\ngpus = \"all\"\n")
        r = self.c.run([self.c.agent_bin, "--config", config, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s:3:8: agent.gpus: expected an integer" % drop_in, r.stderr)

        # The master checks its own sections, not the agent's.
        r = self.c.run([self.c.master_bin, "--config", self.c.join_config, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.c.join_config, "a") as f:
            f.write("[scheduler]\npolcy = \"easy\"\n")
        r = self.c.run([self.c.master_bin, "--config", self.c.join_config, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("master.toml:11:1: unknown key 'polcy' in [scheduler] (did you mean 'policy'?)", r.stderr)


class Systemd(unittest.TestCase):
    """The master as systemd runs it: a notify socket and the journal on stderr."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cadre-e2e-systemd-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.tmp])
        self.master = None
        self.addCleanup(self.stop_master)

    def stop_master(self):
        if self.master and self.master.poll() is None:
            os.killpg(self.master.pid, signal.SIGKILL)
            self.master.wait(timeout=10)

    def test_ready_and_stopping_reach_the_notify_socket_and_logs_carry_priorities(self):
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(notify.close)
        notify_name = "\0cadre-e2e-notify-%d" % os.getpid()  # abstract, as systemd may use
        notify.bind(notify_name)
        notify.settimeout(START_TIMEOUT)  # against a hang only

        log_path = os.path.join(self.tmp, "master.log")
        log = open(log_path, "wb")
        self.addCleanup(log.close)
        st = os.fstat(log.fileno())
        env = dict(os.environ, NOTIFY_SOCKET="@" + notify_name[1:], JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        port = free_port()
        self.master = subprocess.Popen(
            [binary("master/cadre-master"), "--listen", "tcp://127.0.0.1:%d" % port, "--state-dir",
             os.path.join(self.tmp, "state")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
        self.assertEqual(notify.recv(256), b"READY=1")
        self.master.send_signal(signal.SIGTERM)
        self.assertEqual(notify.recv(256), b"STOPPING=1")
        self.assertEqual(self.master.wait(timeout=START_TIMEOUT), 0)
        with open(log_path) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines, "the master logged nothing")
        for line in lines:
            self.assertRegex(line, r"^<[3467]>(debug|info|warning|error): ", "\n".join(lines))
        self.assertIn("<6>info: listening on tcp://127.0.0.1:%d" % port, "\n".join(lines))
        self.assertIn("<4>warning: no [security] key", "\n".join(lines))
