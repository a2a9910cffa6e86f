"""A throw-away cadre cluster on loopback for end-to-end tests.

Cluster starts one cadre-master and N cadre-agents as real processes, each
in its own process group, with every file (database, agent work dirs, logs,
rank output, marker files) under one fresh temporary folder. stop() ends
everything it started, kills any rank left behind, and removes the folder.

Binaries come from $CADRE_BUILD_DIR (default: <repo>/build), laid out as
CMake builds them: master/cadre-master, agent/cadre-agent, cli/cadre.

Debugging aids:
  CADRE_E2E_KEEP=1     keep the temporary folder after the test
  CADRE_E2E_VERBOSE=1  print the master and agent log tails after every test
                       (they are always printed after a failed one)
"""

import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "DEADLINE")

# Generous limits: they only catch hangs, nothing passes or fails on speed.
START_TIMEOUT = 60
STATE_TIMEOUT = 60
CLI_TIMEOUT = 30

# A report of AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer
# (the sanitizer build: scripts/test --sanitize) in a daemon's log.
SANITIZER_REPORT = re.compile(r"ERROR: (?:AddressSanitizer|LeakSanitizer)[^\n]*|"
                              r"SUMMARY: (?:AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)[^\n]*|"
                              r"[^\n]*: runtime error: [^\n]*")


def build_dir():
    return os.environ.get("CADRE_BUILD_DIR") or os.path.join(REPO_ROOT, "build")


def binary(rel):
    """A built program. Missing under an explicit $CADRE_BUILD_DIR (as ctest
    sets it) is an error; missing from the default folder skips the test."""
    path = os.path.join(build_dir(), rel)
    if not os.access(path, os.X_OK):
        message = "%s not found: build cadre-master, cadre-agent and cadre, and set CADRE_BUILD_DIR to the build folder" % path
        if os.environ.get("CADRE_BUILD_DIR"):
            raise FileNotFoundError(message)
        raise unittest.SkipTest(message)
    return path


# Two partitions over every node, the default one preemptible by the other:
# what the preemption tests configure (a master TOML fragment).
TWO_TIERS = """
[[partition]]
name = "low"
default = true
tier = 0
preemptible = true

[[partition]]
name = "high"
tier = 10
preemptible = false
"""


def write_script(path, text, mode=0o755):
    """Writes a script (dedented, leading blank lines dropped), runnable."""
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip())
    os.chmod(path, mode)
    return path


def free_port():
    """A TCP port on loopback that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    """True while pid is a live process (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        # The state follows the parenthesised command name.
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls predicate until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def parse_env(text):
    """The NAME=value lines of `env` output as a dict; other lines are skipped."""
    env = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key and key.replace("_", "").isalnum():
            env[key] = value
    return env


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)\n" % (path, e)


def read_number(path):
    """The whole number a file holds (a pid, a time stamp), or None while the
    file is missing or not yet complete."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def processes_mentioning(folder, by_cwd=False):
    """Pids of the processes (this one aside) whose command line or
    environment holds `folder`, or, with by_cwd, that run in it: what a
    test started there and may have left behind."""
    needle = folder.encode()
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        if by_cwd:
            try:
                if os.readlink("/proc/%s/cwd" % entry).startswith(folder):
                    found.append(int(entry))
                    continue
            except OSError:
                pass
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (entry, what), "rb") as f:
                    if needle in f.read():
                        found.append(int(entry))
                        break
            except OSError:
                pass
    return found


_users_made = 0


def make_user(prefix, add_cleanup):
    """Creates a local user of its own for one test (root only) and returns
    its pwd entry; add_cleanup (a TestCase's addCleanup) removes it again.
    The name is PREFIX-PID-N: tests running at once (ctest -j) never share
    a user, nor race to create the same one."""
    global _users_made
    _users_made += 1
    name = "%s-%d-%d" % (prefix[:16], os.getpid(), _users_made)
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", name], check=True,
                   capture_output=True, timeout=60)
    # --force: a rank of the user may still be running when cleanups start.
    add_cleanup(subprocess.run, ["userdel", "--force", name], capture_output=True, timeout=60)
    return pwd.getpwnam(name)


class Cluster:
    """One master and `agents` agents named node1..nodeN, all on loopback.

    Agent i (1-based) reports address 127.0.0.i, so MASTER_ADDR tells which
    node rank 0 landed on.
    """

    def __init__(self, agents=2, cpus=8, memory="32G", gpus=4, node_timeout=6, kill_grace=1, name="cluster",
                 config=None):
        self.master_bin = binary("master/cadre-master")
        self.agent_bin = binary("agent/cadre-agent")
        self.cli_bin = binary("cli/cadre")
        self.tmp = tempfile.mkdtemp(prefix="cadre-e2e-%s-" % name)
        self.state_dir = os.path.join(self.tmp, "state")
        self.logs = os.path.join(self.tmp, "logs")
        self.markers = os.path.join(self.tmp, "markers")
        for d in (self.logs, self.markers):
            os.makedirs(d)
        self.node_timeout = node_timeout
        self.kill_grace = kill_grace
        # config: TOML text for the master's --config (written to master.toml).
        self.master_config = None
        self.mail_program = ""
        if config is not None:
            self.master_config = self.path("master.toml")
            with open(self.master_config, "w") as f:
                f.write(config)
        # Extra environment of the master from its next start on (e.g.
        # CADRE_FAULT_POINT); a test may change it between restarts.
        self.master_env = {}
        self.agent_specs = {
            "node%d" % i: {"cpus": cpus, "memory": memory, "gpus": gpus, "address": "127.0.0.%d" % i}
            for i in range(1, agents + 1)
        }
        # Each cluster hands out its own MASTER_PORTs, so DDP jobs of two
        # clusters running at once (ctest -j) do not bind the same port on
        # loopback, as they would with the default range (job 1 of every
        # cluster would get 29501).
        # Below Linux's ephemeral ports (32768 and up), which any outgoing
        # connection on the host may hold.
        first = random.randrange(10000, 32768 - 200)
        self.master_ports = (first, first + 199)
        self.port = None
        self.master = None
        self.agents = {}  # name -> Popen
        self._all_procs = []
        self._signals = {}  # pid -> the last signal the harness or a test sent it
        self._stopped = False
        self._log_files = []
        # What stop() found wrong with the daemons: crashes, sanitizer reports.
        self.problems = []

    # ----------------------------------------------------------------- start

    @property
    def endpoint(self):
        return "tcp://127.0.0.1:%d" % self.port

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def _spawn(self, argv, log_name, env=None):
        log = open(os.path.join(self.logs, log_name), "ab")
        self._log_files.append(log)
        log.write(("--- %s: %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        log.flush()
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        p = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.tmp,
            env=full_env,
        )
        self._all_procs.append(p)
        return p

    def start(self):
        try:
            self.start_master(new_port=True)
            for name in self.agent_specs:
                self.start_agent(name)
            self.wait_nodes_up()
        except BaseException:
            self.dump_logs("cluster failed to start")
            self.stop()
            raise
        return self

    def start_master(self, new_port=False):
        """Starts the master and waits until it answers. With new_port, picks
        a fresh free port (retrying if another process grabbed it first)."""
        attempts = 3 if new_port else 1
        for attempt in range(attempts):
            if new_port:
                self.port = free_port()
            argv = [
                self.master_bin,
                "--listen", self.endpoint,
                "--state-dir", self.state_dir,
                "--node-timeout", str(self.node_timeout),
                "--master-ports", "%d-%d" % self.master_ports,
            ]
            if self.master_config:
                argv += ["--config", self.master_config]
            # No test mails through the machine's own sendmail: a test that
            # wants mail names its own program (test_mail).
            argv += ["--mail-program", self.mail_program]
            self.master = self._spawn(argv, "master.log", env=dict(self.master_env) or None)

            def answering():
                if self.master.poll() is not None:
                    return "exited"
                r = self.cli("--timeout", "2", "nodes", "--json", check=False, timeout=CLI_TIMEOUT)
                return "up" if r.returncode == 0 else None

            outcome = wait_until(answering, START_TIMEOUT, "cadre-master to answer on " + self.endpoint)
            if outcome == "up":
                return
            if attempt + 1 == attempts:
                raise AssertionError(
                    "cadre-master exited with %s at start:\n%s" % (self.master.returncode, tail(self.master_log()))
                )

    def start_agent(self, name):
        """Starts agent `name` from its spec: cpus, memory, address, gpus
        (None: leave --gpus out, so the agent discovers them), env (extra
        variables, e.g. CADRE_NVML_LIB) and args (extra flags)."""
        spec = self.agent_specs[name]
        argv = [
            self.agent_bin,
            "--master", self.endpoint,
            "--name", name,
            "--cpus", str(spec["cpus"]),
            "--memory", spec["memory"],
            "--address", spec["address"],
            "--work-dir", self.path("agents", name),
            "--kill-grace", str(self.kill_grace),
        ]
        if spec.get("gpus") is not None:
            argv += ["--gpus", str(spec["gpus"])]
        if os.geteuid() == 0 and spec.get("allow_root", True):
            # The tests submit as the user running them; as root the agent
            # refuses uid 0 unless told otherwise.
            argv.append("--allow-root-jobs")
        argv += spec.get("args", [])
        self.agents[name] = self._spawn(argv, "agent-%s.log" % name, env=spec.get("env"))
        return self.agents[name]

    def wait_nodes_up(self, names=None, timeout=START_TIMEOUT):
        names = set(names or self.agent_specs)

        def all_up():
            for name, p in self.agents.items():
                if name in names and p.poll() is not None:
                    raise AssertionError(
                        "cadre-agent %s exited with %s:\n%s" % (name, p.returncode, tail(self.agent_log(name)))
                    )
            up = {n["name"] for n in self.nodes(check=False) if n["state"] == "UP"}
            return names <= up

        wait_until(all_up, timeout, "nodes %s to be UP" % sorted(names), interval=0.2)

    # ------------------------------------------------------------------- CLI

    def cli(self, *args, check=True, timeout=CLI_TIMEOUT, master=None, cwd=None, env=None):
        """Runs `cadre --master ENDPOINT ARGS...` from the temporary folder.
        master=False leaves --master out (CADRE_MASTER from env applies);
        env adds variables to a copy of this environment without
        CADRE_MASTER and CADRE_TIMEOUT."""
        argv = [self.cli_bin]
        if master is not False:
            argv += ["--master", master or self.endpoint]
        argv += [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.pop("CADRE_MASTER", None)
        full_env.pop("CADRE_TIMEOUT", None)
        full_env.update(env or {})
        try:
            r = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, cwd=cwd or self.tmp, env=full_env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError("`%s` did not finish within %ss (hang)" % (" ".join(argv), timeout)) from e
        if check and r.returncode != 0:
            raise AssertionError(
                "`%s` exited with %d\nstdout: %s\nstderr: %s" % (" ".join(argv), r.returncode, r.stdout, r.stderr)
            )
        return r

    def submit(self, command, *flags, **kw):
        """Submits a job and returns its id. command is a shell script (str,
        run with sh -c) or an argv list; flags go before '--'."""
        argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
        if not any(f in ("-o", "--output") or str(f).startswith("--output=") for f in flags):
            # Tests read each rank's own file (output()); the default is one
            # file per job.
            flags = ("--output", "cadre-%j-%t.out") + tuple(flags)
        r = self.cli("submit", "--parsable", *flags, "--", *argv, **kw)
        out = r.stdout.strip()
        if not out.isdigit():
            raise AssertionError("submit printed %r, expected a job id (stderr: %s)" % (r.stdout, r.stderr))
        return int(out)

    def show(self, job_id):
        return json.loads(self.cli("show", str(job_id), "--json").stdout)

    def queue(self, all_jobs=True):
        args = ["queue", "--json"] + (["--all"] if all_jobs else [])
        return json.loads(self.cli(*args).stdout)["jobs"]

    def nodes(self, check=True):
        r = self.cli("--timeout", "5", "nodes", "--json", check=check)
        if r.returncode != 0:
            return []
        return json.loads(r.stdout)["nodes"]

    def node(self, name):
        for n in self.nodes():
            if n["name"] == name:
                return n
        raise AssertionError("no node %s in cadre nodes" % name)

    def cancel(self, *job_ids):
        return self.cli("cancel", *[str(j) for j in job_ids])

    def wait_state(self, job_id, states, timeout=STATE_TIMEOUT):
        """Polls `cadre show` until the job is in one of states; returns it.
        Fails early if the job ends in a state that was not asked for."""
        if isinstance(states, str):
            states = (states,)
        last = {}

        def reached():
            last["job"] = job = self.show(job_id)
            if job["state"] in states:
                return job
            if job["state"] in FINAL_STATES:
                raise AssertionError(
                    "job %s ended %s, expected %s: %s" % (job_id, job["state"], "/".join(states), json.dumps(job))
                )
            return None

        try:
            return wait_until(reached, timeout, "job %s to be %s" % (job_id, "/".join(states)))
        except AssertionError as e:
            raise AssertionError("%s; last seen: %s" % (e, json.dumps(last.get("job")))) from None

    def wait_node_state(self, name, state, timeout=STATE_TIMEOUT):
        return wait_until(
            lambda: next((n for n in self.nodes() if n["name"] == name and n["state"] == state), None),
            timeout,
            "node %s to be %s" % (name, state),
            interval=0.2,
        )

    # --------------------------------------------------------- rank markers

    def marker(self, *parts):
        return os.path.join(self.markers, *parts)

    def read_pids(self, pattern_prefix=""):
        """pid files under markers/ whose name starts with prefix -> {name: pid}."""
        out = {}
        for f in sorted(os.listdir(self.markers)):
            if f.startswith(pattern_prefix) and f.endswith(".pid"):
                with open(os.path.join(self.markers, f)) as fh:
                    text = fh.read().strip()
                if text.isdigit():
                    out[f] = int(text)
        return out

    def wait_pid_files(self, count, prefix="", timeout=STATE_TIMEOUT):
        def enough():
            pids = self.read_pids(prefix)
            return pids if len(pids) >= count else None

        return wait_until(enough, timeout, "%d pid files %s* in %s" % (count, prefix, self.markers))

    def wait_pids_gone(self, pids, timeout=STATE_TIMEOUT):
        """Waits until none of pids (an iterable or dict of name->pid) runs."""
        named = dict(pids) if isinstance(pids, dict) else {str(p): p for p in pids}
        try:
            wait_until(lambda: not any(pid_alive(p) for p in named.values()), timeout, "rank processes to exit")
        except AssertionError:
            alive = {n: p for n, p in named.items() if pid_alive(p)}
            raise AssertionError("these rank processes still run after %ss: %s" % (timeout, alive)) from None

    def output(self, job_id, rank):
        """The default output file of a rank (cadre-%j-%t.out in the temp dir)."""
        return self.path("cadre-%d-%d.out" % (job_id, rank))

    def wait_all_free(self, names=None, timeout=STATE_TIMEOUT):
        """Waits until the named nodes (default: every UP node) hold nothing."""

        def idle():
            nodes = [n for n in self.nodes() if (n["name"] in names if names else n["state"] == "UP")]
            busy = [n for n in nodes if (n["gpus_free"], n["cpus_free"], n["memory_free_mb"])
                    != (n["gpus"], n["cpus"], n["memory_mb"])]
            return nodes if nodes and not busy else None

        return wait_until(idle, timeout, "nodes %s to have all resources free" % (names or "UP"), interval=0.2)

    # ---------------------------------------------------------------- faults

    def kill_agent(self, name, sig=signal.SIGKILL):
        p = self.agents[name]
        self._signals[p.pid] = sig
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                raise AssertionError("cadre-agent %s did not exit on signal %d" % (name, sig)) from None
        return p

    def stop_master(self, sig=signal.SIGTERM):
        p = self.master
        self._signals[p.pid] = sig
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("cadre-master did not exit on signal %d" % sig) from None
        return p.returncode

    def wait_master_exit(self, expect_signal, timeout=STATE_TIMEOUT):
        """Waits until the master exits by itself (a CADRE_FAULT_POINT makes
        it SIGKILL itself) and returns its exit status. Dying of
        expect_signal is then not counted as a crash by stop()."""
        p = self.master
        self._signals[p.pid] = expect_signal
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("cadre-master still runs after %ss (expected it to die of signal %d)"
                                 % (timeout, expect_signal)) from None
        return p.returncode

    def restart_master(self, sig=signal.SIGTERM, wait_nodes=True):
        """Stops the master with sig and starts it again on the same port and
        state folder. Returns the old master's exit status."""
        code = self.stop_master(sig)
        self.start_master(new_port=False)
        if wait_nodes:
            self.wait_nodes_up(names=[n for n, p in self.agents.items() if p.poll() is None])
        return code

    # ------------------------------------------------------------- teardown

    def master_log(self):
        return os.path.join(self.logs, "master.log")

    def agent_log(self, name):
        return os.path.join(self.logs, "agent-%s.log" % name)

    def dump_logs(self, why="", lines=40):
        out = ["", "===== cadre logs (%s) in %s =====" % (why, self.tmp)]
        out.append("--- master.log (last %d lines)" % lines)
        out.append(tail(self.master_log(), lines))
        for name in self.agent_specs:
            out.append("--- agent-%s.log (last %d lines)" % (name, lines))
            out.append(tail(self.agent_log(name), lines))
        sys.stderr.write("\n".join(out) + "\n")
        sys.stderr.flush()

    def _daemon_problems(self):
        """What went wrong in the daemons themselves: a death by a signal
        nobody sent (a crash, a sanitizer's abort), or a sanitizer report in
        any log. The sanitizer build's daemons are checked this way, since
        their own exit codes and logs are not what the tests look at."""
        problems = []
        for p in self._all_procs:
            rc = p.returncode
            if rc is not None and rc < 0 and -rc != self._signals.get(p.pid):
                problems.append("%s (pid %d) died of signal %d" % (os.path.basename(p.args[0]), p.pid, -rc))
        for name in sorted(os.listdir(self.logs)):
            try:
                with open(os.path.join(self.logs, name), "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            match = SANITIZER_REPORT.search(text)
            if match:
                problems.append("%s holds a sanitizer report: %s" % (name, match.group(0).strip()))
        return problems

    def _leftover_pids(self):
        """Processes that mention the temp folder in their command line or
        environment: ranks (CADRE_HOSTFILE lies under it) and their children."""
        return processes_mentioning(self.tmp)

    def stop(self):
        """Ends every process this cluster started and anything its ranks
        left behind, then removes the temporary folder. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        # Agents first, so they kill their ranks cleanly, then the master.
        procs = [p for p in self.agents.values()] + ([self.master] if self.master else [])
        for p in procs + self._all_procs:
            if p.poll() is None:
                self._signals[p.pid] = signal.SIGTERM
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + 5
        for p in self._all_procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in self._all_procs:
            if p.poll() is None:
                self._signals[p.pid] = signal.SIGKILL
            try:
                os.killpg(p.pid, signal.SIGKILL)  # also anything left in its group
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(3):
            left = self._leftover_pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.2)
        for f in self._log_files:
            try:
                f.close()
            except OSError:
                pass
        self._log_files = []
        self.problems = self._daemon_problems()
        if self.problems:
            self.dump_logs("daemon problems: %s" % "; ".join(self.problems))
        if os.environ.get("CADRE_E2E_KEEP"):
            sys.stderr.write("kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class ClusterTestCase(unittest.TestCase):
    """Starts a fresh cluster for every test and always tears it down; the
    logs are printed when the test failed."""

    AGENTS = 2
    GPUS = 4
    NODE_TIMEOUT = 6
    # Per-agent changes to the spec before the cluster starts, e.g.
    # {"node1": {"gpus": None, "env": {...}}} (see Cluster.start_agent).
    AGENT_OVERRIDES = {}

    def setUp(self):
        self.c = Cluster(
            agents=self.AGENTS, gpus=self.GPUS, node_timeout=self.NODE_TIMEOUT, name=type(self).__name__.lower()
        )
        for name, override in self.AGENT_OVERRIDES.items():
            self.c.agent_specs[name].update(override)
        # Registered before start so a failing start is cleaned up too.
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def doCleanups(self):
        # Each cleanup runs as a fresh "test part" whose outcome starts out
        # successful, so note here whether setUp, the test or tearDown failed.
        outcome = getattr(self, "_outcome", None)
        self._e2e_failed = outcome is None or not getattr(outcome, "success", False)
        return super().doCleanups()

    def _stop_cluster(self):
        failed = getattr(self, "_e2e_failed", True)
        if not self.c._stopped:
            if failed or os.environ.get("CADRE_E2E_VERBOSE"):
                self.c.dump_logs("%s %s" % (self.id(), "FAILED" if failed else "passed"))
            self.c.stop()
        # A daemon that crashed or reported a sanitizer error fails the test,
        # whatever the test itself checked.
        if self.c.problems:
            raise AssertionError("the cluster's daemons: " + "; ".join(self.c.problems))

    # Rank scripts ------------------------------------------------------

    def pid_script(self, tag, then="exec sleep 300"):
        """A rank script that records its pid in markers/<tag>-<rank>.pid,
        then runs `then` (by default becomes a long sleep with the same pid)."""
        return 'echo $$ > %s/%s-$CADRE_RANK.pid.tmp && mv %s/%s-$CADRE_RANK.pid.tmp %s/%s-$CADRE_RANK.pid; %s' % (
            self.c.markers, tag, self.c.markers, tag, self.c.markers, tag, then,
        )
