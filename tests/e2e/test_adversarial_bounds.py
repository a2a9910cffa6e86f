"""Adversarial end to end: bounds, and exactly one reply per request.

A hostile user sends 1 MB job names, accounts, output paths and working
folders, a cancel of a million ids and a submitMany of 10,001 jobs, on both
of the master's transports (tcp with CURVE, the local ipc socket), through
the CLI and raw on the wire. Each is refused with an error that names the
bound (common/limits.hpp), nothing is submitted, and meanwhile the other
user's `cadre queue` keeps answering. A submitMany with one bad job gets one
error naming that job and submits none of them; a request whose commit
fails gets exactly one error reply.
"""

import json
import os
import re
import unittest

from adversary import HostileTestCase, QueueProber, error_text, kind_of
from harness import free_port

MB = 1024 * 1024
TRANSPORTS = ("tcp", "ipc")
# The CLI flag and the JobRequest field of each bounded text.
FIELDS = {
    "name": ("--name", "name"),
    "account": ("--account", "account"),
    "output": ("--output", "outputPattern"),
    "workdir": ("--chdir", "workdir"),
}


def oversized(field, size):
    """A value of `size` bytes that is otherwise fine for the field."""
    if field == "workdir":
        return "/" + "d" * (size - 1)
    if field == "output":
        return "out-" + "o" * (size - 8) + ".txt"
    return "x" * size


class Bounds(HostileTestCase):
    AGENTS = 1

    def raw_client(self, transport):
        """User A's raw client: over tcp with their key, or on the local
        socket as their uid."""
        if transport == "tcp":
            return self.c.raw(key=self.a.key_in_keys)
        return self.c.raw(transport="ipc", user=self.a)

    def job_names(self, user):
        return {j["name"] for j in user.queue_json()}

    def assert_error(self, reply, *needles, what=""):
        self.assertEqual(kind_of(reply), "error", "%s: expected an error reply, got %s" % (what, str(reply)[:300]))
        for needle in needles:
            self.assertIn(needle, error_text(reply), what)

    # -------------------------------------------------------------- the CLI

    def test_the_cli_refuses_oversized_fields_before_sending(self):
        from_file = os.path.join(self.a.home, "jobs.txt")
        with QueueProber(self.b) as prober:
            for transport in TRANSPORTS:
                # Where nothing listens: an error naming the bound proves the
                # CLI refused before it tried to send.
                nowhere = ("tcp://127.0.0.1:%d" % free_port() if transport == "tcp"
                           else "ipc://" + self.c.path("sock", "nothing-here.sock"))
                for field, (flag, _) in FIELDS.items():
                    # 1 MB through a --from file (one argument cannot be that
                    # long: execve limits each to 128 KiB) ...
                    with open(from_file, "w") as f:
                        f.write("%s %s -- true\n" % (flag, oversized(field, MB)))
                    os.chown(from_file, self.a.uid, self.a.gid)
                    for master in (None, nowhere):
                        r = self.a.cli("--timeout", "5", "submit", "--from", from_file, transport=transport,
                                       master=master)
                        what = "%s: 1 MB %s in a --from file, to %s" % (transport, field, master or "the master")
                        self.assertNotEqual(r.returncode, 0, what)
                        self.assertIn("at most", r.stderr, what)
                    # ... and 100 kB as a flag.
                    for master in (None, nowhere):
                        r = self.a.cli("--timeout", "5", "submit", flag, oversized(field, 100 * 1024), "--", "true",
                                       transport=transport, master=master)
                        what = "%s: 100 kB %s as %s, to %s" % (transport, field, flag, master or "the master")
                        self.assertNotEqual(r.returncode, 0, what)
                        self.assertIn("at most", r.stderr, what)
        prober.assert_served(self)
        self.assertEqual(self.a.queue_json(), [], "nothing was submitted")

    # ---------------------------------------------------------- on the wire

    def refused_so_far(self):
        """`cadre diag`'s count of requests refused as invalid or over a limit."""
        r = self.b.cli("diag", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["messages"]["over_limit"]

    def test_oversized_fields_on_the_wire_get_an_error_naming_the_bound(self):
        refused_before = self.refused_so_far()
        sent = 0
        with QueueProber(self.b) as prober:
            for transport in TRANSPORTS:
                client = self.raw_client(transport)
                # A control: the same request with sane values is accepted.
                ok = client.wait_reply(client.send({"submit": {"request": self.a.job_request(name="sane")}}))
                self.assertEqual(kind_of(ok), "submitReply", "%s: a valid raw submit: %s" % (transport, ok))
                for field, (_, wire) in FIELDS.items():
                    request = self.a.job_request(**{wire: oversized(field, MB)})
                    reply = client.wait_reply(client.send({"submit": {"request": request}}))
                    self.assert_error(reply, "at most", what="%s: a 1 MB %s" % (transport, field))
                    request = self.a.job_request(name="many-" + field)
                    request[wire] = oversized(field, MB)
                    reply = client.wait_reply(client.send({"submitMany": {"requests": [request]}}))
                    self.assert_error(reply, "at most", what="%s: a 1 MB %s in submitMany" % (transport, field))
                    sent += 2
                self.assertEqual(client.bad_input(), [])
                client.close()
        prober.assert_served(self)
        names = sorted(j["name"][:40] for j in self.a.queue_json())
        self.assertEqual(names, ["sane", "sane"], "only the two valid submits went in")
        # Each refusal is counted where an admin looks: cadre diag.
        self.assertGreaterEqual(self.refused_so_far() - refused_before, sent)

    def test_a_cancel_of_a_million_ids_is_refused_naming_the_limit(self):
        mine = self.a.submit("exec sleep 300")
        self.wait_state(mine, "RUNNING")
        with QueueProber(self.b) as prober:
            for transport in TRANSPORTS:
                client = self.raw_client(transport)
                rid = client.send({"cancel": {"ids": list(range(1, 1000001)), "user": self.a.name}})
                reply = client.wait_reply(rid)
                self.assert_error(reply, "10000", what="%s: a cancel of 1,000,000 ids" % transport)
                client.close()
        prober.assert_served(self)
        self.assertEqual(self.c.show(mine)["state"], "RUNNING", "a refused cancel cancels nothing")
        self.assertEqual(self.a.cli("cancel", mine).returncode, 0)
        self.wait_state(mine, "CANCELLED")

    def test_a_submit_many_of_10001_jobs_is_refused(self):
        with QueueProber(self.b) as prober:
            for transport in TRANSPORTS:
                client = self.raw_client(transport)
                requests = [self.a.job_request(name="flood-%d" % i) for i in range(10001)]
                reply = client.wait_reply(client.send({"submitMany": {"requests": requests}}))
                self.assert_error(reply, what="%s: a submitMany of 10,001 jobs" % transport)
                client.close()
        prober.assert_served(self)
        self.assertEqual(self.a.queue_json(), [], "nothing was submitted")


class ExactlyOneReply(HostileTestCase):
    AGENTS = 1

    def one_reply(self, client, rid):
        """The only reply to rid. A later request is answered first (the
        master answers in order), then the client lingers for stragglers."""
        first = client.wait_reply(rid)
        client.wait_reply(client.send({"listJobs": {"all": True}}))
        client.close()
        replies = client.replies_to(rid)
        self.assertEqual(len(replies), 1, "request %d got %d replies: %s" % (rid, len(replies),
                                                                            [str(r)[:200] for r in replies]))
        return first

    def test_a_submit_many_with_one_bad_job_gets_one_error_naming_it_and_submits_none(self):
        for transport in ("tcp", "ipc"):
            client = (self.c.raw(key=self.a.key_in_keys, linger_ms=2000) if transport == "tcp"
                      else self.c.raw(transport="ipc", user=self.a, linger_ms=2000))
            names = ["%s-five-%d" % (transport, i) for i in range(1, 6)]
            requests = [self.a.job_request(name=n) for n in names]
            requests[2]["name"] = "bad" * 400  # job 3: over the 256-byte bound
            reply = self.one_reply(client, client.send({"submitMany": {"requests": requests}}))
            self.assertEqual(kind_of(reply), "error", "%s: %s" % (transport, str(reply)[:300]))
            text = error_text(reply)
            self.assertIn("job 3 of 5", text, transport)
            self.assertRegex(text, re.compile(r"\b(nothing|none|no job)\b", re.I),
                             "%s: the error says nothing was submitted" % transport)
            queued = {j["name"] for j in self.a.queue_json()}
            self.assertEqual(queued & set(names), set(), "%s: none of the 5 was submitted" % transport)


@unittest.skipIf(os.geteuid() != 0, "needs root to mount a small tmpfs")
class FailedCommit(HostileTestCase):
    AGENTS = 1

    def setUp(self):
        import test_storage  # its tmpfs helpers: a state folder that can fill up
        if test_storage.MOUNT_PROBLEM:
            self.skipTest(test_storage.MOUNT_PROBLEM)
        self.storage = test_storage
        from adversary import HostileCluster
        self.c = HostileCluster(agents=self.AGENTS, node_timeout=self.NODE_TIMEOUT, name="failedcommit")
        self.addCleanup(self._stop_cluster)
        test_storage.mount_tmpfs(self.c.state_dir, "4m")
        self.addCleanup(test_storage.unmount, self.c.state_dir)
        self.c.start()
        self.a, self.b = self.c.a, self.c.b

    def test_a_request_whose_commit_fails_gets_exactly_one_error_reply_on_the_local_socket(self):
        before = self.a.submit("true", transport="ipc")
        self.wait_state(before, "COMPLETED")
        filler = self.storage.fill(self.c.state_dir)
        try:
            client = self.c.raw(transport="ipc", user=self.a, linger_ms=2000)
            submit = client.send({"submit": {"request": self.a.job_request(name="on-a-full-disk")}})
            first = client.wait_reply(submit)
            many = client.send({"submitMany": {"requests": [self.a.job_request(name="many-on-a-full-disk")]}})
            second = client.wait_reply(many)
            client.wait_reply(client.send({"listJobs": {"all": True}}))
            client.close()
        finally:
            os.unlink(filler)
        for rid, reply, what in ((submit, first, "submit"), (many, second, "submitMany")):
            self.assertEqual(kind_of(reply), "error", "%s on a full disk: %s" % (what, str(reply)[:300]))
            self.assertEqual(len(client.replies_to(rid)), 1,
                             "%s on a full disk got %s" % (what, [str(r)[:200] for r in client.replies_to(rid)]))
        names = {j["name"] for j in self.a.queue_json()}
        self.assertNotIn("on-a-full-disk", names)
        self.assertNotIn("many-on-a-full-disk", names)


if __name__ == "__main__":
    unittest.main()
