#!/usr/bin/env python3
"""The Debian packages, end to end (docs/operations.md, Installing).

  test_packages.py --build-dir BUILD --source-dir SRC --version VERSION

1. Builds the three programs and packs them with cpack (packaging/cpack.cmake)
   into BUILD/tests/packaging/debs.
2. Inspects the .deb files: names and versions, files, Depends, conffiles,
   maintainer scripts, stripped binaries; renders the man pages (man -l);
   `systemd-analyze verify` on the units (in a root made of the packages
   and the host's systemd units); lintian, where it is installed: no error
   and no warning.
3. As root, on a machine where no cadre package is installed and there is
   no cadre user: dpkg -i all three, checks the user, folders, keys and
   modes postinst made; runs the installed cadre-master (as the cadre user)
   and cadre-agent with a test config on loopback, runs a job through the
   installed cadre and checks its output; stops them; dpkg -r (config,
   keys, state and user stay) and dpkg -P (they go).
Steps that cannot run here are skipped with the reason printed; anything
installed is purged on the way out, whatever happened.
"""
import argparse
import gzip
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from harness import free_port, wait_until  # noqa: E402

PACKAGES = ["cadre-client", "cadre-master", "cadre-agent"]
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


def log(message):
    print("test_packages: " + message, flush=True)


def skip(what, why):
    log("SKIPPED %s: %s" % (what, why))
    # Listed again at the end of scripts/test (tests/CMakeLists.txt).
    if os.environ.get("CADRE_SKIP_LOG"):
        with open(os.environ["CADRE_SKIP_LOG"], "a") as f:
            f.write("packaging: %s: %s\n" % (what, why))


def run(argv, check=True, **kw):
    """Runs argv, returns the CompletedProcess; fails with its output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run(argv, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# ---- 1. Build ----------------------------------------------------------

def build_packages(build, out):
    # Only what the packages hold: a direct cpack does not rebuild all
    # (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY in packaging/cpack.cmake).
    run(["cmake", "--build", build, "--target", "cadre-master", "cadre-agent", "cadre", "cadre_packaging_files"])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out], cwd=build)


# ---- 2. Inspect --------------------------------------------------------

def field(deb, name):
    return run(["dpkg-deb", "-f", deb, name]).stdout.strip()


def files_of(deb):
    # "-rw-r--r-- root/root 1234 2026-01-01 00:00 ./usr/bin/cadre"
    out = {}
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        parts = line.split(None, 5)
        out[parts[5].lstrip(".")] = (parts[0], parts[1])
    return out


def control_file(deb, name, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    run(["dpkg-deb", "-e", deb, d])
    path = os.path.join(d, name)
    return open(path).read() if os.path.exists(path) else None


def inspect(debs, version, source, tmp):
    expected_files = {
        "cadre-client": ["/usr/bin/cadre", "/etc/cadre/cadre.toml", "/usr/share/man/man1/cadre.1.gz",
                         "/usr/share/bash-completion/completions/cadre", "/usr/share/doc/cadre-client/copyright",
                         "/usr/share/doc/cadre-client/changelog.gz"],
        "cadre-master": ["/usr/sbin/cadre-master", "/lib/systemd/system/cadre-master.service",
                         "/usr/share/man/man8/cadre-master.8.gz", "/usr/share/doc/cadre-master/copyright"],
        "cadre-agent": ["/usr/sbin/cadre-agent", "/lib/systemd/system/cadre-agent.service",
                        "/lib/systemd/system/cadre-ranks.service", "/usr/share/man/man8/cadre-agent.8.gz",
                        "/usr/share/doc/cadre-agent/copyright"],
    }
    # Every runtime library the binaries link, by Debian package name.
    libraries = ["libzmq5", "libcapnp-0.9.2", "libsodium23", "libc6", "libstdc++6"]
    expected_depends = {
        "cadre-client": libraries,
        "cadre-master": libraries + ["libsqlite3-0", "libtomlplusplus3", "adduser", "cadre-client (= %s)" % version],
        "cadre-agent": libraries + ["cadre-client (= %s)" % version],
    }
    for pkg in PACKAGES:
        deb = debs[pkg]
        check(field(deb, "Package") == pkg, "%s: Package is %s" % (deb, field(deb, "Package")))
        check(field(deb, "Version") == version, "%s: Version %s, not the project's %s" % (deb, field(deb, "Version"), version))
        depends = [d.strip() for d in field(deb, "Depends").split(",")]
        names = [re.sub(r"\s*\(.*", "", d) for d in depends]
        for want in expected_depends[pkg]:
            check(want in depends or want in names, "%s: Depends lacks %s: %s" % (pkg, want, depends))
        check("libsqlite3-0" in names or pkg != "cadre-master", "cadre-master must depend on libsqlite3-0")
        files = files_of(deb)
        for f in expected_files[pkg]:
            check(f in files, "%s lacks %s (has %s)" % (pkg, f, sorted(files)))
        for f, (mode, owner) in files.items():
            check(owner == "root/root", "%s: %s is owned by %s" % (pkg, f, owner))
            if f.startswith(("/usr/bin/", "/usr/sbin/")) and not f.endswith("/"):
                check(mode == "-rwxr-xr-x", "%s: %s has mode %s" % (pkg, f, mode))
            elif mode.startswith("-"):
                check(mode == "-rw-r--r--", "%s: %s has mode %s" % (pkg, f, mode))
        log("%s %s: %d files, Depends: %s" % (pkg, version, len(files), ", ".join(depends)))

    conffiles = control_file(debs["cadre-client"], "conffiles", tmp)
    check(conffiles is not None and conffiles.split() == ["/etc/cadre/cadre.toml"],
          "cadre-client conffiles: %r" % conffiles)
    for pkg in ["cadre-master", "cadre-agent"]:
        for script in ["postinst", "prerm", "postrm"]:
            check(control_file(debs[pkg], script, tmp) is not None, "%s has no %s" % (pkg, script))
        run(["sh", "-n", "-c", control_file(debs[pkg], "postinst", tmp)])

    root = os.path.join(tmp, "root")
    os.makedirs(root)
    for pkg in PACKAGES:
        run(["dpkg-deb", "-x", debs[pkg], root])
    for binary in ["usr/bin/cadre", "usr/sbin/cadre-master", "usr/sbin/cadre-agent"]:
        sections = run(["readelf", "-S", os.path.join(root, binary)]).stdout
        check(".symtab" not in sections and ".debug_info" not in sections, "%s is not stripped" % binary)
    with open(os.path.join(source, "packaging", "cadre.toml"), "rb") as f:
        check(open(os.path.join(root, "etc/cadre/cadre.toml"), "rb").read() == f.read(),
              "/etc/cadre/cadre.toml is not packaging/cadre.toml")
    check_man_pages(root)
    verify_units(root, tmp)
    return root


def check_man_pages(root):
    if not shutil.which("man"):
        return skip("man -l", "man is not installed")
    for page in ["man1/cadre.1.gz", "man8/cadre-master.8.gz", "man8/cadre-agent.8.gz"]:
        path = os.path.join(root, "usr/share/man", page)
        check(gzip.open(path).read().startswith(b".TH "), "%s is not a man page" % page)
        p = run(["man", "--warnings=all", "-l", path], env=dict(os.environ, MANWIDTH="80"))
        check("NAME" in p.stdout and "SYNOPSIS" in p.stdout, "%s rendered without NAME/SYNOPSIS" % page)
        check(p.stderr.strip() == "", "man -l %s warns: %s" % (page, p.stderr))
    log("man pages render without warnings")


def verify_units(root, tmp):
    if not shutil.which("systemd-analyze"):
        return skip("systemd-analyze verify", "systemd-analyze is not installed (apt-get install systemd)")
    if not os.path.isdir("/lib/systemd/system"):
        return skip("systemd-analyze verify", "no /lib/systemd/system to take the standard targets from")
    # A root holding the packages, the host's units (targets the cadre
    # units refer to) and /bin/sleep (cadre-ranks.service), so that verify
    # checks the installed paths without installing anything.
    vroot = os.path.join(tmp, "verify-root")
    shutil.copytree("/lib/systemd/system", os.path.join(vroot, "lib/systemd/system"), symlinks=True)
    os.makedirs(os.path.join(vroot, "bin"))
    shutil.copy("/bin/sleep", os.path.join(vroot, "bin/sleep"))
    shutil.copytree(root, vroot, symlinks=True, dirs_exist_ok=True)
    units = ["cadre-master.service", "cadre-agent.service", "cadre-ranks.service"]
    p = run(["systemd-analyze", "verify", "--man=no", "--root=" + vroot] + units, check=False)
    # verify exits 0 on unknown keys and bad values; any word about a unit fails.
    output = (p.stdout + p.stderr).strip()
    if p.returncode != 0 and re.search(r"Failed to (initialize|set up|connect)", output) and "cadre" not in output:
        return skip("systemd-analyze verify", "it cannot run here: " + output.splitlines()[0])
    check(p.returncode == 0 and output == "", "systemd-analyze verify:\n" + output)
    log("systemd-analyze verify: %s clean" % ", ".join(units))


def run_lintian(debs):
    if not shutil.which("lintian"):
        return skip("lintian", "lintian is not installed")
    p = run(["lintian", "--tag-display-limit", "0"] + [debs[pkg] for pkg in PACKAGES], check=False)
    tags = [l for l in (p.stdout + p.stderr).splitlines() if re.match(r"^[EW]: ", l)]
    check(not tags, "lintian:\n" + "\n".join(tags))
    log("lintian: no errors or warnings")


# ---- 3. Install, run, remove, purge -------------------------------------

def installed(pkg):
    p = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False)
    return p.returncode == 0 and "not-installed" not in p.stdout


def mode_owner(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def install_reason():
    """Why the install steps cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root (dpkg -i needs root)"
    if any(installed(p) for p in PACKAGES):
        return "a cadre package is installed already; this test would replace it"
    if user_exists("cadre") or group_exists("cadre"):
        return "a cadre user or group exists already"
    if os.path.exists("/etc/cadre") or os.path.exists("/var/lib/cadre") or os.path.exists("/var/lib/cadre-agent"):
        return "/etc/cadre, /var/lib/cadre or /var/lib/cadre-agent exists already"
    if shutil.which("systemctl") and os.path.isdir("/run/systemd/system"):
        return "systemd runs here: the packages would start real services"
    return None


def dpkg_install(debs):
    p = run(["dpkg", "-i"] + [debs[pkg] for pkg in PACKAGES], check=False)
    if p.returncode != 0:
        # Missing runtime libraries: let apt fetch them, then configure.
        log("dpkg -i: %s; trying apt-get install -f" % p.stderr.strip().splitlines()[-1:])
        run(["apt-get", "install", "-f", "-y", "-q"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for pkg in PACKAGES:
        status = run(["dpkg-query", "-W", "-f=${Status}", pkg]).stdout
        check(status == "install ok installed", "%s: %s" % (pkg, status))
    return p.stdout


def check_installed():
    user = pwd.getpwnam("cadre")
    check(user.pw_uid < 1000, "cadre is not a system user (uid %d)" % user.pw_uid)
    check(user.pw_dir == "/var/lib/cadre", "cadre's home is %s" % user.pw_dir)
    check(grp.getgrgid(user.pw_gid).gr_name == "cadre", "cadre's group is not cadre")
    expect = {
        "/var/lib/cadre": (0o700, "cadre", "cadre"),
        "/etc/cadre/master.key": (0o600, "cadre", "cadre"),
        "/etc/cadre/master.key.pub": (0o644, "cadre", "cadre"),
        "/etc/cadre/agents": (0o755, "cadre", "cadre"),
        "/etc/cadre/users": (0o755, "cadre", "cadre"),
        "/var/lib/cadre-agent": (0o755, "root", "root"),
        "/etc/cadre/cadre.toml": (0o644, "root", "root"),
    }
    for path, want in expect.items():
        check(os.path.exists(path), "postinst did not make %s" % path)
        got = mode_owner(path)
        check(got == want, "%s: mode %o %s:%s, expected %o %s:%s" % ((path,) + got + want))
    key = open("/etc/cadre/master.key").read()
    check("secret-key" in key and "public-key" in key, "master.key is not a key pair from cadre keygen")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "cadre-client"]).stdout
    check("/etc/cadre/cadre.toml" in conffiles, "cadre.toml is not a registered conffile: %r" % conffiles)
    p = run(["/usr/sbin/cadre-master", "--config", "/etc/cadre/cadre.toml", "--check-config"])
    log("installed: user cadre (uid %d), folders, keys and modes as expected; %s" % (user.pw_uid, p.stdout.strip()))


class Daemons:
    def __init__(self):
        self.procs = []

    def start(self, argv, log_path, **kw):
        f = open(log_path, "w")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.procs.append((p, log_path))
        return p

    def stop(self):
        for p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _ in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def logs(self):
        return "\n".join("--- %s\n%s" % (path, open(path).read()[-3000:]) for _, path in self.procs)


def agent_help():
    return run(["/usr/sbin/cadre-agent", "--help"], check=False).stdout


def run_cluster(tmp, daemons):
    """The installed daemons and CLI on loopback, with the package's master key."""
    work = os.path.join(tmp, "cluster")
    os.makedirs(work)
    os.chmod(tmp, 0o755)
    os.chmod(work, 0o755)
    cadre = pwd.getpwnam("cadre")
    state = os.path.join(work, "state")
    agents = os.path.join(work, "agents")
    users = os.path.join(work, "users")
    for d in (state, agents, users):
        os.makedirs(d)
        os.chown(d, cadre.pw_uid, cadre.pw_gid)
    port = free_port()
    sock = os.path.join(state, "cadre.sock")
    config = os.path.join(work, "cadre.toml")
    with open(config, "w") as f:
        f.write('[master]\nlisten = "tcp://127.0.0.1:%d"\nstate_dir = "%s"\nnode_timeout = "10s"\n'
                '[security]\nkey = "/etc/cadre/master.key"\nagent_keys = "%s"\nuser_keys = "%s"\nlocal_socket = "%s"\n'
                % (port, state, agents, users, sock))
    run(["/usr/sbin/cadre-master", "--config", config, "--check-config"])

    # The agent's key, enrolled in the test's own folder.
    node_key = os.path.join(work, "node.key")
    run(["/usr/bin/cadre", "keygen", node_key])
    run(["/usr/sbin/cadre-master", "--config", config, "enroll-agent", "pkgnode", node_key + ".pub"])

    # The master as the package runs it: the cadre user, reading the
    # package's key pair.
    master = daemons.start(["setpriv", "--reuid=cadre", "--regid=cadre", "--init-groups", "/usr/sbin/cadre-master",
                            "--config", config], os.path.join(work, "master.log"))
    wait_until(lambda: os.path.exists(sock) or master.poll() is not None, 20, "the master's local socket")
    check(master.poll() is None, "the installed master exited:\n" + daemons.logs())

    agent_flags = ["--name", "pkgnode", "--work-dir", os.path.join(work, "agent"), "--cpus", "1", "--memory", "1G",
                   "--gpus", "0", "--no-cgroups", "--allow-root-jobs"]
    connection = ["--master", "tcp://127.0.0.1:%d" % port, "--key", node_key,
                  "--master-key", "/etc/cadre/master.key.pub"]
    if "--config" in agent_help():
        # The agent's own table, in a config file as the unit gives it.
        agent_config = os.path.join(work, "agent.toml")
        with open(agent_config, "w") as f:
            f.write('[agent]\nmaster = "tcp://127.0.0.1:%d"\nkey = "%s"\nmaster_key = "/etc/cadre/master.key.pub"\n'
                    % (port, node_key))
        connection = ["--config", agent_config]
        run(["/usr/sbin/cadre-agent", "--config", agent_config, "--check-config"] + agent_flags)
    daemons.start(["/usr/sbin/cadre-agent"] + connection + agent_flags, os.path.join(work, "agent.log"))

    env = dict(os.environ, CADRE_MASTER="ipc://" + sock)
    env.pop("CADRE_KEY", None)
    env.pop("CADRE_MASTER_KEY", None)

    def node_up():
        p = run(["/usr/bin/cadre", "nodes"], check=False, env=env, cwd=work)
        return p.returncode == 0 and re.search(r"pkgnode\s+UP", p.stdout)

    wait_until(node_up, 30, "node pkgnode UP on the installed master\n" + daemons.logs())
    p = run(["/usr/bin/cadre", "run", "--", "sh", "-c", "echo hello from $CADRE_NODE_NAME rank $CADRE_RANK"],
            check=False, env=env, cwd=work, timeout=60)
    check(p.returncode == 0 and "hello from pkgnode rank 0" in p.stdout,
          "cadre run through the installed packages: exit %d\n%s\n%s\n%s" % (p.returncode, p.stdout, p.stderr,
                                                                            daemons.logs()))
    log("installed master (as cadre) and agent ran a job: %r" % p.stdout.strip())
    daemons.stop()


def remove_and_purge():
    run(["dpkg", "-r"] + PACKAGES)
    for pkg in PACKAGES:
        status = run(["dpkg-query", "-W", "-f=${Status}", pkg]).stdout
        check(status == "deinstall ok config-files", "after dpkg -r, %s: %s" % (pkg, status))
    for path in ["/usr/sbin/cadre-master", "/usr/sbin/cadre-agent", "/usr/bin/cadre"]:
        check(not os.path.exists(path), "dpkg -r left %s" % path)
    for path in ["/var/lib/cadre", "/etc/cadre/master.key", "/etc/cadre/master.key.pub", "/etc/cadre/cadre.toml",
                 "/etc/cadre/agents", "/var/lib/cadre-agent"]:
        check(os.path.exists(path), "dpkg -r removed %s (only purge may)" % path)
    check(user_exists("cadre"), "dpkg -r removed the cadre user")
    log("dpkg -r: programs gone; config, keys, state and the cadre user kept")

    run(["dpkg", "-P"] + PACKAGES)
    for pkg in PACKAGES:
        check(not installed(pkg), "after dpkg -P, %s is still known to dpkg" % pkg)
    for path in ["/var/lib/cadre", "/etc/cadre/master.key", "/etc/cadre/master.key.pub", "/etc/cadre/cadre.toml",
                 "/etc/cadre/agents", "/etc/cadre/users", "/var/lib/cadre-agent", "/etc/cadre"]:
        check(not os.path.exists(path), "dpkg -P left %s" % path)
    check(not user_exists("cadre"), "dpkg -P left the cadre user")
    check(not group_exists("cadre"), "dpkg -P left the cadre group")
    log("dpkg -P: state, keys, config and the cadre user gone")


def install_run_remove(debs, tmp):
    reason = install_reason()
    if reason:
        return skip("dpkg -i / run / dpkg -r / dpkg -P", reason)
    daemons = Daemons()
    try:
        out = dpkg_install(debs)
        log("dpkg -i: all three installed" + (" (%s)" % out.strip().splitlines()[-1] if out.strip() else ""))
        check_installed()
        run_cluster(tmp, daemons)
        remove_and_purge()
    finally:
        daemons.stop()
        left = [p for p in PACKAGES if installed(p)]
        if left:
            run(["dpkg", "-P"] + left, check=False)
            log("cleaned up: purged " + " ".join(left))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--version", required=True)
    a = ap.parse_args()
    for tool in ["dpkg-deb", "cpack"]:
        if not shutil.which(tool):
            skip("everything", "%s is not installed" % tool)
            return 0
    start = time.monotonic()
    out = os.path.join(a.build_dir, "tests", "packaging", "debs")
    tmp = tempfile.mkdtemp(prefix="cadre-packages-")
    try:
        build_packages(a.build_dir, out)
        debs = {pkg: os.path.join(out, "%s_%s_%s.deb" % (pkg, a.version, ARCH)) for pkg in PACKAGES}
        for pkg, path in debs.items():
            check(os.path.exists(path), "cpack did not write %s (wrote %s)" % (path, os.listdir(out)))
        inspect(debs, a.version, a.source_dir, tmp)
        run_lintian(debs)
        install_run_remove(debs, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("passed in %.0f s" % (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
