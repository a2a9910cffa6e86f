#!/usr/bin/env python3
"""The Debian packages on a booted systemd (docs/operations.md, Installing).

  test_systemd_boot.py --source-dir SRC [--cache DIR] [--keep] [--debs DIR --build-dir BUILD]

As root; ctest runs it as `packaging_systemd` (labels packaging, systemd).
--debs and --build-dir, for working on the test itself, take packages
already built instead of running the documented build.

What a new admin does, on two Debian 12 guests booted with
`systemd-nspawn -b` ("head" and "node") on a private network of their own:

 1. Builds the three .debs in a fresh build folder with the command
    docs/operations.md gives (`cmake -S . -B build ... --target package`),
    and a second set of the same build with a higher version (the upgrade).
 2. Makes a Debian 12 root with debootstrap, holding systemd and the .debs'
    runtime dependencies (cached in CADRE_NSPAWN_CACHE, default
    /var/tmp/cadre-nspawn-cache), copies it for head and node and boots
    both. The guests are offline: the node installs from a local apt
    repository (file:/srv/cadre-repo), the head from the .deb files.
 3. head: apt-get install ./cadre-master_*.deb ./cadre-client_*.deb; the
    master runs; `--version` of the three programs is the package's.
 4. node (no sudo installed): runs, as root, the line
    `cadre-master enroll-agent node` printed, with `sh -c LINE`; the node
    comes UP. A normal user (alice, uid 2001 on both) runs a job from the
    head over the master's local socket.
 5. Where the node has cgroup v2 with cpu and memory delegated: a rank's
    cgroup and limits, and a rank over its memory ends OUT_OF_MEMORY.
 6. Upgrades node and head in place to the newer packages while a job runs;
    the job completes (docs/operations.md, Upgrading).
 7. apt-get remove cadre-agent while a job runs: no agent, supervisor or
    rank is left on the node.
 8. Purges everything on both: nothing of cadre is left, running or on disk.

Exit status: 0 passed, 1 failed (every failed check is listed at the end),
77 skipped, where this machine cannot run systemd-nspawn guests (the reason
is printed). Guests, network and temporary roots are removed on the way out,
whatever happened.
"""
import argparse
import atexit
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from harness import wait_until  # noqa: E402
import nspawn  # noqa: E402
from nspawn import Guest, GuestRoot, PrivateLink, run  # noqa: E402

SKIP = 77
SUITE = "bookworm"
PACKAGES = ["cadre-client", "cadre-master", "cadre-agent"]
# What the guests hold besides the packages' own dependencies: systemd to
# boot, ip and ping for the link, ps for the checks. No sudo: the
# enrolment line must work without it.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping", "procps"]
# Host tools, by the Debian package that has them.
HOST_TOOLS = {"systemd-nspawn": "systemd-container", "debootstrap": "debootstrap", "dpkg-scanpackages": "dpkg-dev",
              "ip": "iproute2", "nsenter": "util-linux", "cmake": "cmake", "cpack": "cmake"}
USER, UID = "alice", 2001
# The build command docs/operations.md gives; used when it cannot be found there.
DOCUMENTED_BUILD = ("cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCADRE_BUILD_TESTS=OFF -DCADRE_BUILD_BENCH=OFF"
                    " && cmake --build build --target package")
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip() \
    if shutil.which("dpkg") else ""


def log(message):
    print("test_systemd_boot: " + message, flush=True)


class Skip(Exception):
    pass


class Results:
    """Named checks: a failed one is recorded and the run goes on where it can."""

    def __init__(self):
        self.passed, self.failed = [], []

    def expect(self, condition, name, detail=""):
        if condition:
            self.passed.append(name)
            log("ok   %s" % name)
        else:
            self.failed.append((name, detail))
            log("FAIL %s%s" % (name, (": " + detail) if detail else ""))
        return condition

    def summary(self):
        log("%d checks passed, %d failed" % (len(self.passed), len(self.failed)))
        for name, detail in self.failed:
            log("  failed: %s%s" % (name, (": " + detail.splitlines()[0][:300]) if detail else ""))


class Phases:
    """Prints how long each phase took."""

    def __init__(self):
        self.times = []
        self.start = time.monotonic()

    def __call__(self, name):
        phases = self

        class Phase:
            def __enter__(self):
                log("--- %s" % name)
                self.t = time.monotonic()

            def __exit__(self, *exc):
                phases.times.append((name, time.monotonic() - self.t))
                log("--- %s: %.1f s%s" % (name, time.monotonic() - self.t, " (failed)" if exc[0] else ""))

        return Phase()

    def report(self):
        log("timings: " + ", ".join("%s %.0f s" % t for t in self.times) +
            "; total %.0f s" % (time.monotonic() - self.start))


# ---- 0. The host ---------------------------------------------------------

def ensure_host_tools():
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return
    if not shutil.which("apt-get"):
        raise Skip("no apt-get to install %s (not a Debian machine)" % " ".join(missing))
    log("installing the host tools this test needs: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Another test may be running dpkg (tests/packaging/test_packages.py): wait for its lock.
    wait = ["-o", "DPkg::Lock::Timeout=300"]
    run(["apt-get", "update", "-q"] + wait, check=False, env=env)
    run(["apt-get", "install", "-y", "-q"] + wait + missing, env=env)


# ---- 1. Packages ---------------------------------------------------------

def documented_build_command(source):
    """The `cmake -S . -B build ... --target package` command of docs/operations.md (lines ending in
    `&&` or `\\` go on on the next)."""
    lines = [l.strip() for l in open(os.path.join(source, "docs", "operations.md"))]
    for i, line in enumerate(lines):
        if not line.startswith("cmake -S . -B build"):
            continue
        command = line
        while command.endswith(("&&", "\\")) and i + 1 < len(lines):
            i += 1
            command = command.rstrip("\\").rstrip() + " " + lines[i]
        if "--target package" in command:
            return command
    log("docs/operations.md has no `cmake -S . -B build ... --target package` command; using " + DOCUMENTED_BUILD)
    return DOCUMENTED_BUILD


def build_packages(source, tmp, results):
    """Runs the documented build in a fresh folder; returns (build folder, {package: .deb})."""
    command = documented_build_command(source)
    build = os.path.join(tmp, "build")
    # `-B build` and `--build build`: this run's fresh folder; `-S .`: the source.
    words = shlex.split(command.replace('"$(nproc)"', str(os.cpu_count() or 1)))
    script, seen_build = [], False
    for i, w in enumerate(words):
        if w == "build" and i > 0 and words[i - 1] in ("-B", "--build"):
            w, seen_build = build, True
        script.append(w)
    check_fatal(seen_build, "cannot tell the build folder in the documented command: " + command)
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL",
                                                                       str(os.cpu_count() or 1)))
    if shutil.which("ccache"):
        # The temporary folder's name differs per run; base_dir makes paths
        # below it relative, so that a warm run hits the cache.
        env.update(CMAKE_C_COMPILER_LAUNCHER="ccache", CMAKE_CXX_COMPILER_LAUNCHER="ccache", CCACHE_BASEDIR=tmp,
                   CCACHE_NOHASHDIR="1")
    log("the documented build, in a fresh folder: %s  (build = %s)" % (command, build))
    shell = " ".join(w if w == "&&" else shlex.quote(w) for w in script)
    p = run(["sh", "-c", shell], check=False, cwd=source, env=env)
    debs = {pkg: glob.glob(os.path.join(build, "%s_*_%s.deb" % (pkg, ARCH))) for pkg in PACKAGES}
    built = p.returncode == 0 and all(len(v) == 1 for v in debs.values())
    results.expect(built, "(a) the documented build makes the three packages in a fresh folder",
                   "`%s` exited %d, packages %s\n%s" % (command, p.returncode, debs, (p.stdout + p.stderr)[-3000:]))
    if not built:
        # Go on with what the package test does, so that the rest is checked.
        log("building the programs first, then cpack, to check the rest")
        if not os.path.exists(os.path.join(build, "CPackConfig.cmake")):
            run(["sh", "-c", shell.split("&&")[0]], cwd=source, env=env)
        run(["cmake", "--build", build, "--target", "cadre-master", "cadre-agent", "cadre", "cadre_packaging_files"],
            env=env)
        run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", build], cwd=build)
        debs = {pkg: glob.glob(os.path.join(build, "%s_*_%s.deb" % (pkg, ARCH))) for pkg in PACKAGES}
    check_fatal(all(len(v) == 1 for v in debs.values()), "packages: %s" % debs)
    return build, {pkg: v[0] for pkg, v in debs.items()}


def deb_field(deb, name):
    return run(["dpkg-deb", "-f", deb, name]).stdout.strip()


def newer_packages(build, version, out):
    """The same build packed again as VERSION+1 (an upgrade): (version, {package: .deb})."""
    newer = version + "+1"
    defines = ["-D", "CPACK_PACKAGE_VERSION=" + newer]
    # `cadre-client (= VERSION)` in the hand-written Depends follows the version.
    config = open(os.path.join(build, "CPackConfig.cmake")).read()
    for variable, depends in re.findall(r'set\((CPACK_DEBIAN_\w+_PACKAGE_DEPENDS) "([^"]*)"\)', config):
        defines += ["-D", "%s=%s" % (variable, depends.replace("(= %s)" % version, "(= %s)" % newer))]
    os.makedirs(out)
    run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out] + defines, cwd=build)
    newdebs = {pkg: os.path.join(out, "%s_%s_%s.deb" % (pkg, newer, ARCH)) for pkg in PACKAGES}
    for pkg, path in newdebs.items():
        check_fatal(os.path.exists(path), "cpack did not write %s (wrote %s)" % (path, os.listdir(out)))
        check_fatal(deb_field(path, "Version") == newer, "%s: Version %s" % (path, deb_field(path, "Version")))
        if pkg != "cadre-client":
            check_fatal("cadre-client (= %s)" % newer in deb_field(path, "Depends"),
                        "%s: Depends %s" % (path, deb_field(path, "Depends")))
    return newer, newdebs


def runtime_dependencies(debs):
    """The packages' Depends, first alternatives, without versions or cadre's own."""
    names = set()
    for deb in debs.values():
        for dep in deb_field(deb, "Depends").split(","):
            name = re.sub(r"\s*\(.*", "", dep.split("|")[0]).strip()
            if name and not name.startswith("cadre-"):
                names.add(name)
    return sorted(names)


def check_fatal(condition, message):
    if not condition:
        raise AssertionError(message)


# ---- 2. Guests -----------------------------------------------------------

class Cluster:
    """The head and node guests, the link between them, and their cleanup."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.link = PrivateLink(["head", "node"])
        self.head = self.node = None
        self.closed = False

    def make(self, root):
        self.link.create()
        hosts = "127.0.0.1 localhost\n%s head\n%s node\n" % (self.link.address("head"), self.link.address("node"))
        guests = []
        for name in ["head", "node"]:
            path = os.path.join(self.tmp, name)
            root.copy_to(path)
            guest = Guest("cadre-%s-%d" % (name, os.getpid()), path, self.link.netns_path(name),
                          os.path.join(self.tmp, name + ".console"), log)
            guest.hostname = name
            guest.write("/etc/hostname", name + "\n")
            guest.write("/etc/hosts", hosts)
            guests.append(guest)
        self.head, self.node = guests

    def boot(self):
        for g in (self.head, self.node):
            g.start()
        for g in (self.head, self.node):
            why = g.wait_booted(120)
            if why:
                console = g.console_text()
                if re.search(r"Operation not permitted|Permission denied|Failed to (create|set up|mount|allocate)"
                             r".*(namespace|cgroup)|not supported", console, re.I) and "Welcome to" not in console:
                    raise Skip("systemd-nspawn cannot boot a guest here: %s\n%s" % (why, console[-2000:]))
                raise AssertionError("%s: %s\nconsole:\n%s" % (g.hostname, why, console[-4000:]))
        wait_until(lambda: self.node.sh("ping -c1 -W1 head", check=False).returncode == 0, 20,
                   "node reaching head over the private link")

    def close(self):
        if self.closed:
            return
        self.closed = True
        for g in (self.node, self.head):
            if g is not None:
                try:
                    g.stop()
                except Exception as e:  # noqa: BLE001 - cleanup goes on whatever happened
                    log("stopping %s: %s" % (g.name, e))
        self.link.remove()
        for g in (self.node, self.head):
            if g is not None:
                shutil.rmtree(g.root, ignore_errors=True)


def set_up_guests(cluster, debs, newdebs):
    head, node = cluster.head, cluster.node
    for g in (head, node):
        g.sh("useradd --create-home --uid %d --user-group --shell /bin/sh %s" % (UID, USER))
        g.write("/etc/apt/apt.conf.d/90cadre-test", 'Acquire::Languages "none";\n')
    # The head installs from files, as the docs' first step does.
    for folder, packages in [("/root/debs", debs), ("/root/debs-new", newdebs)]:
        for pkg in ["cadre-master", "cadre-client"]:
            shutil.copy(packages[pkg], _mkdir(head, folder))
    # The node installs from an apt repository, as the enrolment line does.
    publish(node, list(debs.values()))
    node.write("/etc/apt/sources.list.d/cadre.list", "deb [trusted=yes] file:/srv/cadre-repo ./\n")
    node.sh("apt-get update -q")


def _mkdir(guest, folder):
    path = os.path.join(guest.root, folder.lstrip("/"))
    os.makedirs(path, exist_ok=True)
    return path + "/"


def publish(node, debs):
    """Puts the .debs into the node's repository and indexes it."""
    repo = _mkdir(node, "/srv/cadre-repo")
    for deb in debs:
        shutil.copy(deb, repo)
    index = run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo).stdout
    with open(os.path.join(repo, "Packages"), "w") as f:
        f.write(index)


# ---- 3. On the guests ----------------------------------------------------

def installed_version(guest, pkg):
    p = guest.sh("dpkg-query -W -f='${Status} ${Version}' %s" % pkg, check=False)
    words = p.stdout.split()
    return words[-1] if p.returncode == 0 and words[:3] == ["install", "ok", "installed"] else None


def main_pid(guest, unit):
    return guest.sh("systemctl show -p MainPID --value %s" % unit, check=False).stdout.strip()


def is_active(guest, unit):
    return guest.sh("systemctl is-active %s" % unit, check=False).stdout.strip()


def check_versions(results, guest, programs, version):
    for program in programs:
        p = guest.sh("%s --version" % program, check=False)
        words = (p.stdout + " " + p.stderr).replace("v" + version, version).split()
        results.expect(p.returncode == 0 and version in words, "(b) %s: `%s --version` prints %s and exits 0" %
                       (guest.hostname, program, version), "exit %d, stdout %r, stderr %r" % (
                           p.returncode, p.stdout[:200], p.stderr[:200]))


def install_head(results, head, version):
    p = head.sh("cd /root/debs && apt-get install -y -q ./cadre-master_*.deb ./cadre-client_*.deb", check=False,
                timeout=300)
    check_fatal(p.returncode == 0, "apt-get install on head: exit %d\n%s\n%s" % (p.returncode, p.stdout[-3000:],
                                                                                 p.stderr[-3000:]))
    for pkg in ["cadre-master", "cadre-client"]:
        results.expect(installed_version(head, pkg) == version, "head: %s %s installed" % (pkg, version))
    wait_until(lambda: is_active(head, "cadre-master") == "active", 30, "cadre-master active on head")
    results.expect(head.exists("/run/cadre/cadre.sock"), "head: the master's local socket /run/cadre/cadre.sock")
    check_versions(results, head, ["cadre", "cadre-master"], version)


def enroll_node(results, head, node, version):
    results.expect(node.sh("command -v sudo", check=False).returncode != 0, "node: no sudo installed")
    p = head.sh("cadre-master --config /etc/cadre/cadre.toml enroll-agent node --endpoint tcp://head:7700")
    line = p.stdout.strip()
    check_fatal(len(line.splitlines()) == 1, "enroll-agent printed %r, not one line" % p.stdout)
    log("enroll-agent printed a line of %d characters; its note: %s" % (len(line), p.stderr.strip()))
    r = node.sh("sh -c %s" % shlex.quote(line), check=False, timeout=300)
    ok = results.expect(r.returncode == 0, "(d) node: root runs the enrolment line as printed (sh -c LINE), "
                                           "with no sudo installed",
                        "exit %d; the line starts %r\n%s\n%s" % (r.returncode, line[:40], r.stdout[-2000:],
                                                                  r.stderr[-2000:]))
    if not ok and line.startswith("sudo "):
        log("going on with the line without its `sudo `, to check the rest")
        node.sh("sh -c %s" % shlex.quote(line[len("sudo "):]), timeout=300)
    results.expect(installed_version(node, "cadre-agent") == version, "node: cadre-agent %s installed" % version)
    wait_until(lambda: is_active(node, "cadre-agent") == "active", 30, "cadre-agent active on node")
    check_versions(results, node, ["cadre-agent", "cadre"], version)
    wait_until(lambda: node_state(head) == "UP", 60, "node UP in `cadre nodes` on head\n" + journal(node, "cadre-agent"))
    results.expect(True, "node: the agent is active and the node UP on the master")


def journal(guest, unit, lines=40):
    return guest.sh("journalctl -u %s --no-pager -n %d" % (unit, lines), check=False).stdout


def node_state(head):
    p = head.sh("cadre nodes --json", user=USER, check=False)
    try:
        nodes = json.loads(p.stdout).get("nodes", [])
    except ValueError:
        return None
    for n in nodes:
        if n.get("name") == "node":
            return n.get("state")
    return None


def node_isolation(head):
    p = head.sh("cadre nodes --json", user=USER, check=False)
    try:
        return next((n.get("isolation", "") for n in json.loads(p.stdout).get("nodes", []) if n.get("name") == "node"),
                    "")
    except ValueError:
        return ""


def submit(head, flags, script):
    p = head.sh("cadre submit --parsable %s -- sh -c %s" % (flags, shlex.quote(script)), user=USER)
    return int(p.stdout.strip().splitlines()[-1])


def job(head, job_id):
    p = head.sh("cadre show %d --json" % job_id, user=USER, check=False)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"state": "?", "reason": p.stderr.strip()}


FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED")


def wait_job(head, job_id, states, timeout):
    last = {}

    def reached():
        last.update(job(head, job_id))
        return last.get("state") in states or last.get("state") in FINAL

    try:
        wait_until(reached, timeout, "job %d %s" % (job_id, "/".join(states)), interval=0.5)
    except AssertionError:
        pass
    return last


def run_user_job(results, head, node):
    # No shared file system: the output stays in the job's folder on node.
    p = head.sh("cadre run -- sh -c 'echo hello from $CADRE_NODE_NAME as $(id -un) in $(pwd)'", user=USER,
                check=False, timeout=120)
    ids = re.findall(r"job (\d+) COMPLETED", p.stderr + p.stdout)
    out = node.sh("cat /home/%s/cadre-%s.out" % (USER, ids[0]), check=False).stdout if ids else ""
    results.expect(p.returncode == 0 and ids and "hello from node as %s in /home/%s" % (USER, USER) in out,
                   "%s runs a job from head on node with cadre run (COMPLETED, its output on node)" % USER,
                   "exit %d, output %r\n%s\n%s\n%s" % (p.returncode, out, p.stdout, p.stderr,
                                                       journal(node, "cadre-agent")))
    job_id = submit(head, "--job-name first", "echo batch from $CADRE_NODE_NAME as $(id -un)")
    end = wait_job(head, job_id, ["COMPLETED"], 60)
    out = node.sh("cat /home/%s/cadre-%d.out" % (USER, job_id), check=False).stdout
    results.expect(end.get("state") == "COMPLETED" and "batch from node as %s" % USER in out,
                   "%s's submitted job ends COMPLETED with its output in ~/cadre-%d.out on node" % (USER, job_id),
                   "state %s (%s), output %r" % (end.get("state"), end.get("reason"), out))


def check_cgroups(results, head, node):
    controllers = node.sh("cat /sys/fs/cgroup/cgroup.controllers", check=False).stdout.split()
    isolation = node_isolation(head)
    if not {"cpu", "memory"} <= set(controllers):
        log("cgroup v2 checks: not available here: the node has no cgroup v2 cpu and memory controllers "
            "(/sys/fs/cgroup/cgroup.controllers: %s); the agent says: %s" % (" ".join(controllers) or "none",
                                                                             isolation))
        results.expect(isolation.startswith("process groups"),
                       "node without cgroup v2 controllers: the agent reports process groups", isolation)
        return
    results.expect(isolation.startswith("cgroup v2"), "node: the agent reports cgroup v2 isolation", isolation)
    job_id = submit(head, "--cpus-per-task 1 --mem 64M",
                    'c=$(sed -n "s/^0:://p" /proc/self/cgroup); echo "cgroup $c"; '
                    'echo "cpu.max $(cat /sys/fs/cgroup$c/cpu.max)"; echo "memory.max $(cat /sys/fs/cgroup$c/memory.max)"')
    end = wait_job(head, job_id, ["COMPLETED"], 60)
    out = node.sh("cat /home/%s/cadre-%d.out" % (USER, job_id), check=False).stdout
    results.expect(end.get("state") == "COMPLETED" and
                   re.search(r"^cgroup /system\.slice/cadre-ranks\.service/node_node/job_%d_\d+/rank_\d+_\d+$" % job_id,
                             out, re.M),
                   "a rank runs in its own cgroup under cadre-ranks.service", "state %s, output %r" % (
                       end.get("state"), out))
    results.expect("cpu.max 100000 100000" in out, "the rank's cpu.max is 1 cpu", out)
    results.expect("memory.max %d" % (64 << 20) in out, "the rank's memory.max is 64M", out)
    job_id = submit(head, "--mem-per-task 64M", "tail /dev/zero")
    end = wait_job(head, job_id, ["OUT_OF_MEMORY"], 120)
    results.expect(end.get("state") == "OUT_OF_MEMORY", "a rank over its memory ends OUT_OF_MEMORY",
                   "state %s (%s)" % (end.get("state"), end.get("reason")))


def upgrade_under_job(results, head, node, newdebs, newer):
    job_id = submit(head, "--job-name upgrade", "sleep 45; echo survived > upgrade-marker-$CADRE_JOB_ID")
    state = wait_job(head, job_id, ["RUNNING"], 60).get("state")
    check_fatal(state == "RUNNING", "the upgrade's job is %s, not RUNNING" % state)
    wait_until(lambda: "sleep 45" in " ".join(a for _, _, a in node.processes()), 20, "the job's sleep on node")
    before = {"agent": main_pid(node, "cadre-agent"), "master": main_pid(head, "cadre-master")}
    supervisors = [pid for pid, _, args in node.processes() if "--supervise" in args]

    publish(node, list(newdebs.values()))
    node.sh("apt-get update -q")
    p = node.sh("apt-get install -y -q cadre-agent", check=False, timeout=300)
    results.expect(p.returncode == 0, "node: apt-get install cadre-agent upgrades in place",
                   "exit %d\n%s\n%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    p = head.sh("cd /root/debs-new && apt-get install -y -q ./cadre-master_*.deb ./cadre-client_*.deb", check=False,
                timeout=300)
    results.expect(p.returncode == 0, "head: apt-get install of the newer .debs upgrades in place",
                   "exit %d\n%s\n%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    for guest, pkgs in [(node, ["cadre-agent", "cadre-client"]), (head, ["cadre-master", "cadre-client"])]:
        for pkg in pkgs:
            results.expect(installed_version(guest, pkg) == newer, "%s: %s upgraded to %s" % (guest.hostname, pkg, newer),
                           str(installed_version(guest, pkg)))
    still = job(head, job_id).get("state")
    check_fatal(still == "RUNNING", "the job was %s once both upgrades were done: make its sleep longer" % still)
    wait_until(lambda: is_active(node, "cadre-agent") == "active" and is_active(head, "cadre-master") == "active",
               30, "the upgraded services active")
    results.expect(main_pid(node, "cadre-agent") != before["agent"], "node: the upgrade restarted the agent",
                   "MainPID %s before and after" % before["agent"])
    results.expect(main_pid(head, "cadre-master") != before["master"], "head: the upgrade restarted the master",
                   "MainPID %s before and after" % before["master"])
    alive = [pid for pid, _, args in node.processes() if pid in supervisors]
    results.expect(supervisors and alive == supervisors, "node: the rank's supervisor outlived the upgrade",
                   "supervisors %s before, %s after" % (supervisors, alive))
    check_versions(results, node, ["cadre-agent"], newer.split("+")[0])
    end = wait_job(head, job_id, ["COMPLETED"], 90)
    marker = node.sh("cat /home/%s/upgrade-marker-%d" % (USER, job_id), check=False).stdout.strip()
    results.expect(end.get("state") == "COMPLETED" and marker == "survived",
                   "the job running through both upgrades ends COMPLETED and wrote its marker",
                   "state %s (%s), marker %r\n%s" % (end.get("state"), end.get("reason"), marker,
                                                     journal(node, "cadre-agent")))
    adopted = journal(node, "cadre-agent", 200)
    results.expect("found 1 running rank" in adopted, "node: the new agent adopted the running rank (its log)",
                   adopted[-1500:])
    wait_until(lambda: node_state(head) == "UP", 60, "node UP after the upgrade")


def cadre_processes(guest, extra=()):
    return [(pid, user, args) for pid, user, args in guest.processes()
            if "cadre" in args or any(e in args for e in extra)]


def remove_agent_under_job(results, head, node):
    job_id = submit(head, "--job-name remove", "sleep 3001")
    state = wait_job(head, job_id, ["RUNNING"], 60).get("state")
    check_fatal(state == "RUNNING", "the job is %s, not RUNNING" % state)
    wait_until(lambda: cadre_processes(node, ["sleep 3001"]), 20, "the job's sleep on node")
    p = node.sh("apt-get remove -y -q cadre-agent", check=False, timeout=300)
    results.expect(p.returncode == 0, "node: apt-get remove cadre-agent", p.stderr[-2000:])
    left = cadre_processes(node, ["sleep 3001"])
    detail = "\n".join("%d %s %s" % proc for proc in left)
    if left:
        time.sleep(15)
        later = cadre_processes(node, ["sleep 3001"])
        detail += "\n15 s later: " + ("still " + ", ".join(str(p[0]) for p in later) if later else "gone")
    results.expect(not left, "(c) node: apt-get remove cadre-agent with a job running leaves no agent, supervisor "
                             "or rank running", detail)
    for unit in ["cadre-agent", "cadre-ranks"]:
        results.expect(is_active(node, unit) != "active", "node: %s stopped by remove" % unit, is_active(node, unit))
    for pid, _, _ in cadre_processes(node, ["sleep 3001"]):
        node.sh("kill -9 %d" % pid, check=False)  # so that the purge below is checked on its own
    for path in ["/var/lib/cadre-agent", "/etc/cadre/node.key", "/etc/cadre/master.pub",
                 "/etc/cadre/cadre.toml.d/50-join.toml"]:
        results.expect(node.exists(path), "node: remove keeps %s" % path)


def purge_all(results, head, node):
    p = node.sh("apt-get purge -y -q cadre-agent cadre-client", check=False, timeout=300)
    results.expect(p.returncode == 0, "node: apt-get purge cadre-agent cadre-client", p.stderr[-2000:])
    p = head.sh("apt-get purge -y -q cadre-master cadre-client", check=False, timeout=300)
    results.expect(p.returncode == 0, "head: apt-get purge cadre-master cadre-client", p.stderr[-2000:])
    for guest in (head, node):
        known = guest.sh("dpkg-query -W -f='${Package} ${Status}\\n' 'cadre*'", check=False).stdout.strip()
        results.expect(known == "", "%s: dpkg knows no cadre package after purge" % guest.hostname, known)
        left = cadre_processes(guest)
        results.expect(not left, "%s: nothing of cadre running after purge" % guest.hostname,
                       "\n".join("%d %s %s" % proc for proc in left))
        units = guest.sh("systemctl list-units --all --plain --no-legend 'cadre*'", check=False).stdout.strip()
        results.expect(" active " not in " %s " % units and "running" not in units,
                       "%s: no cadre unit active after purge" % guest.hostname, units)
        enabled = guest.sh("ls /etc/systemd/system/*/cadre* 2>/dev/null", check=False).stdout.strip()
        results.expect(enabled == "", "%s: no cadre unit left enabled" % guest.hostname, enabled)
    for path in ["/var/lib/cadre", "/etc/cadre", "/run/cadre/cadre.sock"]:
        results.expect(not head.exists(path), "head: purge removed %s" % path)
    results.expect(head.sh("getent passwd cadre || getent group cadre", check=False).returncode != 0,
                   "head: purge removed the cadre user and group")
    for path in ["/var/lib/cadre-agent", "/etc/cadre"]:
        results.expect(not node.exists(path), "node: purge removed %s" % path)


# ---- main ----------------------------------------------------------------

def test(args, tmp, results, phases):
    reason = nspawn.unusable_reason()
    if reason:
        raise Skip(reason)
    ensure_host_tools()
    with phases("build the packages (documented command, fresh folder)"):
        if args.debs:
            debs = {pkg: glob.glob(os.path.join(args.debs, "%s_*_%s.deb" % (pkg, ARCH)))[0] for pkg in PACKAGES}
            build = args.build_dir
            log("development run: packages from %s, no build" % args.debs)
        else:
            build, debs = build_packages(args.source_dir, tmp, results)
        version = deb_field(debs["cadre-client"], "Version")
        newer, newdebs = newer_packages(build, version, os.path.join(tmp, "newer"))
        log("packages %s and, for the upgrade, %s" % (version, newer))
    with phases("Debian root (debootstrap, cached)"):
        root = GuestRoot(args.cache, SUITE, BASE_PACKAGES + runtime_dependencies(debs), log)
        mirror = nspawn.debian_mirror(SUITE)
        cached = root.ensure(mirror)
        log("root %s: %s" % (root.path, "from the cache" if cached else "made from %s" % mirror))
    cluster = Cluster(tmp)
    atexit.register(cluster.close)
    try:
        with phases("copy and boot head and node"):
            cluster.make(root)
            cluster.boot()
            set_up_guests(cluster, debs, newdebs)
        head, node = cluster.head, cluster.node
        with phases("install the master (head)"):
            install_head(results, head, version)
        with phases("enroll the node"):
            enroll_node(results, head, node, version)
        with phases("a user's jobs"):
            run_user_job(results, head, node)
        with phases("cgroup v2 limits"):
            check_cgroups(results, head, node)
        with phases("upgrade in place under a running job"):
            upgrade_under_job(results, head, node, newdebs, newer)
        with phases("remove cadre-agent under a running job"):
            remove_agent_under_job(results, head, node)
        with phases("purge"):
            purge_all(results, head, node)
    finally:
        with phases("stop the guests and clean up"):
            cluster.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--cache", default=os.environ.get("CADRE_NSPAWN_CACHE", "/var/tmp/cadre-nspawn-cache"))
    ap.add_argument("--debs", help="development only: use the packages in this folder instead of building")
    ap.add_argument("--build-dir", help="with --debs: the build folder they came from (for the upgrade's cpack)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (the guests' consoles)")
    args = ap.parse_args()
    if args.debs and not args.build_dir:
        ap.error("--debs needs --build-dir (the upgrade's packages are packed again from it)")
    args.source_dir = os.path.abspath(args.source_dir)

    # ctest's timeout sends SIGTERM: clean up as on any other way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("test_systemd_boot: killed by SIGTERM"))
    results, phases = Results(), Phases()
    tmp = tempfile.mkdtemp(prefix="cadre-systemd-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    status = 0
    try:
        test(args, tmp, results, phases)
    except Skip as e:
        log("SKIPPED: %s" % e)
        status = SKIP
    except AssertionError as e:
        results.expect(False, "the run went to its end", str(e))
    finally:
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    phases.report()
    if status == SKIP:
        return SKIP
    results.summary()
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
