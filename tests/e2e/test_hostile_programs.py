"""End to end: cadre-master (and its key commands), cadre-agent (and join),
cadre-sim, the benchmarks and cadre-raw-client refuse hostile flag and
environment values with one clear line, and a daemon given one never starts.
The values, fixtures and judging are hostile_sweep.py's.
"""

import os
import re
import signal
import unittest

import hostile_sweep as sweep
from hostile_sweep import *  # noqa: F401,F403 (the values, cases and HostileCase)

setUpModule = sweep.setUpModule
tearDownModule = sweep.tearDownModule


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
        cases = flag_cases("cadre-master", master_base(state=False), "--state-dir", sweep.FX.folders(), value_named=True)
        cases.append(missing_value_case("cadre-master", master_base(state=False), "--state-dir"))
        cases.append(Case("cadre-master", master_base(state=False) + ["--state-dir", CTRL], EITHER))

        def db(kind):
            def setup(case_dir):
                os.makedirs(os.path.join(case_dir, "state"), mode=0o700)
                path = os.path.join(case_dir, "state", "cadre.db")
                if kind == "folder":
                    os.makedirs(path)
                else:
                    shutil.copy(sweep.FX.garbage, path)
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
        cases += flag_cases("cadre-master", master_base(), "--master-ports",
                            {"": REFUSE, " ": REFUSE, "29500": REFUSE, "80-90": REFUSE, "30000-29999": REFUSE,
                             "1024-65536": REFUSE, CTRL: REFUSE, LONG: REFUSE, "-1-5": REFUSE})
        cases += flag_cases("cadre-master", master_base(), "--mail-program",
                            {" ": REFUSE, "sendmail": REFUSE, "/no/such/mail": REFUSE, "/": REFUSE, CTRL: REFUSE,
                             LONG: REFUSE, "": EITHER, "/bin/true": EITHER})
        for flag in ("--node-timeout", "--max-retries", "--log-level", "--master-ports", "--mail-program", "--config",
                     "--key", "--agent-keys",
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
        cases = []
        for check in ([], ["--check-config"]):
            cases += flag_cases("cadre-master", master_base(), "--config", sweep.FX.files(empty=EITHER),
                                prefix=check, value_named=True)
            for name, text, key in (
                ("listen.toml", '[master]\nlisten = "tcp://127.0.0.1:-5"\n', "listen"),
                ("listen2.toml", '[master]\nlisten = ""\n', "listen"),
                ("timeout.toml", "[master]\nnode_timeout = -1\n", "node_timeout"),
                ("retries.toml", "[master]\nmax_retries = -1\n", "max_retries"),
                ("state.toml", '[master]\nstate_dir = ""\n', "state_dir"),
                ("level.toml", '[master]\nlog_level = "loud"\n', "log_level"),
                ("ctrl.toml", '[master]\nlog_level = "\\u0001"\n', "log_level"),
                ("key.toml", '[security]\nkey = "%s"\n' % sweep.FX.missing, "key"),
                ("bad.toml", "[master\n", "master"),
            ):
                # The config's own values, not overridden by the base flags.
                base = [] if key in ("listen", "state_dir") else master_base()
                if key == "listen":
                    base = ["--state-dir", os.path.join(CASE_DIR, "state")]
                elif key == "state_dir":
                    base = ["--listen", "tcp://127.0.0.1:" + PORT]
                cases.append(Case("cadre-master", base + check + ["--config", sweep.FX.write(name, text)], REFUSE,
                                  names=[key]))
        cases.append(Case("cadre-master", ["--check-config"], REFUSE, names=["--config"]))
        self.run_all(cases)

    def test_key_flags(self):
        keys = sweep.FX.keys()
        cases = []
        key_values = sweep.FX.files()
        key_values[keys["master.pub"]] = (REFUSE, False)  # no secret in it
        cases += flag_cases("cadre-master", master_base(), "--key", key_values, value_named=True)
        for flag in ("--agent-keys", "--user-keys"):
            values = {sweep.FX.empty: (REFUSE, False), sweep.FX.under_file: (REFUSE, False), sweep.FX.long: (REFUSE, False),
                      sweep.FX.no_access: (REFUSE, True), sweep.FX.fifo: (REFUSE, False),
                      os.path.join(CASE_DIR, "no-such-keys"): (EITHER, False), "": (EITHER, False)}
            cases += flag_cases("cadre-master", master_base() + ["--key", keys["master"]], flag, values,
                                value_named=True)
        cases += flag_cases("cadre-master", master_base(), "--local-socket",
                            {sweep.FX.folder: REFUSE, sweep.FX.under_file: REFUSE, sweep.FX.long: REFUSE,
                             os.path.join(sweep.FX.fx, "s" * 200): REFUSE, os.path.join(sweep.FX.fx, "no", "dir", "sock"): REFUSE,
                             "": EITHER, CTRL: EITHER},
                            value_named=True)
        cases += flag_cases("cadre-master", master_base(), "--admin-group",
                            {"": EITHER, "no-such-group-here": EITHER, CTRL: EITHER, LONG: EITHER})
        self.run_all(cases)

    def test_key_commands(self):
        keys = sweep.FX.keys()
        folders = ["--agent-keys", os.path.join(CASE_DIR, "agents"), "--user-keys", os.path.join(CASE_DIR, "users")]
        names = {x: REFUSE for x in ("", " ", "../x", "a/b", ".", "..", CTRL, NEWLINE, LONG, BAD_UTF8, "a b")}
        cases = []
        for command, pub in (("enroll-agent", keys["node.pub"]), ("enroll-user", keys["user.pub"])):
            for name, expect in names.items():
                cases.append(Case("cadre-master", folders + [command, name, pub], expect, value=name))
            for path, (expect, unprivileged) in sweep.FX.files().items():
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
            for path, (expect, unprivileged) in sweep.FX.folders().items():
                cases.append(Case("cadre-master", [flag, path, command, "n1", pub], expect, names=[flag],
                                  value=path, unprivileged=unprivileged))
        # enroll-agent NAME with no key file: the master's key, --endpoint, --package.
        new_node = ["--key", keys["master"]] + folders + ["enroll-agent", "n1"]
        cases += flag_cases("cadre-master", new_node, "--endpoint", endpoint_values("connect"))
        cases += flag_cases("cadre-master", new_node, "--package",
                            {"": REFUSE, " ": REFUSE, "a b": REFUSE, "x'y": REFUSE, "$(reboot)": REFUSE,
                             "a;b": REFUSE, CTRL: REFUSE, NEWLINE: REFUSE, LONG: EITHER})
        cases += flag_cases("cadre-master", folders + ["enroll-agent", "n1"], "--key", sweep.FX.files(), value_named=True)
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
            ("--features", dict({x: REFUSE for x in ("a,,b", "a b", "a|b", "x" * 65, CTRL, NEWLINE, LONG, BAD_UTF8,
                                                     ",".join("f%d" % i for i in range(65)))},
                                **{"": EITHER, "a100,ib": EITHER}), {}),
            ("--work-dir", sweep.FX.folders(), dict(value_named=True)),
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
        cases = []
        for check in ([], ["--check-config"]):
            cases += flag_cases("cadre-agent", agent_base(), "--config", sweep.FX.files(empty=EITHER), prefix=check,
                                value_named=True)
            for name, text, key, skip in (
                ("a-master.toml", '[agent]\nmaster = "tcp://127.0.0.1:-5"\n', "master", "--master"),
                ("a-master2.toml", '[agent]\nmaster = ""\n', "master", "--master"),
                ("a-cpus.toml", "[agent]\ncpus = -1\n", "cpus", "--cpus"),
                ("a-memory.toml", '[agent]\nmemory = "-5G"\n', "memory", "--memory"),
                ("a-name.toml", '[agent]\nname = "a b"\n', "name", "--name"),
                ("a-work.toml", '[agent]\nwork_dir = ""\n', "work_dir", "--work-dir"),
                ("a-grace.toml", "[agent]\nkill_grace = -1\n", "kill_grace", "--kill-grace"),
                ("a-key.toml", '[agent]\nkey = "%s"\nmaster_key = "%s"\n' % (sweep.FX.missing, sweep.FX.missing), "key", None),
                ("a-bad.toml", "[agent\n", "agent", None),
            ):
                base = agent_base(skip=(skip,)) if skip else agent_base()
                cases.append(Case("cadre-agent", base + check + ["--config", sweep.FX.write(name, text)], REFUSE,
                                  names=[key]))
        self.run_all(cases)

    def test_key_flags(self):
        keys = sweep.FX.keys()
        cases = []
        key_values = sweep.FX.files()
        key_values[keys["node.pub"]] = (REFUSE, False)  # no secret in it
        cases += flag_cases("cadre-agent", agent_base(), "--key", key_values,
                            suffix=["--master-key", keys["master.pub"]],
                            value_named=True)
        cases += flag_cases("cadre-agent", agent_base(), "--master-key", sweep.FX.files(), suffix=["--key", keys["node"]],
                            value_named=True)
        cases += [
            Case("cadre-agent", agent_base() + ["--key", keys["node"]], REFUSE, names=["--master-key"]),
            Case("cadre-agent", agent_base() + ["--master-key", keys["master.pub"]], REFUSE, names=["--key"]),
        ]
        # Where NVML is loaded from: a bad one is noted and GPUs are found
        # another way (or not at all), so the agent may start.
        for value in ("", sweep.FX.missing, sweep.FX.folder, sweep.FX.empty, sweep.FX.garbage, sweep.FX.long, sweep.FX.fifo, CTRL):
            cases.append(Case("cadre-agent", agent_base(skip=("--gpus",)), EITHER, env={"CADRE_NVML_LIB": value}))
        self.run_all(cases)

    def test_join(self):
        token = sweep.FX.token()
        etc = ["--config-dir", os.path.join(CASE_DIR, "etc")]
        tokens = {x: REFUSE for x in ("", " ", "garbage", "cadre1:", "cadre1:!!!!", "cadre1:" + "A" * 5000, CTRL,
                                      NEWLINE, LONG, BAD_UTF8, token[:-5], token + "x", token[:7] + "\x01" + token[8:])}
        cases = []
        for value, expect in tokens.items():
            cases.append(Case("cadre-agent", ["join", value] + etc, expect, names=["token"]))
        cases += [
            Case("cadre-agent", ["join", "-"] + etc, REFUSE, names=["token", "stdin"]),  # stdin is empty
            Case("cadre-agent", ["join", "-"] + etc, REFUSE, names=["token"], stdin=sweep.FX.garbage),
            Case("cadre-agent", ["join"] + etc, REFUSE, names=["token", "usage"]),
            Case("cadre-agent", ["join", token, "extra"] + etc, REFUSE, names=["usage"]),
            Case("cadre-agent", ["join", token, "--force=1"] + etc, REFUSE, names=["--force"]),
            Case("cadre-agent", ["join", token] + etc, EITHER),  # the baseline joins
        ]
        for path, (expect, unprivileged) in sweep.FX.folders().items():
            cases.append(Case("cadre-agent", ["join", token, "--config-dir", path], expect, names=["--config-dir"],
                              value=path, unprivileged=unprivileged))
        cases.append(missing_value_case("cadre-agent", ["join", token], "--config-dir"))
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-sim


def sim_base(skip=()):
    flags = [("--trace", sweep.FX.trace), ("--nodes", "4"), ("--cpus-per-node", "8"), ("--policy", "fcfs")]
    out = []
    for flag, value in flags:
        if flag not in skip:
            out += [flag, value]
    return out


class Sim(HostileCase):
    def test_flags(self):
        cases = []
        cases += flag_cases("cadre-sim", sim_base(skip=("--trace",)), "--trace", sweep.FX.files(empty=EITHER),
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
                            sweep.FX.files(), value_named=True)
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
            Case("cadre-sim", sim_base() + ["--node-list", sweep.FX.trace], REFUSE, names=["--node-list"]),
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

        cases = flag_cases("cadre-bench-fill-store", base(skip=("--state-dir",)), "--state-dir", sweep.FX.folders(),
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
            shutil.copy(sweep.FX.garbage, os.path.join(case_dir, "store", "cadre.db"))

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
            ("--benchmark_out", (sweep.FX.folder, sweep.FX.under_file, sweep.FX.long)),
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
        keys = sweep.FX.keys()

        def base(skip=()):
            flags = [("--endpoint", "tcp://127.0.0.1:" + PORT), ("--linger-ms", "0")]
            return [w for flag, value in flags if flag not in skip for w in (flag, value)]

        cases = flag_cases("cadre-raw-client", base(skip=("--endpoint",)), "--endpoint", endpoint_values("connect"))
        cases += flag_cases("cadre-raw-client", base(skip=("--linger-ms",)), "--linger-ms", count_values(zero=EITHER))
        cases += flag_cases("cadre-raw-client", base(), "--key", sweep.FX.files(),
                            suffix=["--server-key", keys["master.pub"]],
                            value_named=True)
        cases += flag_cases("cadre-raw-client", base(), "--server-key", sweep.FX.files(), suffix=["--key", keys["user"]],
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
