"""Debian guests booted with systemd-nspawn, for tests/packaging/test_systemd_boot.py.

  GuestRoot: a Debian root made by debootstrap, cached between runs under
      CADRE_NSPAWN_CACHE (default /var/tmp/cadre-nspawn-cache), keyed by the
      suite and the packages it holds; copied for each guest of a run.
  PrivateLink: a veth pair between two network namespaces, one per guest
      (no bridge, so the host's br_netfilter and iptables never see it).
  Guest: one booted root (`systemd-nspawn -b`); commands run inside it
      through nsenter into its PID 1's namespaces.

Not thread-safe; one test process drives its guests. Everything it starts
is ended by Guest.stop and PrivateLink.remove, which are safe to call twice.
"""
import fcntl
import glob
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time

GUEST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Timers that would take dpkg's lock in the middle of a test.
MASKED_UNITS = ["apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
                "fstrim.timer"]
# Bump when the way a cached root is made changes, so old caches are not reused.
RECIPE = "1"


def run(argv, check=True, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run(argv, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (" ".join(argv), p.returncode, p.stdout[-4000:],
                                                                         p.stderr[-4000:]))
    return p


# ---- The host ------------------------------------------------------------

def unusable_reason():
    """Why this machine cannot run nspawn guests at all, or None."""
    if os.geteuid() != 0:
        return "not root: systemd-nspawn, debootstrap and ip link need root"
    for ns in ["pid", "net", "mnt", "uts", "ipc"]:
        if not os.path.exists("/proc/self/ns/" + ns):
            return "the kernel has no %s namespaces (/proc/self/ns/%s)" % (ns, ns)
    if not shutil.which("unshare"):
        return None  # the boot itself will tell
    p = run(["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc", "true"], check=False)
    if p.returncode != 0:
        return "cannot make namespaces here (unshare: %s)" % (p.stderr.strip() or "exit %d" % p.returncode)
    return None


def debian_mirror(suite):
    """The first Debian archive URI the host's apt sources list for suite."""
    candidates = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in open(path).read().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split():
                candidates += fields.get("uris", "").split()
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        if not os.path.exists(path):
            continue
        for line in open(path):
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
                candidates.append(words[1])
    # The main archive, not debian-security or a backports mirror.
    for uri in candidates:
        if "security" not in uri and "/debian" in uri:
            return uri
    return candidates[0] if candidates else None


# ---- The cached root -----------------------------------------------------

class GuestRoot:
    """A debootstrapped Debian root holding `include`, cached under cache_dir."""

    def __init__(self, cache_dir, suite, include, log):
        self.cache_dir = cache_dir
        self.suite = suite
        self.include = sorted(set(include))
        self.log = log
        key = hashlib.sha256(("%s\n%s\n%s" % (RECIPE, suite, ",".join(self.include))).encode()).hexdigest()[:16]
        self.path = os.path.join(cache_dir, "roots", "%s-%s" % (suite, key))

    def ensure(self, mirror):
        """Makes the cached root unless it is there; returns True when it was."""
        os.makedirs(os.path.join(self.cache_dir, "roots"), exist_ok=True)
        with open(os.path.join(self.cache_dir, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(self.path + ".ready"):
                return True
            if not mirror:
                raise AssertionError("no Debian %s mirror in the host's apt sources (/etc/apt/sources.list*)"
                                     % self.suite)
            self._drop_other_roots()
            partial = self.path + ".partial"
            shutil.rmtree(partial, ignore_errors=True)
            argv = ["debootstrap", "--variant=minbase", "--include=" + ",".join(self.include), self.suite, partial,
                    mirror]
            self.log("debootstrap: " + " ".join(argv))
            p = run(argv, check=False)
            if p.returncode != 0:
                shutil.rmtree(partial, ignore_errors=True)
                raise AssertionError("debootstrap failed (exit %d):\n%s\n%s" % (p.returncode, p.stdout[-3000:],
                                                                                 p.stderr[-3000:]))
            self._prepare(partial)
            shutil.rmtree(self.path, ignore_errors=True)
            os.rename(partial, self.path)
            open(self.path + ".ready", "w").close()
            return False

    def _drop_other_roots(self):
        # The cache keeps one root: a new include list replaces the old one.
        roots = os.path.join(self.cache_dir, "roots")
        for name in os.listdir(roots):
            if not os.path.join(roots, name).startswith(self.path):
                path = os.path.join(roots, name)
                self.log("cache: removing the stale root %s" % path)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)

    @staticmethod
    def _prepare(root):
        for unit in MASKED_UNITS:
            link = os.path.join(root, "etc/systemd/system", unit)
            if not os.path.lexists(link):
                os.symlink("/dev/null", link)
        # Offline guests: no mirror, no downloaded .debs.
        with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
            f.write("# no mirror: this guest is offline (tests/packaging/test_systemd_boot.py)\n")
        for deb in glob.glob(os.path.join(root, "var/cache/apt/archives/*.deb")):
            os.unlink(deb)
        # Each boot gets a machine id of its own.
        with open(os.path.join(root, "etc/machine-id"), "w"):
            pass

    def copy_to(self, dest):
        with open(os.path.join(self.cache_dir, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            run(["cp", "-a", "--reflink=auto", self.path, dest])


# ---- The network between guests -------------------------------------------

class PrivateLink:
    """Two network namespaces joined by a veth pair, subnet 10.213.N.0/24.

    Each guest boots in one of them (--network-namespace-path), with its end
    configured from here: no bridge, so the host's br_netfilter and iptables
    never see the traffic, and no udev needed for nspawn to take the link.
    """

    def __init__(self, names):
        n = os.getpid() % 100000
        self.subnet = "10.213.%d" % (os.getpid() % 250)
        self.ends = {name: ("cadre-%s-%d" % (name, n), "cdr%s%d" % (name[0], n), "%s.%d" % (self.subnet, i + 1))
                     for i, name in enumerate(names)}

    def netns_path(self, name):
        return "/run/netns/" + self.ends[name][0]

    def address(self, name):
        return self.ends[name][2]

    def create(self):
        self.remove()
        (ns_a, if_a, _), (ns_b, if_b, _) = self.ends.values()
        run(["ip", "link", "add", if_a, "type", "veth", "peer", "name", if_b])
        for netns, interface, address in self.ends.values():
            run(["ip", "netns", "add", netns])
            run(["ip", "link", "set", interface, "netns", netns])
            run(["ip", "-n", netns, "addr", "add", address + "/24", "dev", interface])
            run(["ip", "-n", netns, "link", "set", interface, "up"])
            run(["ip", "-n", netns, "link", "set", "lo", "up"])

    def remove(self):
        for netns, interface, _ in self.ends.values():
            if os.path.exists("/run/netns/" + netns):
                run(["ip", "netns", "del", netns], check=False)  # takes its veth end, and so the pair, along
            if os.path.exists("/sys/class/net/" + interface):
                run(["ip", "link", "del", interface], check=False)


# ---- A booted guest ------------------------------------------------------

def _status_fields(pid):
    fields = {}
    try:
        for line in open("/proc/%d/status" % pid):
            key, _, value = line.partition(":")
            fields[key] = value.split()
    except OSError:
        pass
    return fields


def _descendants(root_pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = _status_fields(int(entry)).get("PPid")
            if ppid:
                children.setdefault(int(ppid[0]), []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


class Guest:
    """One root booted with `systemd-nspawn -b`, its console in log_path."""

    def __init__(self, name, root, netns_path, log_path, log):
        self.name = name
        self.root = root
        self.netns_path = netns_path
        self.log_path = log_path
        self.log = log
        self.proc = None
        self.init_pid = None

    def start(self):
        argv = ["systemd-nspawn", "-D", self.root, "--machine=" + self.name, "--keep-unit", "--register=no", "-b",
                "--console=pipe", "--link-journal=no", "--resolv-conf=off", "--timezone=off",
                "--network-namespace-path=" + self.netns_path]
        if os.path.isdir("/run/systemd/system"):
            # A systemd host: a scope of its own with a delegated cgroup, so
            # that the guest's systemd may manage its subtree.
            argv = ["systemd-run", "--scope", "--quiet", "-p", "Delegate=yes",
                    "--unit=%s-%d.scope" % (self.name, os.getpid())] + argv
        self.console = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def console_text(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def _find_init(self):
        for pid in _descendants(self.proc.pid):
            nspid = _status_fields(pid).get("NSpid", [])
            if len(nspid) >= 2 and nspid[-1] == "1":
                return pid
        return None

    def wait_booted(self, timeout):
        """Waits for `systemctl is-system-running` to say running (or degraded)."""
        deadline = time.monotonic() + timeout
        state = "no PID 1 yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "systemd-nspawn exited %d before the guest booted" % self.proc.returncode
            if self.init_pid is None:
                self.init_pid = self._find_init()
            if self.init_pid is not None:
                p = self.sh("systemctl is-system-running", check=False, timeout=15)
                state = p.stdout.strip() or p.stderr.strip()
                if state in ("running", "degraded"):
                    failed = self.sh("systemctl --failed --no-legend", check=False).stdout.strip()
                    if state == "degraded" and failed:
                        self.log("%s booted degraded; failed units:\n%s" % (self.name, failed))
                    return None
            time.sleep(0.5)
        return "the guest did not finish booting in %d s (systemctl is-system-running: %s)" % (timeout, state)

    def command(self, script, user=None):
        """The host argv that runs the sh script inside the guest (as user, else root)."""
        env = ["env", "-i", "PATH=" + GUEST_PATH, "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]
        if user:
            env += ["HOME=/home/" + user, "USER=" + user, "LOGNAME=" + user]
            prefix = ["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"]
            script = "cd ~ && " + script
        else:
            env += ["HOME=/root", "USER=root", "LOGNAME=root"]
            prefix = []
            script = "cd / && " + script
        return ["nsenter", "-t", str(self.init_pid), "-a"] + env + prefix + ["sh", "-c", script]

    def sh(self, script, user=None, check=True, timeout=120):
        """Runs the sh script inside the guest; returns the CompletedProcess."""
        argv = self.command(script, user)
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("%s: `%s` ran over %d s\nstdout: %s\nstderr: %s" % (
                self.name, script, timeout, e.stdout, e.stderr))
        if check and p.returncode != 0:
            raise AssertionError("%s: `%s` exited %d\nstdout: %s\nstderr: %s" % (
                self.name, script, p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
        return p

    def write(self, path, text, mode=0o644):
        """Writes a file in the guest's root from the host (a plain file, no symlinks followed above root)."""
        full = os.path.join(self.root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)

    def exists(self, path):
        """Whether path exists as the guest sees it (/run and /tmp are its own)."""
        return self.sh("test -e %s || test -L %s" % (path, path), check=False).returncode == 0

    def processes(self):
        """[(pid, user, args)] of every process in the guest but PID 1 and this listing."""
        out = self.sh("ps -eo pid=,user:20=,args=", check=False).stdout
        procs = []
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[0] != "1" and not parts[2].startswith(("ps -eo", "sh -c cd / && ps")):
                procs.append((int(parts[0]), parts[1], parts[2]))
        return procs

    def stop(self, timeout=20):
        """Halts the guest (SIGTERM to nspawn, which asks PID 1 to halt), then kills what is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.log("%s did not halt in %d s; killing it" % (self.name, timeout))
                if self.init_pid:
                    try:
                        os.kill(self.init_pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=30)
        self.console.close()
        self.proc = None
