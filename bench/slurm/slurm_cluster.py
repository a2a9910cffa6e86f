"""A throw-away local Slurm for bench/compare-slurm: munged, slurmctld and
the slurmd(s), all in one temp folder, with their own munge key and socket
and free loopback ports. Not thread-safe; one owner starts and stops it.

Every daemon runs in the foreground (-F / -D) as a child of this process, in
its own process group, so it is stopped by the pid we hold, never by name
(another Slurm may be running on the machine). Standard library only.
"""

import getpass
import os
import pwd
import shutil
import signal
import socket
import string
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tests", "e2e"))
from harness import free_port, pid_alive  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONF_TEMPLATE = os.path.join(HERE, "slurm.conf.in")

START_TIMEOUT = 60
CLIENT_TIMEOUT = 120
STOP_GRACE = 10

# Slurm's own knobs for a site that wants jobs to start at once: schedule on
# every submit and every job end with no minimum interval between passes,
# no batch-scheduling delay, a deep queue test and a backfill pass every
# second. (`defer` would trade latency for submit throughput, so it is off.)
SCHED_PARAMS = ("batch_sched_delay=0,sched_min_interval=0,default_queue_depth=10000,"
                "partition_job_depth=0,bf_interval=1,bf_continue,bf_max_job_test=10000")

SLURM_PROGRAMS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "scontrol", "srun")
MUNGE_PROGRAMS = ("munged", "munge", "unmunge")


class SlurmError(RuntimeError):
    pass


# Clusters started and not yet fully stopped: the caller's last line of
# defence (Ctrl-C during a stop) stops them again.
LIVE = set()


def missing_programs():
    return [p for p in SLURM_PROGRAMS + MUNGE_PROGRAMS if not (shutil.which(p) or _sbin(p))]


def _sbin(name):
    for d in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    return None


def program(name):
    path = shutil.which(name) or _sbin(name)
    if not path:
        raise SlurmError("%s not found" % name)
    return path


def ensure_installed(progress):
    """Installs Debian's slurm-wlm and munge with apt-get when a program is
    missing (sudo when not root). Their init scripts are not ours to run:
    the daemons this benchmark uses are started by SlurmCluster."""
    missing = missing_programs()
    if not missing:
        return
    progress("compare-slurm: %s missing; installing slurm-wlm and munge with apt-get" % ", ".join(missing))
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise SlurmError("slurm-wlm and munge are not installed, and installing them needs root (no sudo here)")
        prefix = ["sudo"]
    env_prefix = ["env", "DEBIAN_FRONTEND=noninteractive"]
    for argv in (["apt-get", "update"],
                 ["apt-get", "install", "-y", "--no-install-recommends", "slurm-wlm", "munge"]):
        r = subprocess.run(prefix + env_prefix + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise SlurmError("`%s` failed (%d):\n%s" % (" ".join(argv), r.returncode, r.stdout[-3000:]))
    still = missing_programs()
    if still:
        raise SlurmError("still missing after apt-get install: %s" % ", ".join(still))


def first_line(argv, env=None):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError) as e:
        return "unknown (%s)" % e
    out = (r.stdout or r.stderr).strip().splitlines()
    return out[0] if out else "unknown"


def tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)\n" % (path, e)


class SlurmCluster:
    """nodes x cpus: with several nodes, one slurmd per node on this host
    (slurmd -N NAME; needs a slurmd built with --enable-multiple-slurmd);
    with one node, one slurmd."""

    def __init__(self, tmp, nodes, cpus, memory_mb):
        self.tmp = tmp
        self.nodes = nodes
        self.cpus = cpus
        self.memory_mb = memory_mb
        self.procs = []  # (name, Popen), in start order
        self.node_names = ["n%d" % (i + 1) for i in range(nodes)] if nodes > 1 else ["n1"]
        self.conf = os.path.join(tmp, "slurm.conf")
        self.munge_socket = os.path.join(tmp, "munge", "munge.socket")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        for key in list(self.env):
            # A caller's Slurm job or defaults must not steer our clients.
            if key.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_", "SALLOC_")) and key != "SLURM_CONF":
                del self.env[key]

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    # ------------------------------------------------------------- start

    def start(self):
        LIVE.add(self)
        try:
            for d in ("state", "spool", "log", "run", "munge", "out"):
                os.makedirs(self.path(d), exist_ok=True)
            os.chmod(self.tmp, 0o755)  # munged wants every folder above its socket searchable
            self._start_munge()
            self._write_conf()
            self._start_slurmctld()
            for name in self.node_names:
                argv = [program("slurmd"), "-D", "-f", self.conf]
                if self.nodes > 1:
                    argv += ["-N", name]
                self._spawn("slurmd " + name, argv, self.path("log", "slurmd-%s.stderr" % name))
            self._wait_nodes_idle()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name, argv, stderr_path):
        err = open(stderr_path, "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=self.tmp,
                                 env=self.env, start_new_session=True)
        finally:
            err.close()
        self.procs.append((name, p))
        return p

    def _start_munge(self):
        keydir = self.path("munge-key")
        os.makedirs(keydir, mode=0o700, exist_ok=True)
        key = os.path.join(keydir, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)  # owned by us, the user munged runs as
        d = self.path("munge")
        os.chmod(d, 0o755)
        self._spawn("munged", [program("munged"), "-F", "--socket=" + self.munge_socket, "--key-file=" + key,
                               "--pid-file=" + os.path.join(d, "munged.pid"),
                               "--log-file=" + os.path.join(d, "munged.log"),
                               "--seed-file=" + os.path.join(d, "munged.seed"), "--num-threads=4"],
                    os.path.join(d, "munged.stderr"))

        def credential_round_trip():
            self._check_alive()
            if not os.path.exists(self.munge_socket):
                return False
            enc = subprocess.run([program("munge"), "-n", "-S", self.munge_socket], capture_output=True, timeout=10)
            if enc.returncode != 0:
                return False
            dec = subprocess.run([program("unmunge"), "-S", self.munge_socket], input=enc.stdout,
                                 capture_output=True, timeout=10)
            return dec.returncode == 0

        self._wait(credential_round_trip, "munged to answer on " + self.munge_socket)

    def _write_conf(self):
        user = getpass.getuser() if os.geteuid() != 0 else "root"
        ctld_port, slurmd_port = free_port(), free_port()
        lines = []
        for name in self.node_names:
            # Several slurmd on one host: each its own port, all on loopback.
            port = " Port=%d" % free_port() if self.nodes > 1 else ""
            lines.append("NodeName=%s NodeHostname=%s NodeAddr=127.0.0.1%s CPUs=%d RealMemory=%d State=UNKNOWN"
                         % (name, socket.gethostname().split(".")[0], port, self.cpus, self.memory_mb))
        with open(CONF_TEMPLATE) as f:
            text = string.Template(f.read()).substitute(
                host=socket.gethostname().split(".")[0], ctld_port=ctld_port, slurmd_port=slurmd_port,
                user=user, munge_socket=self.munge_socket, tmp=self.tmp, sched_params=SCHED_PARAMS,
                nodes="\n".join(lines))
        with open(self.conf, "w") as f:
            f.write(text)
        pwd.getpwnam(user)  # a clear KeyError now rather than a cryptic slurmctld one

    def _start_slurmctld(self):
        self._spawn("slurmctld", [program("slurmctld"), "-D", "-i", "-f", self.conf],
                    self.path("log", "slurmctld.stderr"))

        def answering():
            self._check_alive()
            r = subprocess.run([program("scontrol"), "ping"], capture_output=True, text=True, env=self.env,
                               timeout=30)
            return r.returncode == 0 and "UP" in r.stdout

        self._wait(answering, "slurmctld to answer `scontrol ping`")

    def _wait_nodes_idle(self):
        def idle():
            self._check_alive()
            states = self.node_states()
            return len(states) == len(self.node_names) and all(s.startswith("idle") for s in states.values())

        self._wait(idle, "%d node(s) idle in sinfo" % len(self.node_names))

    def node_states(self):
        r = subprocess.run([program("sinfo"), "-h", "-N", "-p", "bench", "-o", "%N %T"], capture_output=True,
                           text=True, env=self.env, timeout=30)
        out = {}
        for line in r.stdout.splitlines():
            words = line.split()
            if len(words) == 2:
                out[words[0]] = words[1]
        return out

    def _wait(self, predicate, what):
        deadline = time.monotonic() + START_TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                raise SlurmError("timed out after %d s waiting for %s\n%s" % (START_TIMEOUT, what, self.log_tails()))
            time.sleep(0.2)

    def _check_alive(self):
        for name, p in self.procs:
            if p.poll() is not None:
                raise SlurmError("%s exited with %s during start-up\n%s" % (name, p.returncode, self.log_tails()))

    def log_tails(self, lines=15):
        out = []
        for d in ("log", "munge"):
            folder = self.path(d)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                if name.endswith((".log", ".stderr")):
                    path = os.path.join(folder, name)
                    if os.path.getsize(path):
                        out.append("--- %s (last %d lines)\n%s" % (path, lines, tail(path, lines)))
        return "\n".join(out) or "(no daemon logs)"

    # -------------------------------------------------------------- stop

    def stop(self):
        """Cancels any job still queued or running, then stops every daemon we
        started, by pid, newest first (slurmd before slurmctld before
        munged): SIGTERM, then SIGKILL after a grace. A job's slurmstepd
        detaches from slurmd (it is meant to outlive a slurmd restart), so
        last any process whose environment names our slurm.conf is killed by
        pid. Returns what would not die (empty when all is gone)."""
        self._cancel_jobs()
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        stuck = []
        for name, p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                stuck.append("%s (pid %d)" % (name, p.pid))
            # A job's slurmstepd lives in the slurmd's process group: gone too?
            try:
                os.killpg(p.pid, 0)
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.procs = [(n, p) for n, p in self.procs if p.poll() is None]
        stuck += self._kill_job_processes()
        if not stuck:
            LIVE.discard(self)
        return stuck

    def _cancel_jobs(self):
        if not any(name == "slurmctld" and p.poll() is None for name, p in self.procs):
            return
        try:
            if not self.run("squeue", "-h", "-o", "%i", timeout=20, check=False).strip():
                return
            self.run("scancel", "--user", pwd.getpwuid(os.geteuid()).pw_name, timeout=20, check=False)
            deadline = time.monotonic() + STOP_GRACE
            while time.monotonic() < deadline and self.run("squeue", "-h", "-o", "%i", timeout=20, check=False).strip():
                time.sleep(0.2)
        except (OSError, subprocess.SubprocessError, SlurmError):
            pass  # the daemons are stopped and job processes killed next anyway

    def job_processes(self):
        """Pids of processes (slurmstepd, job scripts, srun, ranks) whose
        environment holds SLURM_CONF=<our slurm.conf>: only ours have it."""
        marker = b"\0SLURM_CONF=" + self.conf.encode() + b"\0"
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    with open("/proc/%s/environ" % entry, "rb") as f:
                        if marker in b"\0" + f.read() + b"\0":
                            pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def _kill_job_processes(self):
        deadline = time.monotonic() + STOP_GRACE
        while True:
            pids = [pid for pid in self.job_processes() if pid_alive(pid)]
            if not pids:
                return []
            if time.monotonic() > deadline:
                return ["job process pid %d" % pid for pid in pids]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    # ----------------------------------------------------------- clients

    def run(self, name, *args, timeout=CLIENT_TIMEOUT, check=True):
        r = subprocess.run([program(name), *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env=self.env, cwd=self.path("out"), timeout=timeout)
        if check and r.returncode != 0:
            raise SlurmError("`%s %s` exited with %d: %s" % (name, " ".join(map(str, args)), r.returncode,
                                                            r.stderr.strip()))
        return r.stdout

    def versions(self):
        return {"slurm": first_line([program("sinfo"), "--version"], env=self.env),
                "munge": first_line([program("munged"), "--version"])}
