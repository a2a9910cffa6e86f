"""End to end: the CLI, every command, refuses hostile flag and environment
values with one clear line: exit 1 or 2, the flag or variable named, never a
signal or a hang. The values, fixtures and judging are hostile_sweep.py's;
the other programs are test_hostile_programs.py's.
"""

import os
import re
import signal
import unittest

import hostile_sweep as sweep
from hostile_sweep import *  # noqa: F401,F403 (the values, cases and HostileCase)

setUpModule = sweep.setUpModule
tearDownModule = sweep.tearDownModule


class CliGlobalOptions(HostileCase):
    """--master, --timeout, CADRE_MASTER and CADRE_TIMEOUT, for every command."""

    COMMANDS = (["nodes"], ["queue"], ["acct"], ["show", "1"], ["cancel", "1"], ["hold", "1"], ["release", "1"], ["partitions"],
                ["diag"],
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
        ("--mem", [], size_values(zero=EITHER), [], []),  # 0: all of each node's memory (whole nodes)
        ("--mem-per-cpu", [], size_values(zero=REFUSE), [], []),
        ("--mem-per-task", [], size_values(zero=EITHER), [], []),
        ("--gpus-per-task", [], gpu_counts, [], []),
        ("--gpus-per-node", [], gpu_counts, [], ["--nodes", "1"]),
        ("--gpus", ["-G"], gpu_counts, [], []),
        ("--cpus-per-gpu", [], count_values(zero=REFUSE), [], ["--gpus-per-task", "1"]),
        ("--mem-per-gpu", [], size_values(zero=REFUSE), [], ["--gpus-per-task", "1"]),
        ("--ntasks-per-gpu", [], dict(count_values(zero=REFUSE), **{"2": REFUSE}), [], ["-n", "2"]),
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
        ("--qos", ["-q"], dict(text_long, **{"": REFUSE}), ["QOS"], []),
        # A well-formed name is the master's to judge (no master answers here).
        ("--reservation", [], dict(text_long, **{"": REFUSE, "maint": EITHER}), ["reservation"], []),
        ("--switches", [], dict(count_values(zero=REFUSE, above=("100001",)),
                                **{"1@abc": REFUSE, "1@-5": REFUSE, "@5": REFUSE, "1@": REFUSE, "@": REFUSE,
                                   "1@" + LONG: REFUSE}), [], []),
        ("--switches-wait", [], duration_values(), [], ["--switches", "1"]),
        ("--constraint", ["-C"], dict({x: REFUSE for x in (" ", "a&", "gpu*2", "(a", "[a|b", "a b", LONG, CTRL,
                                                          NEWLINE, BAD_UTF8)}, **{"": EITHER}), [], []),
        ("--mail-type", [], dict({x: REFUSE for x in ("", " ", "SOMETIMES", "END;FAIL", "END,", LONG, CTRL,
                                                      NEWLINE)}, **{"END,FAIL": EITHER, "none": EITHER}), [], []),
        ("--mail-user", [], dict({x: REFUSE for x in ("", " ", "-oQ/tmp/x", "a b", "a,b", LONG, CTRL, NEWLINE,
                                                      BAD_UTF8)}, **{"ada@example.org": EITHER}), [], []),
        ("--open-mode", [], dict({x: REFUSE for x in ("", " ", "overwrite", "APPEND", LONG, CTRL, NEWLINE)},
                                 **{"append": EITHER, "truncate": EITHER}), [], []),
        ("--begin", ["-b"], dict({x: REFUSE for x in ("", " ", "soon", "25:00", "12:60", "2026-02-30", "now+",
                                                     "now+99999999999999999999", "uts99999999999999", LONG, CTRL,
                                                     NEWLINE, BAD_UTF8)}, **{"now+1hour": EITHER}), [], []),
        # A deadline without a time limit, or one already past, is refused by the master.
        ("--deadline", [], dict({x: REFUSE for x in ("", " ", "soon", "25:00", "now+", "now+99999999999999999999",
                                                     LONG, CTRL, NEWLINE, BAD_UTF8)},
                                **{"now+1hour": EITHER, "now": EITHER}), [], ["--time", "10"]),
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
        bad_line = os.path.join(sweep.FX.fx, "from-bad-line")
        with open(bad_line, "w") as f:
            f.write("-- true\n--nodes -1 -- true\n")
        cases = []
        for path, (expect, unprivileged) in sweep.FX.files().items():
            for pre in ([], ["--parsable"]):
                c = Case("cadre", ["submit"] + pre + ["--from", path], expect, names=["--from"], value=path,
                         unprivileged=unprivileged)
                cases.append(c)
        cases += [
            Case("cadre", ["submit", "--from", bad_line], REFUSE, names=["--nodes"]),
            Case("cadre", ["submit", "--from=" + sweep.FX.missing], REFUSE, names=["--from"], value=sweep.FX.missing),
            Case("cadre", ["submit", "--from", "-"], REFUSE, names=["--from", "standard input"]),  # stdin is empty
            Case("cadre", ["submit", "--from", "-"], REFUSE, names=["standard input"], stdin=sweep.FX.garbage),
            Case("cadre", ["submit", "--from"], REFUSE, names=["--from"]),
            Case("cadre", ["submit", "--from", sweep.FX.words, "--nodes", "2"], REFUSE, names=["--from", "--nodes"]),
        ]
        self.run_all(cases)

    def test_batch_script(self):
        cases = []
        for path, (expect, unprivileged) in sweep.FX.files().items():
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
            cases.append(Case("cadre", ["submit", sweep.FX.write(name, text)], REFUSE, names=[flag]))
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
            for verb in ("hold", "release"):
                cases.append(Case("cadre", [verb, value], expect, names=["job id"], value=value))
        cases += [
            Case("cadre", ["show"], REFUSE, names=["job id"]),
            Case("cadre", ["show", "1", "2"], REFUSE, names=["job id"]),
            Case("cadre", ["show", "1", "--json=1"], REFUSE, names=["--json"]),
            Case("cadre", ["cancel"], REFUSE, names=["job id"]),
            Case("cadre", ["cancel", "--bogus", "1"], REFUSE, names=["--bogus"]),
            Case("cadre", ["hold"], REFUSE, names=["job id"]),
            Case("cadre", ["release", "--bogus", "1"], REFUSE, names=["--bogus"]),
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
            Case("cadre", ["keygen", sweep.FX.under_file], REFUSE, value=sweep.FX.under_file),
            Case("cadre", ["keygen", sweep.FX.long], REFUSE, value=sweep.FX.long),
            Case("cadre", ["keygen", os.path.join(sweep.FX.read_only, "key")], REFUSE,
                 value=os.path.join(sweep.FX.read_only, "key"), unprivileged=True),
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
                             ("--mem", size_values(zero=EITHER)), ("--gpus-per-task", count_values(zero=EITHER))):
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


class CliJobFilters(HostileCase):
    """cadre queue's filters (squeue's: comma lists) and cadre cancel's
    (scancel's: one value each), and cancel's refused --signal and
    --interactive."""

    TEXT = {"": REFUSE, " ": EITHER, LONG: REFUSE, BAD_UTF8: REFUSE, CTRL: REFUSE, NEWLINE: REFUSE}
    # Job names may hold any text cadre submit takes.
    NAMES = dict(TEXT, **{CTRL: EITHER, NEWLINE: EITHER})

    def value_cases(self, command, flag, aliases, values, suffix=()):
        cases = flag_cases("cadre", [command], flag, values, names=aliases, suffix=list(suffix))
        cases.append(missing_value_case("cadre", [command], flag, names=aliases))
        for alias in aliases:
            cases.append(Case("cadre", [command, alias, LONG] + list(suffix), REFUSE, names=[flag] + aliases))
        cases.append(Case("cadre", [command, flag + "=", *suffix], REFUSE, names=[flag] + aliases))
        return cases

    def test_queue_filters(self):
        lists = {"a,,b": REFUSE, ",": REFUSE, "a,": REFUSE, "a,b": EITHER}
        cases = []
        for flag, aliases, values in (
            ("--user", ["-u"], dict(self.TEXT, **lists, **{"0": EITHER, "99999999999999999999": EITHER})),
            ("--partition", ["-p"], dict(self.TEXT, **lists)),
            ("--account", ["-A"], dict(self.TEXT, **lists)),
            ("--name", ["-n"], dict(self.NAMES, **lists)),
            ("--states", ["-t"], {x: REFUSE for x in ("", " ", "abc", "PD,", ",R", "PD,,R", "1", LONG, CTRL,
                                                      NEWLINE, BAD_UTF8)} | {"all": EITHER, "pd,R,cd": EITHER,
                                                                             "S,CG": EITHER}),
            ("--jobs", ["-j"], dict(CliOtherCommands.JOB_IDS, **{"1,": REFUSE, ",1": REFUSE, "1,,2": REFUSE,
                                                                  "1,2": EITHER})),
        ):
            cases += self.value_cases("queue", flag, aliases, values)
        cases += [
            Case("cadre", ["queue", "--me=1"], REFUSE, names=["--me"]),
            Case("cadre", ["queue", "--me", "-u", "x"], REFUSE, names=["--me", "--user"]),
            Case("cadre", ["queue", "--me"], EITHER),
        ]
        self.run_all(cases)

    def test_listing_formats(self):
        """-o/--format and -O/--Format of cadre queue (squeue's letters and
        names) and of cadre nodes and partitions (sinfo's)."""
        letters = {x: REFUSE for x in ("", " ", "%", "%.", "%@", "%i %", "%99999i", LONG, CTRL, NEWLINE, BAD_UTF8)}
        named = {x: REFUSE for x in ("", ",", "Bogus", "a,,b", LONG, CTRL, NEWLINE, BAD_UTF8)}
        cases = []
        for command, letter, name in (("queue", "%.10i %T %R", "JobID:8,state"), ("nodes", "%N %c %T", "NodeList,CPUs"),
                                      ("partitions", "%P %D %t", "Partition,Nodes")):
            cases += self.value_cases(command, "--format", ["-o"], dict(letters, **{letter: EITHER, "%all": EITHER}))
            cases += self.value_cases(command, "--Format", ["-O"], dict(named, **{name: EITHER}))
            cases.append(Case("cadre", [command, "-o", letter, "--json"], REFUSE, names=["--json"]))
        cases += [
            Case("cadre", ["queue", "-h", "--start"], EITHER),
            Case("cadre", ["queue", "--start=1"], REFUSE, names=["--start"]),
            Case("cadre", ["queue", "--noheader=1"], REFUSE, names=["--noheader"]),
        ]
        self.run_all(cases)

    def test_acct_options(self):
        """cadre acct's (sacct's) filters, time window, format and delimiter."""
        lists = {"a,,b": REFUSE, ",": REFUSE, "a,": REFUSE, "a,b": EITHER}
        times = {x: REFUSE for x in ("", " ", "soon", "25:00", "now+", "2026-13-01", LONG, CTRL, NEWLINE, BAD_UTF8)}
        times.update({"now-1day": EITHER, "2026-01-01T10:00": EITHER, "0101": EITHER, "midnight": EITHER})
        cases = []
        for flag, aliases, values in (
            ("--user", ["-u"], dict(self.TEXT, **lists, **{"0": EITHER})),
            ("--partition", ["-r"], dict(self.TEXT, **lists)),
            ("--accounts", ["-A"], dict(self.TEXT, **lists)),
            ("--name", [], dict(self.NAMES, **lists)),
            ("--state", ["-s"], {x: REFUSE for x in ("", " ", "abc", "CD,", "1", LONG, CTRL, NEWLINE, BAD_UTF8)}
             | {"cd,F,to": EITHER, "OOM": EITHER}),
            ("--jobs", ["-j"], dict(CliOtherCommands.JOB_IDS, **{"1,": REFUSE, "1,,2": REFUSE, "1.batch": REFUSE,
                                                                  "1_x": REFUSE, "1,2": EITHER, "1_7": EITHER,
                                                                  "1_[1,3],2": EITHER})),
            ("--starttime", ["-S"], times),
            ("--endtime", ["-E"], times),
            ("--format", ["-o"], {x: REFUSE for x in ("", ",", "Bogus", "JobID,,State", "JobID%", "JobID%0",
                                                      "JobID%99999", "JobID%x", LONG, CTRL, NEWLINE, BAD_UTF8)}
             | {"JobID,jobname%30,State%-12": EITHER, "ALL": EITHER}),
            ("--delimiter", [], {"": REFUSE, CTRL: REFUSE, NEWLINE: REFUSE, LONG: REFUSE, ",": EITHER}),
        ):
            cases += self.value_cases("acct", flag, aliases, values)
        cases += [
            Case("cadre", ["acct", "-S", "now", "-E", "now-1day"], REFUSE, names=["--starttime", "--endtime"]),
            Case("cadre", ["acct", "--me", "-u", "x"], REFUSE, names=["--me", "--user"]),
            Case("cadre", ["acct", "42"], REFUSE, value="42"),
            Case("cadre", ["acct", "-e"], EITHER),
            Case("cadre", ["acct", "-X", "-n", "-P", "-b", "-l", "-a", "--array", "-D", "-L"], EITHER),
        ]
        self.run_all(cases)

    def test_cancel_filters(self):
        cases = []
        for flag, aliases, values in (
            ("--user", ["-u"], dict(self.TEXT, **{"a,b": EITHER, "0": EITHER})),
            ("--partition", ["-p"], self.TEXT),
            ("--account", ["-A"], self.TEXT),
            ("--name", ["-n", "--jobname"], self.NAMES),
            ("--state", ["-t"], {x: REFUSE for x in ("", " ", "abc", "CD", "S", "SUSPENDED", "PD,R", "all", LONG,
                                                     CTRL, NEWLINE, BAD_UTF8)} | {"pd": EITHER, "RUNNING": EITHER}),
            ("--signal", ["-s"], {x: REFUSE for x in ("KILL", "9", "TERM", "", LONG, CTRL, NEWLINE)}),
        ):
            cases += self.value_cases("cancel", flag, aliases, values)
            cases += self.value_cases("cancel", flag, aliases, {"": REFUSE, LONG: REFUSE}, suffix=["1"])
        cases += [
            Case("cadre", ["cancel", "-i", "1"], REFUSE, names=["--interactive"]),
            Case("cadre", ["cancel", "--interactive", "--me"], REFUSE, names=["--interactive"]),
            Case("cadre", ["cancel", "--interactive=1", "1"], REFUSE, names=["--interactive"]),
            Case("cadre", ["cancel", "--me=1"], REFUSE, names=["--me"]),
            Case("cadre", ["cancel", "--me", "-u", "x"], REFUSE, names=["--me", "--user"]),
            Case("cadre", ["cancel", "--me", "abc"], REFUSE, names=["job id"], value="abc"),
            Case("cadre", ["cancel", "--me"], EITHER),
            Case("cadre", ["cancel", "-t", "PD", "1", "2"], EITHER),
        ]
        self.run_all(cases)

class CliKeys(HostileCase):
    """CADRE_KEY, CADRE_MASTER_KEY and ~/.cadre/{key,master.pub}: used over
    tcp, so the CLI is pointed at a tcp port (where nothing listens)."""

    def test_key_variables(self):
        keys = sweep.FX.keys()
        cases = []
        for var, other, other_value in (("CADRE_KEY", "CADRE_MASTER_KEY", keys["master.pub"]),
                                        ("CADRE_MASTER_KEY", "CADRE_KEY", keys["user"])):
            values = sweep.FX.files()
            values[""] = (EITHER, False)  # empty is unset: no key from the variable
            if var == "CADRE_KEY":
                values[keys["user.pub"]] = (REFUSE, False)  # a public key holds no secret
            for path, (expect, unprivileged) in values.items():
                cases.append(Case("cadre", ["nodes"], expect, names=[var], value=path,
                                  env={var: path, other: other_value}, unprivileged=unprivileged))
            cases.append(Case("cadre", ["nodes"], REFUSE, names=[var], value=sweep.FX.missing,
                              env={var: sweep.FX.missing, other: other_value}))
        # Both good: the plain "no answer" (exit 1).
        cases.append(Case("cadre", ["nodes"], EITHER, env={"CADRE_KEY": keys["user"],
                                                           "CADRE_MASTER_KEY": keys["master.pub"]}))
        self.run_all(cases)

    def test_key_files_in_home(self):
        keys = sweep.FX.keys()

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
            "key empty": (sweep.FX.empty, keys["master.pub"]),
            "key garbage": (sweep.FX.garbage, keys["master.pub"]),
            "key a fifo": ("fifo", keys["master.pub"]),
            "key public only": (keys["user.pub"], keys["master.pub"]),
            "master.pub a folder": (keys["user"], "folder"),
            "master.pub empty": (keys["user"], sweep.FX.empty),
            "master.pub garbage": (keys["user"], sweep.FX.words),
        }.items():
            which = ".cadre/key" if name.startswith("key") else ".cadre/master.pub"
            c = Case("cadre", ["nodes"], REFUSE, names=[which], setup=home(key, master), note="~/.cadre: " + name)
            cases.append(c)
        for value in ("", "/no/such/home", LONG, CTRL, sweep.FX.empty):
            cases.append(Case("cadre", ["nodes"], EITHER, env={"HOME": value}))
        self.run_all(cases)


# ---------------------------------------------------------------- cadre-master


if __name__ == "__main__":
    unittest.main()
