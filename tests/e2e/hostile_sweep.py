"""The machinery of the hostile-values sweep (test_hostile_flags.py for the
CLI, test_hostile_programs.py for the daemons, cadre-sim, the benchmarks and
cadre-raw-client): the hostile values of each kind of flag, the fixtures
(files, folders, FIFOs, keys), running one case and judging its outcome.
End to end: every program refuses hostile flag and environment values.

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

from harness import binary, free_port, processes_mentioning

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
        self.empty = self.write("empty-file", b"")
        self.garbage = self.write("garbage-file", b"\x00\xff\xfe garbage \x01\x1b[2J\n[[[ = = =\n\x00")
        self.words = self.write("words-file", b"this is not what you were looking for\n")
        self.unreadable = self.write("unreadable-file", b"x = 1\n")
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
        self.trace = self.write("trace.swf", b"; tiny trace\n"
                                 b"1 0 0 60 4 -1 -1 4 120 -1 1 1 1 -1 1 -1 -1 -1\n"
                                 b"2 10 0 30 2 -1 -1 2 60 -1 1 1 1 -1 1 -1 -1 -1\n")
        self._keys = None
        self._token = None

    def write(self, name, data):
        """A fixture file FX/name holding data (text or bytes); its path."""
        path = os.path.join(self.fx, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
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
        pids = processes_mentioning(case_dir, by_cwd=True)
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
            o.leftovers = processes_mentioning(case_dir, by_cwd=True)
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
