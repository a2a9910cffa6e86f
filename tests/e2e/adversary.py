"""A hostile but enrolled user, for the adversarial end-to-end tests
(test_adversarial_*.py).

HostileCluster is a Cluster whose master requires CURVE on tcp, offers the
local (ipc) socket, and knows two real local users, A and B, each with an
enrolled key, a home folder under the cluster's temporary folder, and
helpers to run the CLI as them (Users.cli). Its agents are named n1, n2.

RawClient drives tests/e2e/raw_client.cpp (cadre-raw-client): a ZeroMQ
DEALER with any key and any routing id that sends Envelopes given as
Cap'n Proto JSON and reports every message it receives. The master cannot
tell it from a real CLI or agent, except by what it sends.

QueueProber runs `cadre queue` as a user in a loop on a thread, so a test
can check that the master serves others while it is being abused.

Creating the users needs root and useradd: HostileTestCase skips otherwise.
"""

import atexit
import json
import os
import pwd
import secrets
import shutil
import subprocess
import threading
import time
import unittest

from harness import CLI_TIMEOUT, STATE_TIMEOUT, Cluster, ClusterTestCase, build_dir, wait_until

# Per test process: modules running at once (ctest -j) never share a user,
# and each removes its own at exit (ensure_user).
USER_NAMES = ("cadre-e2e-adv-a-%d" % os.getpid(), "cadre-e2e-adv-b-%d" % os.getpid())
ADMIN_GROUP = "cadre-e2e-adv-admins"
# Generous: how long a raw request may take to be answered (a cancel of a
# million ids included). Only catches hangs.
REPLY_TIMEOUT = 60


def needs_root_reason():
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return "needs root and useradd for two real users"
    return None


def ensure_user(name):
    """The pwd entry of a local user made for this test process, removed
    when the process exits."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", name], check=True,
                   capture_output=True, timeout=60)
    atexit.register(subprocess.run, ["userdel", "--force", name], capture_output=True, timeout=60)
    return pwd.getpwnam(name)


def raw_client_binary():
    path = os.environ.get("CADRE_RAW_CLIENT") or os.path.join(build_dir(), "tests", "e2e", "cadre-raw-client")
    if not os.access(path, os.X_OK):
        message = "%s not found: build the cadre-raw-client target (or set CADRE_RAW_CLIENT)" % path
        if os.environ.get("CADRE_BUILD_DIR"):
            raise FileNotFoundError(message)
        raise unittest.SkipTest(message)
    return path


class User:
    """A real local user with an enrolled CURVE key and a home folder."""

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.pw = ensure_user(name)
        self.name = name
        self.uid, self.gid = self.pw.pw_uid, self.pw.pw_gid
        self.home = cluster.path("homes", name)
        os.makedirs(self.home)
        os.chmod(self.home, 0o755)
        key = cluster.keygen("user-" + name)
        cluster.master_cmd("enroll-user", name, key + ".pub")
        self.key_in_keys = key
        # Their copy of the secret key, theirs alone, and the master's public key.
        self.key = os.path.join(self.home, "key")
        shutil.copy(key, self.key)
        self.master_pub = os.path.join(self.home, "master.pub")
        shutil.copy(cluster.master_key + ".pub", self.master_pub)
        for path in (self.home, self.key, self.master_pub):
            os.chown(path, self.uid, self.gid)
        os.chmod(self.key, 0o600)

    def env(self, transport="tcp"):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home, "LC_ALL": "C.UTF-8"}
        if transport == "tcp":
            env.update({"CADRE_KEY": self.key, "CADRE_MASTER_KEY": self.master_pub})
        else:
            env.update({"CADRE_KEY": "", "CADRE_MASTER_KEY": ""})
        return env

    def endpoint(self, transport):
        return self.cluster.endpoint if transport == "tcp" else "ipc://" + self.cluster.local_socket

    def run(self, argv, timeout=CLI_TIMEOUT, input=None, cwd=None, env=None):
        """Runs argv as this user (no supplementary groups); raises on a hang."""
        full_env = self.env()
        full_env.update(env or {})
        try:
            return subprocess.run(argv, capture_output=True, timeout=timeout, user=self.uid, group=self.gid,
                                  extra_groups=[], env=full_env, cwd=cwd or self.home,
                                  input=input, stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("`%s` as %s did not finish within %ss (hang)"
                                 % (" ".join(map(str, argv))[:300], self.name, timeout)) from e

    def cli(self, *args, transport="tcp", master=None, timeout=CLI_TIMEOUT, input=None, cwd=None, umask=None):
        """`cadre --master ENDPOINT ARGS...` as this user over tcp (CURVE,
        their key) or the local socket. Returns CompletedProcess with text
        stdout/stderr (bytes decoded with surrogateescape, so nothing the
        master printed is lost). umask: run it under that umask."""
        argv = [self.cluster.cli_bin, "--master", master or self.endpoint(transport)] + [str(a) for a in args]
        if umask is not None:
            argv = ["sh", "-c", 'umask %s; exec "$@"' % umask, "sh"] + argv
        env = self.env(transport)
        r = self.run(argv, timeout=timeout, input=input, cwd=cwd, env=env)
        r.stdout = r.stdout.decode("utf-8", "surrogateescape")
        r.stderr = r.stderr.decode("utf-8", "surrogateescape")
        return r

    def submit(self, script, *flags, transport="tcp"):
        r = self.cli("submit", "--parsable", "--chdir", self.home, *flags, "--", "sh", "-c", script,
                     transport=transport)
        if r.returncode != 0 or not r.stdout.strip().isdigit():
            raise AssertionError("submit as %s failed (%d): %s %s" % (self.name, r.returncode, r.stdout, r.stderr))
        return int(r.stdout)

    def queue_json(self, all_jobs=True):
        r = self.cli("queue", "--json", *(["--all"] if all_jobs else []))
        if r.returncode != 0:
            raise AssertionError("cadre queue as %s failed: %s" % (self.name, r.stderr))
        return json.loads(r.stdout)["jobs"]

    def job_request(self, **overrides):
        """A valid JobRequest (Cap'n Proto JSON) for one rank of `true`."""
        request = {
            "name": "raw", "argv": ["true"], "workdir": self.home, "outputPattern": "cadre-%j-%t.out",
            "perTask": {"millicores": "1000", "memoryMb": "64", "gpus": 0}, "ntasks": 1,
            "user": self.name, "uid": self.uid, "gid": self.gid,
        }
        request.update(overrides)
        return request


class HostileCluster(Cluster):
    """A CURVE cluster with agents n1..nN, a local socket, an optional TOML
    config, and two real users (self.a, self.b) with enrolled keys."""

    def __init__(self, agents=2, config=None, agent_args=(), **kw):
        super().__init__(agents=0, **kw)
        try:
            self._prepare(agents, config, agent_args)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _prepare(self, agents, config, agent_args):
        self.agent_specs = {
            "n%d" % i: {"cpus": 8, "memory": "32G", "gpus": 0, "address": "127.0.0.%d" % i, "args": list(agent_args)}
            for i in range(1, agents + 1)
        }
        # Real users must reach their homes and the socket under the folder;
        # they cannot list it, and the keys and the state stay root's alone.
        os.chmod(self.tmp, 0o711)
        os.chmod(self.markers, 0o1777)
        self.keys = self.path("keys")
        os.makedirs(self.keys, mode=0o700)
        self.agent_keys = os.path.join(self.keys, "agents")
        self.user_keys = os.path.join(self.keys, "users")
        self.master_key = self.keygen("master")
        for name in self.agent_specs:
            key = self.keygen("agent-" + name)
            self.master_cmd("enroll-agent", name, key + ".pub")
            self.agent_specs[name]["key"] = key
        os.makedirs(self.path("sock"), mode=0o755)
        self.local_socket = self.path("sock", "cadre.sock")
        self.config_path = None
        if config is not None:
            self.config_path = self.path("cadre.toml")
            with open(self.config_path, "w") as f:
                f.write(config)
        self.a = User(self, USER_NAMES[0])
        self.b = User(self, USER_NAMES[1])
        self.raw_clients = []

    def keygen(self, name):
        path = os.path.join(self.keys, name)
        subprocess.run([self.cli_bin, "keygen", path], check=True, capture_output=True, timeout=CLI_TIMEOUT)
        return path

    def master_cmd(self, *args, check=True):
        return subprocess.run([self.master_bin, "--agent-keys", self.agent_keys, "--user-keys", self.user_keys] +
                              [str(a) for a in args], check=check, capture_output=True, text=True,
                              timeout=CLI_TIMEOUT)

    def _spawn(self, argv, log_name, env=None):
        argv = list(argv)
        if log_name == "master.log":
            argv += ["--key", self.master_key, "--agent-keys", self.agent_keys, "--user-keys", self.user_keys,
                     "--local-socket", self.local_socket, "--admin-group", ADMIN_GROUP]
            if self.config_path:
                argv += ["--config", self.config_path]
        elif log_name.startswith("agent-"):
            name = log_name[len("agent-"):-len(".log")]
            argv += ["--key", self.agent_specs[name]["key"], "--master-key", self.master_key + ".pub"]
        return super()._spawn(argv, log_name, env=env)

    def cli(self, *args, env=None, **kw):
        """The CLI as root (an admin) over tcp with a root key enrolled on demand."""
        if not hasattr(self, "root_key"):
            self.root_key = self.keygen("root")
            self.master_cmd("enroll-user", pwd.getpwuid(os.getuid()).pw_name, self.root_key + ".pub")
        full = {"CADRE_KEY": self.root_key, "CADRE_MASTER_KEY": self.master_key + ".pub"}
        full.update(env or {})
        return super().cli(*args, env=full, **kw)

    def master_log_text(self):
        with open(self.master_log(), errors="replace") as f:
            return f.read()

    def raw(self, key=None, routing_id=None, transport="tcp", user=None, linger_ms=1000):
        """Starts a RawClient: over tcp with the secret key file `key`, or on
        the local socket (as `user`, whose uid the kernel reports)."""
        client = RawClient(self, key=key, routing_id=routing_id, transport=transport, user=user,
                           linger_ms=linger_ms)
        self.raw_clients.append(client)
        return client

    def stop(self):
        for client in self.raw_clients:
            client.kill()
        super().stop()


class RawClient:
    """One cadre-raw-client process: send() writes an Envelope (a dict in
    Cap'n Proto's JSON form) and returns its request id; replies and every
    other message land in self.received (decoded envelopes, in order)."""

    def __init__(self, cluster, key=None, routing_id=None, transport="tcp", user=None, linger_ms=1000):
        argv = [raw_client_binary(), "--linger-ms", str(linger_ms)]
        if transport == "tcp":
            argv += ["--endpoint", cluster.endpoint, "--key", key, "--server-key", cluster.master_key + ".pub"]
        else:
            argv += ["--endpoint", "ipc://" + cluster.local_socket]
        if routing_id is not None:
            argv += ["--routing-id", routing_id]
        kw = {}
        if user is not None:
            kw = {"user": user.uid, "group": user.gid, "extra_groups": []}
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, cwd=cluster.tmp, **kw)
        cluster._all_procs.append(self.proc)
        self.received = []
        self.events = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: self._seen("ready") or self.proc.poll() is not None, 30, "cadre-raw-client to start")
        if self.proc.poll() is not None:
            raise AssertionError("cadre-raw-client exited at start: %s" % self.proc.stderr.read().decode())

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "garbled", "text": line[:200].decode(errors="replace")}
            with self._lock:
                self.events.append(event)
                if event.get("event") == "received":
                    self.received.append(event["envelope"])

    def _seen(self, kind):
        with self._lock:
            return any(e.get("event") == kind for e in self.events)

    def send(self, body, request_id=None):
        """Sends {"requestId": id, **body}; returns the request id (an int)."""
        if request_id is None:
            request_id = self._next_id
            self._next_id += 1
        envelope = dict(body)
        envelope["requestId"] = str(request_id)
        self.proc.stdin.write(json.dumps(envelope).encode() + b"\n")
        self.proc.stdin.flush()
        return request_id

    def replies_to(self, request_id):
        with self._lock:
            return [e for e in self.received if str(e.get("requestId")) == str(request_id)]

    def wait_reply(self, request_id, timeout=REPLY_TIMEOUT):
        """The first message answering request_id; fails after timeout."""
        try:
            return wait_until(lambda: (self.replies_to(request_id) or [None])[0], timeout,
                              "a reply to raw request %s" % request_id)
        except AssertionError as e:
            got = [(str(m.get("requestId")), kind_of(m), error_text(m)[:100]) for m in self.snapshot()]
            raise AssertionError("%s; received so far (request id, kind, error): %s" % (e, got[-10:])) from None

    def snapshot(self):
        with self._lock:
            return list(self.received)

    def bad_input(self):
        with self._lock:
            return [e for e in self.events if e.get("event") in ("bad_input", "garbled", "undecodable")]

    def close(self, timeout=60):
        """Closes stdin and waits while the client lingers for late messages."""
        try:
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout=10)
        return self.snapshot()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=30)


def kind_of(envelope):
    """Which union member an envelope (Cap'n Proto JSON) holds."""
    others = [k for k in envelope if k not in ("version", "requestId")]
    return others[0] if others else "register"


def error_text(envelope):
    return (envelope.get("error") or {}).get("message", "")


def random_routing_id():
    return "x" + secrets.token_hex(16)


class QueueProber:
    """Runs `cadre queue` as `user` in a loop on a thread until stop();
    failures() lists every call that did not succeed."""

    def __init__(self, user, transport="tcp"):
        self.user = user
        self.transport = transport
        self.calls = 0
        self.failed = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _loop(self):
        while not self._stop.is_set():
            try:
                r = self.user.cli("queue", transport=self.transport, timeout=CLI_TIMEOUT)
                if r.returncode != 0:
                    self.failed.append("exit %d: %s" % (r.returncode, r.stderr.strip()))
            except AssertionError as e:
                self.failed.append(str(e))
            self.calls += 1
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=CLI_TIMEOUT + 10)

    def assert_served(self, test):
        self.stop()
        test.assertGreater(self.calls, 0, "cadre queue never ran")
        test.assertEqual(self.failed, [], "another user's cadre queue failed while the master was abused")


@unittest.skipIf(needs_root_reason(), needs_root_reason() or "")
class HostileTestCase(ClusterTestCase):
    """A fresh HostileCluster for every test; CONFIG is its master's TOML."""

    AGENTS = 2
    CONFIG = None
    AGENT_ARGS = ()
    NODE_TIMEOUT = 120  # long: a node that goes DOWN was cut off, not timed out

    def setUp(self):
        self.c = HostileCluster(agents=self.AGENTS, config=self.CONFIG, agent_args=self.AGENT_ARGS,
                                node_timeout=self.NODE_TIMEOUT, name=type(self).__name__.lower())
        self.addCleanup(self._stop_cluster)
        self.c.start()
        self.a, self.b = self.c.a, self.c.b

    def wait_state(self, job_id, states, timeout=STATE_TIMEOUT):
        return self.c.wait_state(job_id, states, timeout=timeout)
