"""End to end: the CLI fails fast and clearly on bad input or a missing master,
and the master survives garbage on its port."""

import os
import random
import socket
import struct
import time
import unittest

from harness import ClusterTestCase, free_port


class CliErrors(ClusterTestCase):
    AGENTS = 2
    GPUS = 4

    def assert_one_line_error(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, "expected failure, got stdout %r" % r.stdout)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, "expected one line on stderr, got %r" % r.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])
        return lines[0]

    def assert_no_job_was_queued(self):
        self.assertEqual(self.c.queue(all_jobs=True), [])

    def test_unknown_flag_fails_with_one_line_on_stderr(self):
        for args in (
            ["submit", "--bogus", "--", "true"],
            ["queue", "--bogus"],
            ["nodes", "--frobnicate"],
            ["show", "1", "--bogus"],
        ):
            with self.subTest(args=args):
                r = self.c.cli(*args, check=False)
                self.assert_one_line_error(r, "--")
                self.assertEqual(r.stdout, "")
        self.assert_no_job_was_queued()

    def test_unknown_command_fails_with_one_line_on_stderr(self):
        r = self.c.cli("frobnicate", check=False)
        self.assert_one_line_error(r, "frobnicate")

    def test_malformed_size_time_or_count_is_rejected_before_anything_is_queued(self):
        for args in (
            ["--mem-per-task", "12Q"],
            ["--mem-per-task", "G"],
            ["--mem-per-task", "-1G"],
            ["--time", "abc"],
            ["--time", "1:99:99"],
            ["--time", "-5"],
            ["--nodes", "0"],
            ["--gpus-per-task", "two"],
            ["--cpus-per-task", "1.5x"],
            ["--ntasks", "3", "--nodes", "2"],
        ):
            with self.subTest(args=args):
                r = self.c.cli("submit", *args, "--", "true", check=False)
                self.assert_one_line_error(r)
        r = self.c.cli("submit", "--nodes", "1", check=False)  # no command at all
        self.assert_one_line_error(r)
        self.assert_no_job_was_queued()

    def test_request_larger_than_any_node_is_rejected_at_submit_naming_the_largest_node(self):
        r = self.c.cli("submit", "--gpus-per-task", "64", "--", "true", check=False)
        line = self.assert_one_line_error(r, "largest")
        self.assertIn("4", line)
        r = self.c.cli("submit", "--mem-per-task", "1T", "--", "true", check=False)
        self.assert_one_line_error(r, "largest", "32G")
        r = self.c.cli("submit", "--nodes", "3", "--", "true", check=False)
        self.assert_one_line_error(r, "3 nodes")
        self.assert_no_job_was_queued()

    def test_cli_pointed_at_a_port_without_master_fails_within_its_timeout(self):
        port = free_port()
        endpoint = "tcp://127.0.0.1:%d" % port
        for args in (["nodes"], ["queue"], ["show", "1"], ["cancel", "1"], ["submit", "--", "true"]):
            with self.subTest(args=args):
                # The subprocess limit only catches a hang; the CLI's own
                # --timeout 1 is what ends it.
                r = self.c.cli("--timeout", "1", *args, master=endpoint, check=False, timeout=20)
                self.assert_one_line_error(r, "no answer")
        # The same through CADRE_MASTER and CADRE_TIMEOUT ...
        r = self.c.cli("nodes", master=False, env={"CADRE_MASTER": endpoint, "CADRE_TIMEOUT": "1"},
                       check=False, timeout=20)
        self.assert_one_line_error(r, "no answer", endpoint)
        # ... which the live cluster answers through the same variables.
        r = self.c.cli("nodes", master=False, env={"CADRE_MASTER": self.c.endpoint, "CADRE_TIMEOUT": "5"})
        self.assertIn("node1", r.stdout)

    def test_a_batch_without_an_answer_is_reported_as_unknown_not_as_refused(self):
        # A batch the master may have committed after the wait ran out is
        # not called "not submitted": a retry could duplicate it.
        jobs = self.c.path("unanswered.txt")
        with open(jobs, "w") as f:
            f.write("-- true\n-- true\n")
        endpoint = "tcp://127.0.0.1:%d" % free_port()
        r = self.c.cli("--timeout", "1", "submit", "--from", jobs, master=endpoint, check=False, timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no answer", r.stderr)
        self.assertIn("line 1 on were submitted is unknown", r.stderr)
        self.assertIn("cadre queue", r.stderr)

    def test_show_and_cancel_of_an_unknown_job_fail(self):
        r = self.c.cli("show", "4242", check=False)
        self.assert_one_line_error(r, "4242")
        r = self.c.cli("cancel", "4242", check=False)
        self.assert_one_line_error(r, "4242")


# --------------------------------------------------------------------------
# A minimal ZMTP 3.0 (NULL mechanism) DEALER, enough to hand the master's
# ROUTER well-framed messages whose content is garbage.


def zmtp_greeting():
    return b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


def zmtp_frame(body, more=False, command=False):
    flags = (0x01 if more else 0) | (0x04 if command else 0)
    if len(body) > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def zmtp_ready(socket_type=b"DEALER"):
    name = b"Socket-Type"
    body = b"\x05READY" + bytes([len(name)]) + name + struct.pack(">I", len(socket_type)) + socket_type
    return zmtp_frame(body, command=True)


def capnp_envelope(tag, version=1, request_id=0, child_data=None, child_ptrs=0):
    """A single-segment Cap'n Proto message whose root is an Envelope
    (2 data words, 1 pointer) with the given union tag. The union member is
    null, or a struct of child_data (bytes, whole words) and child_ptrs null
    pointers."""

    def struct_ptr(offset, data_words, ptr_count):
        return struct.pack("<iHH", offset << 2, data_words, ptr_count)

    words = struct_ptr(0, 2, 1)
    words += struct.pack("<HHI", version, tag, 0) + struct.pack("<Q", request_id)
    if child_data is None:
        words += b"\x00" * 8
    else:
        words += struct_ptr(0, len(child_data) // 8, child_ptrs) + child_data + b"\x00" * 8 * child_ptrs
    return struct.pack("<II", 0, len(words) // 8) + words


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


class GarbageOnTheWire(ClusterTestCase):
    AGENTS = 2

    def setUp(self):
        super().setUp()
        seed = int(os.environ.get("CADRE_E2E_SEED", "20240611"))
        self.rng = random.Random(seed)

    def connect(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.c.port), timeout=5)
        except OSError as e:
            self.fail_if_master_died("connecting: %s" % e)
            raise
        s.settimeout(5)
        return s

    def fail_if_master_died(self, doing):
        time.sleep(0.2)
        if self.c.master.poll() is not None:
            self.fail("cadre-master exited with %s (%s)" % (self.c.master.returncode, doing))

    def assert_master_still_serves(self):
        self.assertIsNone(self.c.master.poll(), "cadre-master exited with %s" % self.c.master.returncode)
        nodes = {n["name"]: n["state"] for n in self.c.nodes()}
        self.assertEqual(nodes.get("node1"), "UP", nodes)
        self.assertEqual(nodes.get("node2"), "UP", nodes)
        job_id = self.c.submit("true", "--nodes", "2")
        self.c.wait_state(job_id, "COMPLETED")

    def zmtp_handshake(self, s):
        s.sendall(zmtp_greeting())
        peer = recv_exactly(s, 64)
        self.assertEqual(peer[0], 0xFF, "the master's port does not speak ZMTP")
        s.sendall(zmtp_ready())
        # Skip the master's READY command.
        flags = recv_exactly(s, 1)[0]
        size = struct.unpack(">Q", recv_exactly(s, 8))[0] if flags & 0x02 else recv_exactly(s, 1)[0]
        recv_exactly(s, size)

    def test_master_survives_random_bytes_on_raw_tcp_connections(self):
        for i in range(40):
            s = self.connect()
            try:
                size = self.rng.choice([1, 7, 10, 64, 1000, 65536])
                s.sendall(self.rng.randbytes(size))
            except OSError:
                pass  # the master may hang up on us: that is fine
            finally:
                s.close()
        # A valid greeting signature followed by nonsense, and a connection
        # that is opened and dropped without a byte.
        for payload in (b"\xff" + b"\x00" * 8 + b"\x7f" + os.urandom(200), b""):
            s = self.connect()
            try:
                s.sendall(payload)
            except OSError:
                pass
            s.close()
        # A proper handshake, then frames announcing far more than any
        # message may hold (2^40 bytes, and the largest 64-bit size).
        for size in (1 << 40, (1 << 64) - 1):
            s = self.connect()
            try:
                self.zmtp_handshake(s)
                s.sendall(b"\x02" + struct.pack(">Q", size) + b"\x00" * 4096)
            except OSError:
                pass
            s.close()
        self.assert_master_still_serves()

    def test_master_survives_well_framed_zmtp_messages_full_of_garbage(self):
        s = self.connect()
        try:
            self.zmtp_handshake(s)

            messages = [b"", b"\x00", b"x" * 7, b"\x00" * 8, b"\xff" * 8, b"\x00" * 64]
            for _ in range(150):
                n = self.rng.choice([1, 2, 3, 8, 16, 24, 40, 100, 512, 4096])
                body = bytes(self.rng.getrandbits(8) for _ in range(n * 8 if self.rng.random() < 0.7 else n))
                messages.append(body)
            # Cap'n Proto-shaped: a plausible segment table over random words.
            for _ in range(100):
                words = self.rng.randint(1, 64)
                table = struct.pack("<II", 0, words)
                messages.append(table + self.rng.randbytes(words * 8))
            # Segment tables that lie about sizes and counts.
            messages.append(struct.pack("<II", 0, 0xFFFFFFF0) + b"\x00" * 8)
            messages.append(struct.pack("<II", 0xFFFFFFFF, 1) + b"\x00" * 8)
            messages.append(struct.pack("<II", 511, 1) + b"\x00" * 2048)
            for m in messages:
                s.sendall(zmtp_frame(m))
            # Multi-part messages, which no cadre peer sends.
            for _ in range(10):
                s.sendall(zmtp_frame(b"a" * 8, more=True) + zmtp_frame(b"b" * 16, more=True) + zmtp_frame(b"c" * 8))
            # Well-formed envelopes of every kind, known or not, with empty or
            # random content: requests with nothing in them, agent-only and
            # reply kinds, unknown union tags, a wrong protocol version.
            for tag in range(0, 24):
                s.sendall(zmtp_frame(capnp_envelope(tag, request_id=tag)))
                for _ in range(3):
                    data = self.rng.randbytes(8 * self.rng.randint(1, 5))
                    s.sendall(zmtp_frame(capnp_envelope(tag, request_id=self.rng.getrandbits(64), child_data=data,
                                                        child_ptrs=self.rng.randint(0, 6))))
            s.sendall(zmtp_frame(capnp_envelope(14, version=2)))
            s.sendall(zmtp_frame(capnp_envelope(14, version=0xFFFF)))
            # A pointer cycle: a root struct whose only pointer is itself
            # (offset -1, no data, one pointer).
            s.sendall(zmtp_frame(struct.pack("<II", 0, 1) + struct.pack("<iHH", -1 << 2, 0, 1)))

            # The master answers garbage with an error or nothing; draining
            # whatever came back must not block the test.
            s.settimeout(0.5)
            try:
                while s.recv(65536):
                    pass
            except (socket.timeout, OSError):
                pass
        except OSError as e:
            self.fail_if_master_died("the master hung up: %s" % e)
            raise
        finally:
            s.close()
        time.sleep(0.2)
        self.assert_master_still_serves()


if __name__ == "__main__":
    unittest.main()
