"""End to end: every program refuses hostile flag and environment values.

Each program (cadre and every subcommand, cadre-master and its key commands,
cadre-agent and `join`, cadre-sim, the bench programs and the test helper
cadre-raw-client) is run once per hostile value of each flag and environment
variable a user sets: empty, blank, negative, zero, huge, non-numeric,
out-of-range ports, malformed endpoints, control characters, 5,000
characters, missing and unreadable files, a folder where a file is expected,
a file where a folder is expected, a FIFO. No cluster: the CLI talks to a
loopback port where nothing listens (CADRE_TIMEOUT=1), the daemons get
temporary folders and free ports. Every case is its own subTest, named by its
exact command line, and expects one of:

  REFUSE   exit 1 or 2 (2 for a daemon and for a malformed endpoint) with a
           message on stderr that names the flag or variable (for a path or a
           positional word, naming the value itself will do); a daemon that
           starts anyway (it logs that it listens or connects, or still runs
           after DAEMON_WAIT s) fails the case
  EITHER   a value the program may take: exit 0, 1 or 2, or a daemon that
           starts (it is stopped as soon as it says so)
  LISTENS  cadre-master binds it and logs the port it got (not port 0)

and, whatever it expects: never a signal (exit 134, 139 and the like), never
a hang, and no raw control character on stderr (a hostile value is echoed
escaped). Values that are only hostile to an unprivileged user (an unreadable
file, a read-only folder) are skipped one by one when the tests run as root.

Cases run WORKERS at a time; every process is started in its own session with HOME
and TMPDIR in its own temporary folder, and everything it left behind is
killed and removed afterwards. CADRE_E2E_VERBOSE=1 prints every case's
outcome, passed or not.
"""

import concurrent.futures
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import binary, free_port

RUN_TIMEOUT = 10  # a program that has not exited by then hangs (not a timing test)
DAEMON_WAIT = 8  # a daemon refusing a value exits long before this
WORKERS = 6
CLI_WAIT = "1"  # CADRE_TIMEOUT where the CLI might wait for a master

REFUSE, EITHER, LISTENS = "refuse", "either", "listens"

PROGRAMS = {
    "cadre": "cli/cadre",
    "cadre-master": "master/cadre-master",
    "cadre-agent": "agent/cadre-agent",
    "cadre-sim": "sim/cadre-sim",
    "cadre-bench-submit": "bench/cadre-bench-submit",
    "cadre-bench-scheduler": "bench/cadre-bench-scheduler",
    "cadre-bench-fill-store": "bench/cadre-bench-fill-store",
    "cadre-bench-scale": "bench/cadre-bench-scale",
    "cadre-raw-client": "tests/e2e/cadre-raw-client",
}

# What a daemon logs once it runs: seeing it ends the wait.
STARTED = {
    "cadre-master": re.compile(r"listening on [^\n]*\n"),
    "cadre-agent": re.compile(r"connecting to [^\n]*\n"),
}
SETTLE = 2  # how long a daemon must run on after that line to count as started
LISTENING = re.compile(r"listening on tcp://127\.0\.0\.1:(\d+)\b")

# Environment variables that would change what a program does, dropped from
# the tests' own environment before each case sets its own.
DROPPED_ENV_PREFIXES = ("CADRE_", "SLURM_", "OMPI_")
DROPPED_ENV = ("JOURNAL_STREAM", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID")

# ---------------------------------------------------------------- values

LONG = "a" * 5000
CTRL = "x\x01y"
NEWLINE = "x\ny"
BAD_UTF8 = "x\udcffy"  # the byte 0xff once encoded (surrogateescape)
CASE_DIR = "@CASE@"  # replaced by the case's own folder
PORT, PORT2 = "@PORT@", "@PORT2@"  # replaced by free loopback ports when the case runs


def count_values(zero=REFUSE, above=(), wraps=True):
    """Hostile values of a whole-number flag -> expectation. `zero` is what
    0 expects (None: leave it out), `above` values over the flag's maximum,
    `wraps` adds 2^32+1 (which a uint32 truncates to 1) where that is
    over the maximum."""
    v = {x: REFUSE for x in ("", " ", "-1", "-5", "abc", "1.5", "1e3", "0x10", "1 2", "99999999999999999999",
                             "9" * 5000, LONG, CTRL, NEWLINE)}
    if wraps:
        v["4294967297"] = REFUSE
    for a in above:
        v[a] = REFUSE
    if zero is not None:
        v["0"] = zero
    return v


def size_values(zero=REFUSE, absurd=REFUSE):
    v = {x: REFUSE for x in ("", " ", "-1", "-1G", "G", "12Q", "abc", "1.5.5G", "1G2", "99999999999999999999",
                             "9999999999999T", LONG, CTRL, NEWLINE)}
    v["99999999999T"] = absurd  # fits in 64 bits, but no node has it
    if zero is not None:
        v["0"] = zero
    return v


def duration_values(zero=EITHER):
    v = {x: REFUSE for x in ("", " ", "-5", "-1:00:00", "abc", "1:99:99", "1-", "1:2:3:4", "99999999999999999999",
                             "9999999999:00:00", LONG, CTRL, NEWLINE)}
    if zero is not None:
        v["0"] = zero
    return v


def endpoint_values(role="connect"):
    """Malformed endpoints -> expectation. For a bind (cadre-master
    --listen), port 0 asks the kernel for a port."""
    v = {x: REFUSE for x in (
        "", " ", "garbage", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://127.0.0.1:-5",
        "tcp://127.0.0.1:99999", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:7a", "tcp://[::1", "tcp://[::1]",
        "tcp://:7700", "tcp:/127.0.0.1:7700", "inproc://x", "ipc://", "udp://127.0.0.1:7700",
        "tcp://127.0.0.1:7700,", "tcp://127.0.0.1:77\x0100", "tcp://127.0.0.1:77\n00", "tcp://127.0.0.1:7700 ",
        "tcp://" + "a" * 5000 + ":7700", LONG, "ipc://" + "a" * 300)}
    if role == "connect":
        v["tcp://127.0.0.1:0"] = REFUSE
        v["tcp://*:7700"] = REFUSE
        v["tcp://127.0.0.1:1,tcp://127.0.0.1:2"] = REFUSE  # one master only, today
    else:
        v["tcp://127.0.0.1:0"] = LISTENS
    return v


# ---------------------------------------------------------------- fixtures


class Fixtures:
    """Files every case may point at, in one temporary folder; key pairs and
    a join token made on first use by the programs under test."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="cadre-e2e-hostile-")
        fx = self.fx = os.path.join(self.root, "fx")
        os.makedirs(fx)
        self.cases = os.path.join(self.root, "cases")
        os.makedirs(self.cases)
        self.missing = os.path.join(fx, "missing-file")
        self.folder = os.path.join(fx, "a-folder")
        os.makedirs(self.folder)
        self.empty = self._write("empty-file", b"")
        self.garbage = self._write("garbage-file", b"\x00\xff\xfe garbage \x01\x1b[2J\n[[[ = = =\n\x00")
        self.words = self._write("words-file", b"this is not what you were looking for\n")
        self.unreadable = self._write("unreadable-file", b"x = 1\n")
        os.chmod(self.unreadable, 0)
        self.long = os.path.join(fx, "a" * 5000)
        self.fifo = os.path.join(fx, "a-fifo")
        os.mkfifo(self.fifo)
        self.under_file = os.path.join(self.empty, "below")
        self.read_only = os.path.join(fx, "read-only-folder")
        os.makedirs(self.read_only)
        os.chmod(self.read_only, 0o555)
        self.no_access = os.path.join(fx, "no-access-folder")
        os.makedirs(self.no_access)
        os.chmod(self.no_access, 0)
        self.trace = self._write("trace.swf", b"; tiny trace\n"
                                 b"1 0 0 60 4 -1 -1 4 120 -1 1 1 1 -1 1 -1 -1 -1\n"
                                 b"2 10 0 30 2 -1 -1 2 60 -1 1 1 1 -1 1 -1 -1 -1\n")
        self._keys = None
        self._token = None

    def _write(self, name, data):
        path = os.path.join(self.fx, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def case_dir(self):
        return tempfile.mkdtemp(prefix="c", dir=self.cases)  # safe from several threads

    def files(self, empty=REFUSE, garbage=REFUSE, words=REFUSE):
        """Hostile paths where a readable regular file is expected ->
        (expectation, needs an unprivileged user)."""
        return {
            "": (REFUSE, False), " ": (REFUSE, False), self.missing: (REFUSE, False), self.folder: (REFUSE, False),
            self.unreadable: (REFUSE, True), self.long: (REFUSE, False), self.fifo: (REFUSE, False),
            self.under_file: (REFUSE, False), self.empty: (empty, False), self.garbage: (garbage, False),
            self.words: (words, False),
        }

    def folders(self, missing=EITHER):
        """Hostile paths where a folder the program writes in is expected."""
        return {
            "": (REFUSE, False), self.empty: (REFUSE, False), self.under_file: (REFUSE, False),
            self.long: (REFUSE, False), os.path.join(self.read_only, "sub"): (REFUSE, True),
            os.path.join(CASE_DIR, "not-yet", "there"): (missing, False),
        }

    def env(self, case_dir):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(DROPPED_ENV_PREFIXES) and k not in DROPPED_ENV}
        env["HOME"] = case_dir
        env["TMPDIR"] = case_dir
        return env

    def keys(self):
        """{user, user.pub, master, master.pub, node, node.pub}: key pairs
        written by `cadre keygen`."""
        if self._keys is None:
            d = os.path.join(self.fx, "keys")
            os.makedirs(d, exist_ok=True)
            keys = {}
            for name in ("user", "master", "node"):
                path = os.path.join(d, name)
                r = subprocess.run([binary(PROGRAMS["cadre"]), "keygen", path], capture_output=True, text=True,
                                   timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL, cwd=self.fx, env=self.env(self.fx))
                if r.returncode != 0 or not os.path.exists(path + ".pub"):
                    raise AssertionError("fixture: cadre keygen %s failed (%s): %s" % (path, r.returncode, r.stderr))
                keys[name] = path
                keys[name + ".pub"] = path + ".pub"
            self._keys = keys
        return self._keys

    def token(self):
        """A valid join token for node 'joinnode'."""
        if self._token is None:
            keys = self.keys()
            argv = [binary(PROGRAMS["cadre-master"]), "--key", keys["master"], "--agent-keys",
                    os.path.join(self.fx, "agent-keys"), "--user-keys", os.path.join(self.fx, "user-keys"),
                    "enroll-agent", "joinnode", "--endpoint", "tcp://127.0.0.1:7700"]
            r = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
                               cwd=self.fx, env=self.env(self.fx))
            m = re.search(r"cadre-agent join (\S+)", r.stdout)
            if r.returncode != 0 or not m:
                raise AssertionError("fixture: cadre-master enroll-agent failed (%s): %s" % (r.returncode, r.stderr))
            self._token = m.group(1)
        return self._token

    def remove(self):
        for path in (self.read_only, self.no_access):
            try:
                os.chmod(path, 0o755)
            except OSError:
                pass
        for base, dirs, _ in os.walk(self.root):
            for d in dirs:  # cases may have made folders they cannot list
                try:
                    os.chmod(os.path.join(base, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


FX = None


def setUpModule():
    global FX
    for rel in PROGRAMS.values():
        if rel != PROGRAMS["cadre-raw-client"]:
            binary(rel)  # an explicit CADRE_BUILD_DIR without them is an error
    FX = Fixtures()


def tearDownModule():
    if FX is not None:
        FX.remove()


# ---------------------------------------------------------------- cases


def escaped(text):
    """text as a message shows it: control characters, and bytes that are
    not UTF-8 (surrogate-escaped here), as visible escapes."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def shown(arg):
    """One word of a command line, readable: quoted, escaped, long ones cut."""
    if len(arg) > 80:
        return "%s...(%d chars)" % (shown(arg[:40]), len(arg))
    if arg and all(c.isprintable() and c not in " '\"\\" for c in arg):
        return shlex.quote(arg)
    return repr(arg)


class Case:
    """One run of one program. argv and env values may hold CASE_DIR, the
    case's own folder (also its cwd, HOME and TMPDIR)."""

    def __init__(self, program, argv, expect=REFUSE, names=(), env=None, codes=None, value=None, stdin=None,
                 setup=None, unprivileged=False, note=""):
        self.program = program
        self.argv = [str(a) for a in argv]
        self.expect = expect
        self.names = [n for n in names if n]
        self.env = dict(env or {})
        self.codes = codes or ({2} if program in STARTED else {1, 2})
        self.daemon = program in STARTED
        # A path or a positional word may be named by itself in the message.
        self.value = value
        self.stdin = stdin
        self.setup = setup
        self.unprivileged = unprivileged
        self.note = note  # what setup prepares, for the command line shown
        # Words with a newline, which must not come back raw on stderr.
        self.multiline = [w for w in self.argv + [v for v in self.env.values() if v] if "\n" in w]
        self.limit = DAEMON_WAIT if self.daemon else RUN_TIMEOUT

    def command_line(self):
        env = " ".join("%s=%s" % (k, shown(v) if v is not None else "(unset)") for k, v in sorted(self.env.items()))
        line = ((env + " ") if env else "") + " ".join([self.program] + [shown(a) for a in self.argv])
        return line + (" (%s)" % self.note if self.note else "")

    def needles(self):
        out = list(self.names)
        v = self.value
        if v is not None and not v.strip():
            # Nothing to see: the message has to show it, or say so.
            out += ["'%s'" % escaped(v)] + (["empty"] if not v else [])
        if v:
            cut = v[:100] if len(v) > 200 else v
            printable = re.split(r"[\x00-\x1f\x7f]", cut)[0]
            if len(printable.strip()) >= 6:
                out.append(printable)
            if escaped(cut) != cut:
                out.append(escaped(cut))
            if v.strip():
                out.append("'%s'" % escaped(cut))  # a short word, quoted
        return out


class Outcome:
    def __init__(self):
        self.returncode = None  # None: still running when stopped
        self.started = None  # the daemon's "listening"/"connecting" line
        self.hung = False
        self.stdout = b""
        self.stderr = b""
        self.seconds = 0.0
        self.leftovers = []


def _processes_of(case_dir):
    """Processes that carry the case's folder in their environment (HOME)
    or command line, or run in it: whatever the case started."""
    needle = case_dir.encode()
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.readlink("/proc/%s/cwd" % entry).startswith(case_dir):
                found.append(int(entry))
                continue
        except OSError:
            pass
        for what in ("environ", "cmdline"):
            try:
                with open("/proc/%s/%s" % (entry, what), "rb") as f:
                    if needle in f.read():
                        found.append(int(entry))
                        break
            except OSError:
                pass
    return found


def _stop(p, case_dir):
    """Ends p's session, then anything else the case started."""
    for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for _ in range(3):
        pids = _processes_of(case_dir)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.2)


_ports_lock = threading.Lock()
_ports_given = set()


def unused_port():
    """A free loopback port this module has not handed out before, so two
    cases running at once never share one."""
    with _ports_lock:
        while True:
            port = free_port()
            if port not in _ports_given:
                _ports_given.add(port)
                return port


def _substitute(text, case_dir, ports):
    if not isinstance(text, str):
        return text
    text = text.replace(CASE_DIR, case_dir)
    for placeholder in (PORT, PORT2):
        if placeholder in text:
            if placeholder not in ports:
                ports[placeholder] = str(unused_port())
            text = text.replace(placeholder, ports[placeholder])
    return text


def run_case(case):
    o = Outcome()
    case_dir = FX.case_dir()
    env = FX.env(case_dir)
    if case.program in ("cadre", "cadre-bench-submit"):
        # Nothing listens there: a command that gets past its flags waits
        # CADRE_TIMEOUT for an answer, then says so (exit 1).
        env["CADRE_MASTER"] = "tcp://127.0.0.1:%d" % unused_port()
        env["CADRE_TIMEOUT"] = CLI_WAIT
    if case.program == "cadre-bench-scheduler":
        env["CADRE_BENCH_SMALL"] = "1"
    ports = {}
    for k, v in case.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = _substitute(v, case_dir, ports)
    argv = [binary(PROGRAMS[case.program])] + [_substitute(a, case_dir, ports) for a in case.argv]
    if case.setup:
        case.setup(case_dir)
    out_path, err_path = os.path.join(case_dir, ".stdout"), os.path.join(case_dir, ".stderr")
    stdin = open(case.stdin, "rb") if case.stdin else subprocess.DEVNULL
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, cwd=case_dir, env=env,
                             start_new_session=True)
    if case.stdin:
        stdin.close()
    marker = STARTED.get(case.program)
    deadline = start + case.limit
    seen = None
    try:
        while True:
            rc = p.poll()
            if rc is not None:
                o.returncode = rc
                break
            now = time.monotonic()
            if marker is not None and seen is None:
                with open(err_path, "rb") as f:
                    m = marker.search(f.read().decode("utf-8", "replace"))
                if m:
                    # A daemon may still give up on something after this
                    # line (the master binds before it opens the local
                    # socket): it has started once it still runs a moment on.
                    seen = m.group(0).strip()
                    deadline = min(deadline, now + SETTLE)
            if now > deadline:
                if seen is not None:
                    o.started = seen
                elif not case.daemon:
                    o.hung = True
                break
            time.sleep(0.05)
    finally:
        o.seconds = time.monotonic() - start
        if o.returncode is not None:
            # It ended by itself: nothing it started may outlive it.
            o.leftovers = _processes_of(case_dir)
        _stop(p, case_dir)
    with open(out_path, "rb") as f:
        o.stdout = f.read()
    with open(err_path, "rb") as f:
        o.stderr = f.read()
    return o


def raw_controls(data):
    """What is wrong with stderr as terminal text, or None: a C0 control
    other than newline, DEL, a C1 control, or bytes that are not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return "holds bytes that are not UTF-8 (%s)" % e
    for ch in text:
        o = ord(ch)
        if (o < 0x20 and ch != "\n") or o == 0x7F or 0x80 <= o <= 0x9F:
            return "holds the raw control character %r" % ch
    return None


def judge(case, o):
    """The problems with an outcome, as sentences; empty when it is right."""
    problems = []
    err = o.stderr.decode("utf-8", "replace")
    if o.returncode is not None and (o.returncode < 0 or o.returncode >= 128):
        sig = -o.returncode if o.returncode < 0 else o.returncode - 128
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "signal %d" % sig
        problems.append("died of %s (exit status %d)" % (name, o.returncode))
    if o.hung:
        problems.append("still running after %ss: a hang" % case.limit)
    bad = raw_controls(o.stderr)
    if bad:
        problems.append("stderr " + bad)
    for h in case.multiline:
        at = h.find("\n")
        if at >= 0 and h[max(0, at - 1):at + 2] in err:
            problems.append("stderr echoes the newline of %r raw (a forged line)" % h[:40])
            break
    if case.expect == LISTENS:
        m = LISTENING.search(err)
        if o.started is None or not m:
            problems.append("expected cadre-master to listen and log 'listening on tcp://127.0.0.1:PORT'")
        elif int(m.group(1)) == 0:
            problems.append("logged port 0 instead of the port the kernel chose: %s" % m.group(0))
    elif case.expect == REFUSE:
        if o.started is not None:
            problems.append("started anyway (logged %r) instead of refusing the value" % o.started)
        elif case.daemon and o.returncode is None:
            problems.append("neither refused the value nor said it started within %ss" % case.limit)
        elif o.returncode is not None and 0 <= o.returncode < 128:
            if o.returncode not in case.codes:
                wanted = " or ".join(str(c) for c in sorted(case.codes))
                problems.append("exit %d, expected %s" % (o.returncode, wanted))
            needles = case.needles()
            if needles and not any(n.lower() in err.lower() for n in needles):
                problems.append("stderr does not name %s" % " or ".join(repr(n[:60]) for n in needles))
    else:  # EITHER
        if case.daemon and o.returncode is None and o.started is None:
            problems.append("neither exited nor said it started within %ss" % case.limit)
        elif o.returncode is not None and 0 <= o.returncode < 128 and o.returncode not in (0, 1, 2):
            problems.append("exit %d, expected 0, 1 or 2" % o.returncode)
    if problems:
        first = next((line for line in err.splitlines() if line.strip()), "")
        problems.append("exit %s; stderr's first line: %s" % (
            "(killed by the test)" if o.returncode is None else o.returncode, escaped(first)[:300]))
    return problems


class HostileCase(unittest.TestCase):
    maxDiff = None

    def run_all(self, cases):
        """Runs the cases WORKERS at a time and reports each as a subTest."""
        self.assertTrue(cases)
        root = os.geteuid() == 0
        todo = [c for c in cases if not (c.unprivileged and root)]
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            outcomes = dict(zip(map(id, todo), pool.map(run_case, todo)))
        for case in cases:
            with self.subTest(cmd=case.command_line(), expect=case.expect):
                if id(case) not in outcomes:
                    self.skipTest("as root this value is not hostile")
                o = outcomes[id(case)]
                problems = judge(case, o)
                if o.leftovers:
                    problems.append("left processes behind when it exited: %s" % o.leftovers)
                if os.environ.get("CADRE_E2E_VERBOSE"):
                    first = next((x for x in o.stderr.decode("utf-8", "replace").splitlines() if x.strip()), "")
                    sys.stderr.write("%s %s: %s, exit %s, %.1fs: %s\n" % (
                        "FAIL" if problems else "ok", case.expect, case.command_line(),
                        "none (stopped)" if o.returncode is None else o.returncode, o.seconds, escaped(first)[:200]))
                if problems:
                    self.fail("; ".join(problems))


def flag_cases(program, base, flag, values, names=(), prefix=(), suffix=(), env=None, value_named=False, codes=None,
               forms=("space",)):
    """Cases for one flag: base + prefix + [flag, value] + suffix for each
    value -> expectation (or -> (expectation, unprivileged))."""
    out = []
    for value, expect in values.items():
        unprivileged = False
        if isinstance(expect, tuple):
            expect, unprivileged = expect
        for form in forms:
            words = [flag, value] if form == "space" else [flag + "=" + value]
            out.append(Case(program, list(base) + list(prefix) + words + list(suffix), expect,
                            names=[flag] + list(names), env=env, value=value if value_named else None, codes=codes,
                            unprivileged=unprivileged))
    return out


def missing_value_case(program, base, flag, names=(), prefix=()):
    """The flag as the last word, with no value after it."""
    return Case(program, list(base) + list(prefix) + [flag], REFUSE, names=[flag] + list(names))


# ---------------------------------------------------------------- the CLI


class CliGlobalOptions(HostileCase):
    """--master, --timeout, CADRE_MASTER and CADRE_TIMEOUT, for every command."""

    COMMANDS = (["nodes"], ["queue"], ["show", "1"], ["cancel", "1"], ["partitions"], ["diag"],
                ["drain", "n1"], ["resume", "n1"], ["submit", "--", "true"], ["run", "--", "true"])

    def test_master_flag(self):
        cases = flag_cases("cadre", [], "--master", endpoint_values("connect"), suffix=["nodes"], codes={2})
        cases += flag_cases("cadre", [], "--master", {"garbage": REFUSE, "": REFUSE, "tcp://127.0.0.1:99999": REFUSE},
                            suffix=["nodes"], codes={2}, forms=("equals",))
        for command in self.COMMANDS:
            for value in ("garbage", "tcp://127.0.0.1:-5", ""):
                cases.append(Case("cadre", ["--master", value] + command, REFUSE, names=["--master"], codes={2}))
            # Also after the command, as the usage allows.
            cases.append(Case("cadre", command[:1] + ["--master", "tcp://[::1"] + command[1:], REFUSE,
                              names=["--master"], codes={2}))
        cases.append(missing_value_case("cadre", ["nodes"], "--master"))
        # The baseline: nothing listens there (exit 1, no answer).
        cases.append(Case("cadre", ["--master", "tcp://127.0.0.1:" + PORT, "nodes"], EITHER))
        self.run_all(cases)

    def test_master_variable(self):
        values = endpoint_values("connect")
        values[""] = EITHER  # an empty variable is an unset one: the default master
        cases = []
        for value, expect in values.items():
            cases.append(Case("cadre", ["nodes"], expect, names=["CADRE_MASTER"], env={"CADRE_MASTER": value},
                              codes={2}))
        for command in self.COMMANDS:
            cases.append(Case("cadre", command, REFUSE, names=["CADRE_MASTER"], env={"CADRE_MASTER": "garbage"},
                              codes={2}))
        # rsh reads its master from the environment only.
        for value in ("garbage", "tcp://127.0.0.1:99999", " "):
            cases.append(Case("cadre", ["rsh", "n1", "true"], REFUSE, names=["CADRE_MASTER"],
                              env={"CADRE_MASTER": value, "CADRE_JOB_ID": "5"}, codes={2}))
        # A good --master wins over a bad CADRE_MASTER.
        cases.append(Case("cadre", ["--master", "tcp://127.0.0.1:" + PORT, "nodes"], EITHER,
                          env={"CADRE_MASTER": "garbage"}))
        self.run_all(cases)

    def test_timeout_flag_and_variable(self):
        values = count_values(zero=REFUSE, above=("3601", "86400"))
        cases = flag_cases("cadre", [], "--timeout", values, suffix=["nodes"])
        cases += flag_cases("cadre", [], "--timeout", {"": REFUSE, "-1": REFUSE}, suffix=["nodes"], forms=("equals",))
        cases.append(missing_value_case("cadre", ["nodes"], "--timeout"))
        for value, expect in values.items():
            if value:
                cases.append(Case("cadre", ["nodes"], expect, names=["CADRE_TIMEOUT"], env={"CADRE_TIMEOUT": value}))
        # Empty is unset (the default, 10 s): shown by a command that ends
        # before it would wait.
        cases.append(Case("cadre", ["show", "abc"], EITHER, env={"CADRE_TIMEOUT": ""}))
        for command in self.COMMANDS:
            cases.append(Case("cadre", ["--timeout", "abc"] + command, REFUSE, names=["--timeout"]))
            cases.append(Case("cadre", command, REFUSE, names=["CADRE_TIMEOUT"], env={"CADRE_TIMEOUT": "-1"}))
        cases.append(Case("cadre", ["rsh", "n1", "true"], REFUSE, names=["CADRE_TIMEOUT"],
                          env={"CADRE_TIMEOUT": "abc", "CADRE_JOB_ID": "5"}))
        # A good --timeout wins over a bad CADRE_TIMEOUT.
        cases.append(Case("cadre", ["--timeout", "1", "nodes"], EITHER, env={"CADRE_TIMEOUT": "abc"}))
        self.run_all(cases)

    def test_unknown_words(self):
        cases = [
            Case("cadre", ["--bogus", "nodes"], REFUSE, names=["--bogus"]),
            Case("cadre", ["frobnicate"], REFUSE, names=["frobnicate"]),
            Case("cadre", [CTRL], REFUSE, names=["x\\x01y"]),
            Case("cadre", [LONG], REFUSE, names=["aaaaaaaa"]),
            Case("cadre", [""], REFUSE, names=["command"]),
            Case("cadre", [], REFUSE, names=["usage"]),
        ]
        for command in ("nodes", "queue", "partitions", "diag"):
            cases.append(Case("cadre", [command, "--json=yes"], REFUSE, names=["--json"]))
            cases.append(Case("cadre", [command, "extra"], REFUSE, names=["extra"]))
            cases.append(Case("cadre", [command, "--bogus", CTRL], REFUSE, names=["--bogus"]))
        cases.append(Case("cadre", ["queue", "--all=1"], REFUSE, names=["--all"]))
        self.run_all(cases)


def submit_flag_table():
    """(flag, aliases, values -> expectation, extra names, prefix) for every
    flag of cadre submit that takes a value."""
    text_long = {LONG: REFUSE, BAD_UTF8: REFUSE, " ": EITHER, CTRL: EITHER, NEWLINE: EITHER}
    gpu_counts = count_values(zero=EITHER, above=("65",))
    gpu_counts.update({"a100:": REFUSE, ":4": REFUSE, "a100:-1": REFUSE, "a100:abc": REFUSE, ":": REFUSE})
    return [
        ("--name", ["-J", "--job-name"], dict(text_long, **{"": EITHER}), ["job name"], []),
        ("--nodes", ["-N"], dict(count_values(zero=REFUSE, above=("100001",)),
                                 **{"2-3": REFUSE, "-": REFUSE, "1-": REFUSE, "-2": REFUSE}), [], []),
        ("--tasks-per-node", ["--ntasks-per-node"], count_values(zero=REFUSE, above=("100001",)), [], []),
        ("--ntasks", ["-n"], count_values(zero=REFUSE, above=("100001",)), [], []),
        ("--cpus-per-task", ["-c"], count_values(zero=REFUSE), [], []),
        ("--mem", [], size_values(zero=REFUSE), [], []),
        ("--mem-per-cpu", [], size_values(zero=REFUSE), [], []),
        ("--mem-per-task", [], size_values(zero=EITHER), [], []),
        ("--gpus-per-task", [], gpu_counts, [], []),
        ("--gpus-per-node", [], gpu_counts, [], ["--nodes", "1"]),
        # gpu:abc is a GPU model (one GPU of model abc), as in Slurm.
        ("--gres", [], dict({x: REFUSE for x in ("", " ", "gpu:-1", "gpu::2", "tpu:2", "gpu:a100:2:3", ":",
                                                 "gpu:a100:-1", "gpu:99999999999999999999", "gpu:4294967297",
                                                 "gpu,gpu:2", LONG, CTRL, NEWLINE)}, **{"gpu:abc": EITHER}), [], []),
        ("--gpu-type", [], dict(text_long, **{"": REFUSE}), ["GPU type"], []),
        ("--time", ["-t"], duration_values(), ["time limit"], []),
        ("--priority", [], dict({x: REFUSE for x in ("", " ", "abc", "1.5", "99999999999999999999",
                                                     "-99999999999999999999", "1000001", "-1000001", "4294967297",
                                                     LONG, CTRL, NEWLINE)}, **{"-5": EITHER}), [], []),
        ("--output", ["-o"], dict(text_long, **{"": REFUSE}), ["output pattern"], []),
        ("--error", ["-e"], dict(text_long, **{"": REFUSE}), ["error pattern"], []),
        ("--partition", ["-p"], dict(text_long, **{"": REFUSE}), ["partition name"], []),
        ("--account", ["-A"], dict(text_long, **{"": REFUSE}), ["account name"], []),
        ("--switches", [], dict(count_values(zero=REFUSE, above=("100001",)),
                                **{"1@abc": REFUSE, "1@-5": REFUSE, "@5": REFUSE, "1@": REFUSE, "@": REFUSE,
                                   "1@" + LONG: REFUSE}), [], []),
        ("--switches-wait", [], duration_values(), [], ["--switches", "1"]),
        # The ranks' working directory is on their nodes: a missing one may
        # exist there, so only what cannot be a directory is refused here.
        ("--chdir", ["-D"], {"": EITHER, " ": EITHER, CTRL: EITHER, "/no/such/dir": EITHER, LONG: REFUSE,
                             "/" + "d/" * 2500: REFUSE, BAD_UTF8: REFUSE}, ["working directory"], []),
    ]


class CliSubmit(HostileCase):
    def test_value_flags(self):
        cases = []
        for flag, aliases, values, extra, prefix in submit_flag_table():
            names = aliases + extra
            cases += flag_cases("cadre", ["submit"], flag, values, names=names, prefix=prefix, suffix=["--", "true"])
            cases.append(missing_value_case("cadre", ["submit"], flag, names=names, prefix=prefix))
            # The other spellings: each alias with a value it must refuse,
            # and --flag=VALUE with an empty or a bad value.
            bad = "-1" if values.get("-1") == REFUSE else LONG
            for alias in aliases:
                cases.append(Case("cadre", ["submit"] + prefix + [alias, bad, "--", "true"], REFUSE,
                                  names=[flag] + names))
            for value in ("", bad):
                if value in values:
                    cases.append(Case("cadre", ["submit"] + prefix + [flag + "=" + value, "--", "true"],
                                      values[value], names=[flag] + names))
        self.run_all(cases)

    def test_toggles_and_command(self):
        cases = []
        for flag in ("--parsable", "--wait", "--no-requeue"):
            for value in ("1", "", "yes"):
                cases.append(Case("cadre", ["submit", flag + "=" + value, "--", "true"], REFUSE, names=[flag]))
        cases += [
            Case("cadre", ["submit", "--", ""], REFUSE, names=["command"]),
            Case("cadre", ["submit", "--"], REFUSE, names=["command"]),
            Case("cadre", ["submit"], REFUSE, names=["command", "usage"]),
            Case("cadre", ["submit", "--bogus", "--", "true"], REFUSE, names=["--bogus"]),
            Case("cadre", ["submit", "--", LONG], EITHER),
            Case("cadre", ["submit", "--", CTRL], EITHER),
            Case("cadre", ["submit", "--", "true"], EITHER),  # the baseline: no answer, exit 1
        ]
        self.run_all(cases)

    def test_from_file(self):
        bad_line = os.path.join(FX.fx, "from-bad-line")
        with open(bad_line, "w") as f:
            f.write("-- true\n--nodes -1 -- true\n")
        cases = []
        for path, (expect, unprivileged) in FX.files().items():
            for pre in ([], ["--parsable"]):
                c = Case("cadre", ["submit"] + pre + ["--from", path], expect, names=["--from"], value=path,
                         unprivileged=unprivileged)
                cases.append(c)
        cases += [
            Case("cadre", ["submit", "--from", bad_line], REFUSE, names=["--nodes"]),
            Case("cadre", ["submit", "--from=" + FX.missing], REFUSE, names=["--from"], value=FX.missing),
            Case("cadre", ["submit", "--from", "-"], REFUSE, names=["--from", "standard input"]),  # stdin is empty
            Case("cadre", ["submit", "--from", "-"], REFUSE, names=["standard input"], stdin=FX.garbage),
            Case("cadre", ["submit", "--from"], REFUSE, names=["--from"]),
            Case("cadre", ["submit", "--from", FX.words, "--nodes", "2"], REFUSE, names=["--from", "--nodes"]),
        ]
        self.run_all(cases)

    def test_batch_script(self):
        def script(name, text):
            path = os.path.join(FX.fx, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        cases = []
        for path, (expect, unprivileged) in FX.files().items():
            if path in ("", " "):
                continue  # not a script: those words are handled as the command below
            cases.append(Case("cadre", ["submit", path], expect, value=path, unprivileged=unprivileged))
        for name, text, flag in (
            ("nodes.sh", "#!/bin/sh\n#CADRE --nodes -1\ntrue\n", "--nodes"),
            ("time.sh", "#!/bin/sh\n#SBATCH -t abc\ntrue\n", "-t"),
            ("mem.sh", "#!/bin/sh\n#SBATCH --mem=-5G\ntrue\n", "--mem"),
            ("ctrl.sh", "#!/bin/sh\n#CADRE --ntasks \x01\ntrue\n", "--ntasks"),
            ("long.sh", "#!/bin/sh\n#CADRE --name %s\ntrue\n" % LONG, "job name"),
        ):
            cases.append(Case("cadre", ["submit", script(name, text)], REFUSE, names=[flag]))
        cases.append(Case("cadre", ["submit", ""], REFUSE, value=""))
        self.run_all(cases)


class CliOtherCommands(HostileCase):
    JOB_IDS = {x: REFUSE for x in ("", " ", "-1", "0", "abc", "1.5", "1e3", "0x10", "99999999999999999999",
                                   "18446744073709551616", "9223372036854775808", LONG, CTRL, NEWLINE, "1 2",
                                   "4294967297x")}

    def test_show_and_cancel(self):
        cases = []
        for value, expect in self.JOB_IDS.items():
            cases.append(Case("cadre", ["show", value], expect, names=["job id"], value=value))
            cases.append(Case("cadre", ["cancel", value], expect, names=["job id"], value=value))
            cases.append(Case("cadre", ["cancel", "1", value], expect, names=["job id"], value=value))
        cases += [
            Case("cadre", ["show"], REFUSE, names=["job id"]),
            Case("cadre", ["show", "1", "2"], REFUSE, names=["job id"]),
            Case("cadre", ["show", "1", "--json=1"], REFUSE, names=["--json"]),
            Case("cadre", ["cancel"], REFUSE, names=["job id"]),
            Case("cadre", ["cancel", "--bogus", "1"], REFUSE, names=["--bogus"]),
            Case("cadre", ["show", "1"], EITHER),
        ]
        self.run_all(cases)

    def test_keygen(self):
        def existing(case_dir):
            with open(os.path.join(case_dir, "existing-file"), "w") as f:
                f.write("keep me\n")
            with open(os.path.join(case_dir, "existing-pub.pub"), "w") as f:
                f.write("keep me\n")
            os.mkdir(os.path.join(case_dir, "existing-folder"))
            os.mkfifo(os.path.join(case_dir, "existing-fifo"))

        cases = [
            Case("cadre", ["keygen", ""], REFUSE, value=""),
            Case("cadre", ["keygen", " "], EITHER),  # a file named ' ' in the case's folder
            # What is there already is never overwritten (relative paths, in the case's folder).
            Case("cadre", ["keygen", "existing-file"], REFUSE, value="existing-file", setup=existing,
                 note="existing-file exists"),
            Case("cadre", ["keygen", "existing-folder"], REFUSE, value="existing-folder", setup=existing,
                 note="existing-folder is a folder"),
            Case("cadre", ["keygen", "existing-fifo"], REFUSE, value="existing-fifo", setup=existing,
                 note="existing-fifo is a FIFO"),
            Case("cadre", ["keygen", "existing-pub"], REFUSE, value="existing-pub", setup=existing,
                 note="existing-pub.pub exists"),
            Case("cadre", ["keygen", FX.under_file], REFUSE, value=FX.under_file),
            Case("cadre", ["keygen", FX.long], REFUSE, value=FX.long),
            Case("cadre", ["keygen", os.path.join(FX.read_only, "key")], REFUSE,
                 value=os.path.join(FX.read_only, "key"), unprivileged=True),
            Case("cadre", ["keygen", "no/such/dir/key"], EITHER),  # it may make the folders, as for ~/.cadre
            Case("cadre", ["keygen", CTRL], EITHER),
            Case("cadre", ["keygen"], REFUSE, names=["keygen"]),
            Case("cadre", ["keygen", "a", "b"], REFUSE, names=["keygen"]),
            Case("cadre", ["keygen", "--bogus", "k"], REFUSE, names=["--bogus"]),
        ]
        self.run_all(cases)

    def test_drain_and_resume(self):
        cases = []
        for command in ("drain", "resume"):
            cases += [
                Case("cadre", [command], REFUSE, names=[command, "node"]),
                Case("cadre", [command, LONG], REFUSE, names=["node name"], value=LONG),
                Case("cadre", [command, ""], REFUSE, names=["node name"]),
                Case("cadre", [command, "n1", "--bogus"], REFUSE, names=["--bogus"]),
                Case("cadre", [command, CTRL], EITHER),
                Case("cadre", [command, " "], EITHER),
                Case("cadre", [command, "n1"], EITHER),
            ]
        cases += [
            Case("cadre", ["drain", "n1", "--reason", LONG], REFUSE, names=["--reason", "reason"]),
            Case("cadre", ["drain", "n1", "--reason"], REFUSE, names=["--reason"]),
            Case("cadre", ["drain", "n1", "--reason", ""], EITHER),
            Case("cadre", ["drain", "n1", "--reason", CTRL], EITHER),
            Case("cadre", ["drain", "n1", "--reason", BAD_UTF8], REFUSE, names=["--reason", "reason"]),
            Case("cadre", ["resume", "n1", "--reason", "x"], REFUSE, names=["--reason"]),
        ]
        self.run_all(cases)

    def test_run_outside_a_job(self):
        cases = [
            Case("cadre", ["run"], REFUSE, names=["command"]),
            Case("cadre", ["run", "true"], REFUSE, names=["command", "--"]),
            Case("cadre", ["run", "--", ""], REFUSE, names=["command"]),
        ]
        for flag, values in (("--nodes", count_values()), ("--ntasks", count_values()), ("--time", duration_values()),
                             ("--mem", size_values()), ("--gpus-per-task", count_values(zero=EITHER))):
            cases += flag_cases("cadre", ["run"], flag, values, suffix=["--", "true"])
        self.run_all(cases)

    def test_run_and_rsh_inside_a_job(self):
        job = {"CADRE_JOB_ID": "5"}
        cases = []
        for flag, alias in (("--ntasks", "-n"), ("--nodes", "-N")):
            cases += flag_cases("cadre", ["run"], flag, count_values(zero=REFUSE, above=("100001",)), names=[alias],
                                suffix=["--", "true"], env=job)
            cases.append(Case("cadre", ["run", alias, "-1", "--", "true"], REFUSE, names=[flag, alias], env=job))
        cases += [
            Case("cadre", ["run", "--time", "5", "--", "true"], REFUSE, names=["--time"], env=job),
            Case("cadre", ["run", "--", ""], REFUSE, names=["command"], env=job),
            Case("cadre", ["run"], REFUSE, names=["command"], env=job),
            Case("cadre", ["rsh"], REFUSE, names=["usage", "NODE"], env=job),
            Case("cadre", ["rsh", "n1"], REFUSE, names=["usage", "COMMAND"], env=job),
            Case("cadre", ["rsh", "n1", "true"], EITHER, env=job),
            Case("cadre", ["rsh", LONG, "true"], REFUSE, names=["node name"], value=LONG, env=job),
            Case("cadre", ["rsh", "n1", "true"], REFUSE, names=["CADRE_JOB_ID"], env={"CADRE_JOB_ID": None}),
        ]
        # CADRE_JOB_ID itself: a job id or nothing (empty is unset).
        for value, expect in dict(CliOtherCommands.JOB_IDS, **{"": EITHER}).items():
            cases.append(Case("cadre", ["run", "--", "true"], expect, names=["CADRE_JOB_ID"],
                              env={"CADRE_JOB_ID": value}))
            cases.append(Case("cadre", ["rsh", "n1", "true"], REFUSE, names=["CADRE_JOB_ID"],
                              env={"CADRE_JOB_ID": value}))
        self.run_all(cases)


class CliKeys(HostileCase):
    """CADRE_KEY, CADRE_MASTER_KEY and ~/.cadre/{key,master.pub}: used over
    tcp, so the CLI is pointed at a tcp port (where nothing listens)."""

    def test_key_variables(self):
        keys = FX.keys()
        cases = []
        for var, other, other_value in (("CADRE_KEY", "CADRE_MASTER_KEY", keys["master.pub"]),
                                        ("CADRE_MASTER_KEY", "CADRE_KEY", keys["user"])):
            values = FX.files()
            values[""] = (EITHER, False)  # empty is unset: no key from the variable
            if var == "CADRE_KEY":
                values[keys["user.pub"]] = (REFUSE, False)  # a public key holds no secret
            for path, (expect, unprivileged) in values.items():
                cases.append(Case("cadre", ["nodes"], expect, names=[var], value=path,
                                  env={var: path, other: other_value}, unprivileged=unprivileged))
            cases.append(Case("cadre", ["nodes"], REFUSE, names=[var], value=FX.missing,
                              env={var: FX.missing, other: other_value}))
        # Both good: the plain "no answer" (exit 1).
        cases.append(Case("cadre", ["nodes"], EITHER, env={"CADRE_KEY": keys["user"],
                                                           "CADRE_MASTER_KEY": keys["master.pub"]}))
        self.run_all(cases)

    def test_key_files_in_home(self):
        keys = FX.keys()

        def home(key=None, master=None):
            def setup(case_dir):
                d = os.path.join(case_dir, ".cadre")
                os.makedirs(d)
                for name, what in (("key", key), ("master.pub", master)):
                    target = os.path.join(d, name)
                    if what == "folder":
                        os.makedirs(target)
                    elif what == "fifo":
                        os.mkfifo(target)
                    elif what is not None:
                        shutil.copy(what, target)
            return setup

        cases = []
        for name, (key, master) in {
            "key a folder": ("folder", keys["master.pub"]),
            "key empty": (FX.empty, keys["master.pub"]),
            "key garbage": (FX.garbage, keys["master.pub"]),
            "key a fifo": ("fifo", keys["master.pub"]),
            "key public only": (keys["user.pub"], keys["master.pub"]),
            "master.pub a folder": (keys["user"], "folder"),
            "master.pub empty": (keys["user"], FX.empty),
            "master.pub garbage": (keys["user"], FX.words),
        }.items():
            which = ".cadre/key" if name.startswith("key") else ".cadre/master.pub"
            c = Case("cadre", ["nodes"], REFUSE, names=[which], setup=home(key, master), note="~/.cadre: " + name)
            cases.append(c)
        for value in ("", "/no/such/home", LONG, CTRL, FX.empty):
            cases.append(Case("cadre", ["nodes"], EITHER, env={"HOME": value}))
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-master


def master_base(listen=True, state=True):
    base = []
    if listen:
        base += ["--listen", "tcp://127.0.0.1:" + PORT]
    if state:
        base += ["--state-dir", os.path.join(CASE_DIR, "state")]
    return base


class Master(HostileCase):
    def test_listen(self):
        values = endpoint_values("bind")
        cases = flag_cases("cadre-master", master_base(listen=False), "--listen", values, names=["listen"])
        cases.append(Case("cadre-master", master_base(listen=False) + ["--listen=tcp://127.0.0.1:-5"], REFUSE,
                          names=["--listen"]))
        cases.append(missing_value_case("cadre-master", master_base(listen=False), "--listen"))
        # Several endpoints to listen on may be fine; two free ports, so it can.
        two = "tcp://127.0.0.1:%s,tcp://127.0.0.1:%s" % (PORT, PORT2)
        cases.append(Case("cadre-master", master_base(listen=False) + ["--listen", two], EITHER))
        cases.append(Case("cadre-master", master_base(), EITHER))  # the baseline starts
        self.run_all(cases)

    def test_state_dir_and_numbers(self):
        cases = flag_cases("cadre-master", master_base(state=False), "--state-dir", FX.folders(), value_named=True)
        cases.append(missing_value_case("cadre-master", master_base(state=False), "--state-dir"))
        cases.append(Case("cadre-master", master_base(state=False) + ["--state-dir", CTRL], EITHER))

        def db(kind):
            def setup(case_dir):
                os.makedirs(os.path.join(case_dir, "state"), mode=0o700)
                path = os.path.join(case_dir, "state", "cadre.db")
                if kind == "folder":
                    os.makedirs(path)
                else:
                    shutil.copy(FX.garbage, path)
            return setup

        for kind in ("folder", "garbage"):
            cases.append(Case("cadre-master", master_base(), REFUSE, names=["cadre.db", "database"], setup=db(kind)))
        cases += flag_cases("cadre-master", master_base(), "--node-timeout", count_values(zero=REFUSE,
                                                                                          above=("86401",)))
        cases += flag_cases("cadre-master", master_base(), "--max-retries",
                            count_values(zero=EITHER, above=("1001",)))
        cases += flag_cases("cadre-master", master_base(), "--log-level",
                            {"": REFUSE, " ": REFUSE, "verbose": REFUSE, "trace": REFUSE, CTRL: REFUSE, LONG: REFUSE,
                             "DEBUG": EITHER})
        for flag in ("--node-timeout", "--max-retries", "--log-level", "--config", "--key", "--agent-keys",
                     "--user-keys", "--local-socket", "--admin-group"):
            cases.append(missing_value_case("cadre-master", master_base(), flag))
        for toggle in ("--no-group-commit", "--check-config", "--help"):
            cases.append(Case("cadre-master", master_base() + [toggle + "=1"], REFUSE, names=[toggle]))
        cases += [
            Case("cadre-master", master_base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-master", master_base() + ["frobnicate"], REFUSE, names=["frobnicate"]),
            Case("cadre-master", master_base() + [CTRL], REFUSE, names=["x\\x01y"]),
            # Flags of enroll-agent NAME alone mean nothing to a running master.
            Case("cadre-master", master_base() + ["--endpoint", "tcp://127.0.0.1:1"], REFUSE, names=["--endpoint"]),
            Case("cadre-master", master_base() + ["--package", "cadre-agent"], REFUSE, names=["--package"]),
        ]
        self.run_all(cases)

    def test_config_files(self):
        def config(name, text):
            path = os.path.join(FX.fx, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        cases = []
        for check in ([], ["--check-config"]):
            cases += flag_cases("cadre-master", master_base(), "--config", FX.files(empty=EITHER),
                                prefix=check, value_named=True)
            for name, text, key in (
                ("listen.toml", '[master]\nlisten = "tcp://127.0.0.1:-5"\n', "listen"),
                ("listen2.toml", '[master]\nlisten = ""\n', "listen"),
                ("timeout.toml", "[master]\nnode_timeout = -1\n", "node_timeout"),
                ("retries.toml", "[master]\nmax_retries = -1\n", "max_retries"),
                ("state.toml", '[master]\nstate_dir = ""\n', "state_dir"),
                ("level.toml", '[master]\nlog_level = "loud"\n', "log_level"),
                ("ctrl.toml", '[master]\nlog_level = "\\u0001"\n', "log_level"),
                ("key.toml", '[security]\nkey = "%s"\n' % FX.missing, "key"),
                ("bad.toml", "[master\n", "master"),
            ):
                # The config's own values, not overridden by the base flags.
                base = [] if key in ("listen", "state_dir") else master_base()
                if key == "listen":
                    base = ["--state-dir", os.path.join(CASE_DIR, "state")]
                elif key == "state_dir":
                    base = ["--listen", "tcp://127.0.0.1:" + PORT]
                cases.append(Case("cadre-master", base + check + ["--config", config(name, text)], REFUSE,
                                  names=[key]))
        cases.append(Case("cadre-master", ["--check-config"], REFUSE, names=["--config"]))
        self.run_all(cases)

    def test_key_flags(self):
        keys = FX.keys()
        cases = []
        key_values = FX.files()
        key_values[keys["master.pub"]] = (REFUSE, False)  # no secret in it
        cases += flag_cases("cadre-master", master_base(), "--key", key_values, value_named=True)
        for flag in ("--agent-keys", "--user-keys"):
            values = {FX.empty: (REFUSE, False), FX.under_file: (REFUSE, False), FX.long: (REFUSE, False),
                      FX.no_access: (REFUSE, True), FX.fifo: (REFUSE, False),
                      os.path.join(CASE_DIR, "no-such-keys"): (EITHER, False), "": (EITHER, False)}
            cases += flag_cases("cadre-master", master_base() + ["--key", keys["master"]], flag, values,
                                value_named=True)
        cases += flag_cases("cadre-master", master_base(), "--local-socket",
                            {FX.folder: REFUSE, FX.under_file: REFUSE, FX.long: REFUSE,
                             os.path.join(FX.fx, "s" * 200): REFUSE, os.path.join(FX.fx, "no", "dir", "sock"): REFUSE,
                             "": EITHER, CTRL: EITHER},
                            value_named=True)
        cases += flag_cases("cadre-master", master_base(), "--admin-group",
                            {"": EITHER, "no-such-group-here": EITHER, CTRL: EITHER, LONG: EITHER})
        self.run_all(cases)

    def test_key_commands(self):
        keys = FX.keys()
        folders = ["--agent-keys", os.path.join(CASE_DIR, "agents"), "--user-keys", os.path.join(CASE_DIR, "users")]
        names = {x: REFUSE for x in ("", " ", "../x", "a/b", ".", "..", CTRL, NEWLINE, LONG, BAD_UTF8, "a b")}
        cases = []
        for command, pub in (("enroll-agent", keys["node.pub"]), ("enroll-user", keys["user.pub"])):
            for name, expect in names.items():
                cases.append(Case("cadre-master", folders + [command, name, pub], expect, value=name))
            for path, (expect, unprivileged) in FX.files().items():
                cases.append(Case("cadre-master", folders + [command, "n1", path], expect,
                                  names=["PUBLIC_KEY_FILE", "public key file"], value=path, unprivileged=unprivileged))
            cases.append(Case("cadre-master", folders + [command, "n1", keys["node"]], EITHER))  # a secret file
            cases.append(Case("cadre-master", folders + [command, "n1", pub, "extra"], REFUSE, names=["usage"]))
        for command in ("revoke-agent", "revoke-user"):
            for name, expect in names.items():
                cases.append(Case("cadre-master", folders + [command, name], expect, value=name))
            cases.append(Case("cadre-master", folders + [command, "never-enrolled"], EITHER))
            cases.append(Case("cadre-master", folders + [command], REFUSE, names=["usage"]))
        for flag, command in (("--agent-keys", "enroll-agent"), ("--user-keys", "enroll-user")):
            pub = keys["node.pub"] if command == "enroll-agent" else keys["user.pub"]
            for path, (expect, unprivileged) in FX.folders().items():
                cases.append(Case("cadre-master", [flag, path, command, "n1", pub], expect, names=[flag],
                                  value=path, unprivileged=unprivileged))
        # enroll-agent NAME with no key file: the master's key, --endpoint, --package.
        new_node = ["--key", keys["master"]] + folders + ["enroll-agent", "n1"]
        cases += flag_cases("cadre-master", new_node, "--endpoint", endpoint_values("connect"))
        cases += flag_cases("cadre-master", new_node, "--package",
                            {"": REFUSE, " ": REFUSE, "a b": REFUSE, "x'y": REFUSE, "$(reboot)": REFUSE,
                             "a;b": REFUSE, CTRL: REFUSE, NEWLINE: REFUSE, LONG: EITHER})
        cases += flag_cases("cadre-master", folders + ["enroll-agent", "n1"], "--key", FX.files(), value_named=True)
        cases += [
            Case("cadre-master", folders + ["enroll-agent", "n1"], REFUSE, names=["--key", "key"]),
            Case("cadre-master", ["enroll-agent", "n1", keys["node.pub"]], REFUSE, names=["--agent-keys"]),
            Case("cadre-master", ["enroll-user", "u1", keys["user.pub"]], REFUSE, names=["--user-keys"]),
            Case("cadre-master", folders + ["enroll-agent"], REFUSE, names=["usage"]),
        ]
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-agent


def agent_base(skip=()):
    """A complete agent command line, less the flags in `skip`."""
    flags = [
        ("--master", "tcp://127.0.0.1:" + PORT), ("--name", "hostile1"), ("--cpus", "1"),
        ("--memory", "1G"), ("--gpus", "0"), ("--work-dir", os.path.join(CASE_DIR, "work")),
        ("--address", "127.0.0.1"), ("--kill-grace", "1"),
    ]
    out = []
    for flag, value in flags:
        if flag not in skip:
            out += [flag, value]
    return out + ["--no-cgroups"]


class Agent(HostileCase):
    def test_flags(self):
        names = {x: REFUSE for x in ("", " ", "a b", "a,b", "a=b", "../x", "a/b", CTRL, NEWLINE, LONG, BAD_UTF8,
                                     "\t")}
        labels = {x: REFUSE for x in ("", " ", "=x", "novalue", "a=b,,c=d", "a=b,", ",", "a=" + LONG, LONG + "=1",
                                      ",".join("k%d=v" % i for i in range(65)))}
        labels[CTRL + "=1"] = EITHER
        table = [
            ("--master", endpoint_values("connect"), {}),
            ("--name", names, {}),
            ("--cpus", count_values(zero=REFUSE), {}),
            ("--memory", size_values(zero=EITHER), {}),
            ("--gpus", count_values(zero=EITHER, above=("65",)), {}),
            ("--labels", labels, {}),
            ("--work-dir", FX.folders(), dict(value_named=True)),
            ("--address", dict({x: REFUSE for x in ("", " ", "a b", CTRL, NEWLINE, LONG, BAD_UTF8)},
                               **{"garbage": EITHER}), {}),
            ("--kill-grace", count_values(zero=EITHER, above=("3601",)), {}),
        ]
        cases = []
        for flag, values, kw in table:
            cases += flag_cases("cadre-agent", agent_base(skip=(flag,)), flag, values, **kw)
            cases.append(missing_value_case("cadre-agent", agent_base(skip=(flag,)), flag))
        cases += flag_cases("cadre-agent", agent_base(), "--log-level",
                            {"": REFUSE, " ": REFUSE, "verbose": REFUSE, CTRL: REFUSE, LONG: REFUSE})
        cases += flag_cases("cadre-agent", agent_base(), "--cgroup",
                            {"": REFUSE, " ": REFUSE, "relative/dir": REFUSE, LONG: REFUSE, CTRL: REFUSE})
        for toggle in ("--no-cgroups", "--allow-root-jobs", "--check-config", "--help"):
            cases.append(Case("cadre-agent", agent_base() + [toggle + "=1"], REFUSE, names=[toggle]))
        cases += [
            # Both ways of placing ranks at once: the usage says one or the other.
            Case("cadre-agent", agent_base() + ["--cgroup", "/sys/fs/cgroup/cadre-hostile.slice"], REFUSE,
                 names=["--cgroup", "--no-cgroups"]),
            Case("cadre-agent", agent_base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-agent", agent_base() + ["frobnicate"], REFUSE, names=["frobnicate"]),
            Case("cadre-agent", agent_base() + ["--config-dir", os.path.join(CASE_DIR, "etc")], REFUSE,
                 names=["--config-dir"]),
            Case("cadre-agent", ["--check-config"], REFUSE, names=["--config"]),
            Case("cadre-agent", agent_base(), EITHER),  # the baseline starts
            # The agent's own helpers, re-executed by it: never a crash.
            Case("cadre-agent", ["--supervise", os.path.join(CASE_DIR, "no-rank"), "abc"], EITHER),
            Case("cadre-agent", ["--supervise", "", "-1"], EITHER),
            Case("cadre-agent", ["--launcher", "abc", "x"], EITHER),
            Case("cadre-agent", ["--launcher", "99999", "x"], EITHER),
        ]
        self.run_all(cases)

    def test_config_files(self):
        def config(name, text):
            path = os.path.join(FX.fx, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        cases = []
        for check in ([], ["--check-config"]):
            cases += flag_cases("cadre-agent", agent_base(), "--config", FX.files(empty=EITHER), prefix=check,
                                value_named=True)
            for name, text, key, skip in (
                ("a-master.toml", '[agent]\nmaster = "tcp://127.0.0.1:-5"\n', "master", "--master"),
                ("a-master2.toml", '[agent]\nmaster = ""\n', "master", "--master"),
                ("a-cpus.toml", "[agent]\ncpus = -1\n", "cpus", "--cpus"),
                ("a-memory.toml", '[agent]\nmemory = "-5G"\n', "memory", "--memory"),
                ("a-name.toml", '[agent]\nname = "a b"\n', "name", "--name"),
                ("a-work.toml", '[agent]\nwork_dir = ""\n', "work_dir", "--work-dir"),
                ("a-grace.toml", "[agent]\nkill_grace = -1\n", "kill_grace", "--kill-grace"),
                ("a-key.toml", '[agent]\nkey = "%s"\nmaster_key = "%s"\n' % (FX.missing, FX.missing), "key", None),
                ("a-bad.toml", "[agent\n", "agent", None),
            ):
                base = agent_base(skip=(skip,)) if skip else agent_base()
                cases.append(Case("cadre-agent", base + check + ["--config", config(name, text)], REFUSE,
                                  names=[key]))
        self.run_all(cases)

    def test_key_flags(self):
        keys = FX.keys()
        cases = []
        key_values = FX.files()
        key_values[keys["node.pub"]] = (REFUSE, False)  # no secret in it
        cases += flag_cases("cadre-agent", agent_base(), "--key", key_values,
                            suffix=["--master-key", keys["master.pub"]],
                            value_named=True)
        cases += flag_cases("cadre-agent", agent_base(), "--master-key", FX.files(), suffix=["--key", keys["node"]],
                            value_named=True)
        cases += [
            Case("cadre-agent", agent_base() + ["--key", keys["node"]], REFUSE, names=["--master-key"]),
            Case("cadre-agent", agent_base() + ["--master-key", keys["master.pub"]], REFUSE, names=["--key"]),
        ]
        # Where NVML is loaded from: a bad one is noted and GPUs are found
        # another way (or not at all), so the agent may start.
        for value in ("", FX.missing, FX.folder, FX.empty, FX.garbage, FX.long, FX.fifo, CTRL):
            cases.append(Case("cadre-agent", agent_base(skip=("--gpus",)), EITHER, env={"CADRE_NVML_LIB": value}))
        self.run_all(cases)

    def test_join(self):
        token = FX.token()
        etc = ["--config-dir", os.path.join(CASE_DIR, "etc")]
        tokens = {x: REFUSE for x in ("", " ", "garbage", "cadre1:", "cadre1:!!!!", "cadre1:" + "A" * 5000, CTRL,
                                      NEWLINE, LONG, BAD_UTF8, token[:-5], token + "x", token[:7] + "\x01" + token[8:])}
        cases = []
        for value, expect in tokens.items():
            cases.append(Case("cadre-agent", ["join", value] + etc, expect, names=["token"]))
        cases += [
            Case("cadre-agent", ["join", "-"] + etc, REFUSE, names=["token", "stdin"]),  # stdin is empty
            Case("cadre-agent", ["join", "-"] + etc, REFUSE, names=["token"], stdin=FX.garbage),
            Case("cadre-agent", ["join"] + etc, REFUSE, names=["token", "usage"]),
            Case("cadre-agent", ["join", token, "extra"] + etc, REFUSE, names=["usage"]),
            Case("cadre-agent", ["join", token, "--force=1"] + etc, REFUSE, names=["--force"]),
            Case("cadre-agent", ["join", token] + etc, EITHER),  # the baseline joins
        ]
        for path, (expect, unprivileged) in FX.folders().items():
            cases.append(Case("cadre-agent", ["join", token, "--config-dir", path], expect, names=["--config-dir"],
                              value=path, unprivileged=unprivileged))
        cases.append(missing_value_case("cadre-agent", ["join", token], "--config-dir"))
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-sim


def sim_base(skip=()):
    flags = [("--trace", FX.trace), ("--nodes", "4"), ("--cpus-per-node", "8"), ("--policy", "fcfs")]
    out = []
    for flag, value in flags:
        if flag not in skip:
            out += [flag, value]
    return out


class Sim(HostileCase):
    def test_flags(self):
        cases = []
        cases += flag_cases("cadre-sim", sim_base(skip=("--trace",)), "--trace", FX.files(empty=EITHER),
                            value_named=True)
        cases += flag_cases("cadre-sim", sim_base(), "--format",
                            {"": REFUSE, " ": REFUSE, "bogus": REFUSE, CTRL: REFUSE, LONG: REFUSE, "SWF": EITHER,
                             "openb": EITHER})
        cases += flag_cases("cadre-sim", sim_base(skip=("--nodes",)), "--nodes",
                            count_values(zero=REFUSE, above=("10000001",)))
        cases += flag_cases("cadre-sim", sim_base(skip=("--cpus-per-node",)), "--cpus-per-node",
                            count_values(zero=REFUSE, above=("10000001",)))
        cases += flag_cases("cadre-sim", sim_base(), "--gpus-per-node", count_values(zero=EITHER, above=("10000001",)))
        cases += flag_cases("cadre-sim", sim_base(), "--memory-per-node", size_values(zero=EITHER, absurd=EITHER))
        cases += flag_cases("cadre-sim", sim_base(skip=("--nodes", "--cpus-per-node")), "--node-list",
                            FX.files(), value_named=True)
        for flag in ("--nodes-per-switch", "--switches-per-rack"):
            cases += flag_cases("cadre-sim", sim_base(), flag,
                                count_values(zero=EITHER, above=("4294967296",), wraps=False))
        cases += flag_cases("cadre-sim", sim_base(), "--max-jobs", count_values(zero=EITHER, wraps=False))
        cases += flag_cases("cadre-sim", sim_base(skip=("--policy",)), "--policy",
                            {x: REFUSE for x in ("", " ", "bogus", "fcfs,,easy", "fcfs,fcfs", ",", "fcfs,", CTRL,
                                                 LONG)})
        for flag in ("--trace", "--format", "--nodes", "--policy", "--max-jobs", "--node-list"):
            cases.append(missing_value_case("cadre-sim", sim_base(skip=(flag,)), flag))
        cases += [
            Case("cadre-sim", sim_base() + ["--json=1"], REFUSE, names=["--json"]),
            Case("cadre-sim", sim_base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-sim", sim_base() + ["extra"], REFUSE, names=["extra"]),
            Case("cadre-sim", sim_base(skip=("--trace",)), REFUSE, names=["--trace"]),
            Case("cadre-sim", sim_base(skip=("--policy",)), REFUSE, names=["--policy"]),
            Case("cadre-sim", sim_base(skip=("--nodes",)), REFUSE, names=["--nodes"]),
            Case("cadre-sim", sim_base() + ["--node-list", FX.trace], REFUSE, names=["--node-list"]),
            Case("cadre-sim", sim_base(), EITHER),  # the baseline replays
        ]
        self.run_all(cases)


# ---------------------------------------------------------------- bench programs


# Values of Google Benchmark's own flags that its parser (not cadre's) takes
# and judges as it sees fit: a negative --benchmark_min_time or
# --benchmark_repetitions, a --benchmark_filter that is no regular
# expression (it says so and runs nothing), a --benchmark_color it does not
# know. Third-party flags: the program may take them (exit 0). An unknown
# --benchmark_format or --benchmark_out_format is refused by cadre-bench-
# scheduler itself, since Google Benchmark answers it with exit status 0.
GOOGLE_BENCHMARK_JUDGES = {("--benchmark_min_time", "-1"), ("--benchmark_repetitions", "-1"),
                           ("--benchmark_filter", "["), ("--benchmark_filter", "("),
                           ("--benchmark_color", "maybe")}


class Bench(HostileCase):
    def test_submit(self):
        def base(skip=()):
            flags = [("--master", "tcp://127.0.0.1:" + PORT), ("--jobs", "1"), ("--timeout", "1")]
            return [w for flag, value in flags if flag not in skip for w in (flag, value)]

        cases = flag_cases("cadre-bench-submit", base(skip=("--master",)), "--master", endpoint_values("connect"),
                           codes={2})
        for value, expect in endpoint_values("connect").items():
            cases.append(Case("cadre-bench-submit", base(skip=("--master",)), expect if value else EITHER,
                              names=["CADRE_MASTER"], env={"CADRE_MASTER": value}, codes={2}))
        for flag, above in (("--jobs", "10000001"), ("--clients", "257"), ("--window", "100001")):
            cases += flag_cases("cadre-bench-submit", base(skip=(flag,)), flag,
                                count_values(zero=REFUSE, above=(above,)))
        cases += flag_cases("cadre-bench-submit", base(skip=("--timeout",)), "--timeout",
                            count_values(zero=REFUSE, above=("3601",)))
        for flag in ("--master", "--jobs", "--timeout"):
            cases.append(missing_value_case("cadre-bench-submit", base(skip=(flag,)), flag))
        cases += [
            Case("cadre-bench-submit", base() + ["--parsable=1"], REFUSE, names=["--parsable"]),
            Case("cadre-bench-submit", base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-bench-submit", base() + ["extra"], REFUSE, names=["extra"]),
            Case("cadre-bench-submit", base(), EITHER),  # no master there: exit 1
        ]
        self.run_all(cases)

    def test_fill_store(self):
        def base(skip=()):
            flags = [("--state-dir", os.path.join(CASE_DIR, "store")), ("--pending", "0"), ("--running", "0"),
                     ("--ended", "0"), ("--nodes", "1"), ("--users", "1"), ("--batch", "1"), ("--seed", "1")]
            return [w for flag, value in flags if flag not in skip for w in (flag, value)]

        cases = flag_cases("cadre-bench-fill-store", base(skip=("--state-dir",)), "--state-dir", FX.folders(),
                           value_named=True)
        for flag, zero, above, wraps in (
            ("--pending", EITHER, "100000001", True), ("--running", EITHER, "10000001", True),
            ("--ended", EITHER, "100000001", True), ("--nodes", REFUSE, "100001", True),
            ("--users", REFUSE, "100001", True), ("--batch", REFUSE, "10000001", True),
            ("--seed", EITHER, "1099511627777", False),
        ):
            cases += flag_cases("cadre-bench-fill-store", base(skip=(flag,)), flag,
                                count_values(zero=zero, above=(above,), wraps=wraps))

        def bad_db(case_dir):
            os.makedirs(os.path.join(case_dir, "store"))
            shutil.copy(FX.garbage, os.path.join(case_dir, "store", "cadre.db"))

        cases += [
            Case("cadre-bench-fill-store", base(), REFUSE, names=["cadre.db", "database"], setup=bad_db),
            Case("cadre-bench-fill-store", base(skip=("--state-dir",)), REFUSE, names=["--state-dir"]),
            missing_value_case("cadre-bench-fill-store", base(skip=("--state-dir",)), "--state-dir"),
            Case("cadre-bench-fill-store", base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-bench-fill-store", base(), EITHER),  # the baseline writes an empty store
        ]
        self.run_all(cases)

    def test_scale(self):
        def base(skip=()):
            flags = [("--master", "tcp://127.0.0.1:" + PORT), ("--nodes", "1"), ("--jobs", "1"),
                     ("--seconds", "1"), ("--passes", "1"), ("--timeout", "1")]
            return [w for flag, value in flags if flag not in skip for w in (flag, value)]

        cases = flag_cases("cadre-bench-scale", base(skip=("--master",)), "--master", endpoint_values("connect"),
                           codes={2})
        for flag, above in (("--nodes", "100001"), ("--jobs", "10000001"), ("--seconds", "3601"),
                            ("--passes", "1001"), ("--nodes-per-socket", "100001"), ("--timeout", "86401")):
            cases += flag_cases("cadre-bench-scale", base(skip=(flag,)), flag,
                                count_values(zero=REFUSE, above=(above,)))
        cases += flag_cases("cadre-bench-scale", base(), "--master-pid",
                            count_values(zero=REFUSE, above=("2147483648",), wraps=False))
        cases += [
            Case("cadre-bench-scale", base(skip=("--master",)), REFUSE, names=["--master"]),
            missing_value_case("cadre-bench-scale", base(skip=("--master",)), "--master"),
            Case("cadre-bench-scale", base() + ["--bogus"], REFUSE, names=["--bogus"]),
            Case("cadre-bench-scale", base(), EITHER),  # no master there: gives up after --timeout
        ]
        self.run_all(cases)

    def test_scheduler(self):
        none = ["--benchmark_filter=^no-such-benchmark$"]
        cases = []
        for flag, values in (
            ("--benchmark_min_time", ("abc", "-1", "", LONG)),
            ("--benchmark_repetitions", ("abc", "-1", "99999999999999999999", "")),
            ("--benchmark_format", ("bogus", "", CTRL)),
            ("--benchmark_out_format", ("bogus", "")),
            ("--benchmark_filter", ("[", "(")),
            ("--benchmark_out", (FX.folder, FX.under_file, FX.long)),
            ("--benchmark_color", ("maybe",)),
        ):
            for value in values:
                argv = [a for a in none if not a.startswith(flag + "=")] + ["%s=%s" % (flag, value)]
                if flag == "--benchmark_out":
                    argv.append("--benchmark_filter=BM_PendingMemory")
                # Google Benchmark reads --flag= as the flag's default.
                expect = REFUSE if value else EITHER
                if (flag, value) in GOOGLE_BENCHMARK_JUDGES:
                    expect = EITHER
                cases.append(Case("cadre-bench-scheduler", argv, expect, names=[flag], value=value))
        cases.append(Case("cadre-bench-scheduler", none + ["--bogus"], REFUSE, names=["--bogus"]))
        for value in ("", "abc", CTRL, LONG):
            cases.append(Case("cadre-bench-scheduler", none, EITHER, env={"CADRE_BENCH_SMALL": value}))
        cases.append(Case("cadre-bench-scheduler", none, EITHER))
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-raw-client


class RawClient(HostileCase):
    def setUp(self):
        path = os.path.join(os.environ.get("CADRE_BUILD_DIR") or "", PROGRAMS["cadre-raw-client"])
        try:
            binary(PROGRAMS["cadre-raw-client"])
        except FileNotFoundError:
            self.skipTest("%s is not built (it needs libcapnp-json)" % path)

    def test_flags(self):
        keys = FX.keys()

        def base(skip=()):
            flags = [("--endpoint", "tcp://127.0.0.1:" + PORT), ("--linger-ms", "0")]
            return [w for flag, value in flags if flag not in skip for w in (flag, value)]

        cases = flag_cases("cadre-raw-client", base(skip=("--endpoint",)), "--endpoint", endpoint_values("connect"))
        cases += flag_cases("cadre-raw-client", base(skip=("--linger-ms",)), "--linger-ms", count_values(zero=EITHER))
        cases += flag_cases("cadre-raw-client", base(), "--key", FX.files(),
                            suffix=["--server-key", keys["master.pub"]],
                            value_named=True)
        cases += flag_cases("cadre-raw-client", base(), "--server-key", FX.files(), suffix=["--key", keys["user"]],
                            value_named=True)
        # It sends under any routing id by design: ZeroMQ's own limits apply.
        cases += flag_cases("cadre-raw-client", base(), "--routing-id", {"": EITHER, LONG: EITHER, CTRL: EITHER})
        cases += [
            missing_value_case("cadre-raw-client", base(skip=("--endpoint",)), "--endpoint"),
            missing_value_case("cadre-raw-client", base(), "--linger-ms"),
            Case("cadre-raw-client", base(skip=("--endpoint",)), REFUSE, names=["--endpoint"]),
            Case("cadre-raw-client", base() + ["--key", keys["user"]], REFUSE, names=["--server-key"]),
            Case("cadre-raw-client", base() + ["--bogus", "1"], REFUSE, names=["--bogus"]),
            Case("cadre-raw-client", base(), EITHER),  # the baseline: nothing to send, exits 0
        ]
        self.run_all(cases)


if __name__ == "__main__":
    unittest.main()
