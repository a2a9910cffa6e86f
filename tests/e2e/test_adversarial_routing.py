"""Adversarial end to end: nobody takes over an agent's connection.

With CURVE an agent's ZeroMQ routing id is derived from its key and the
master's (common/curve_keys.hpp, curve_routing_id), the master sends a
node's commands only there, and refuses any agent message that arrives
under another routing id or from a key not enrolled for that node. An
impostor that claims to be node n1 (under n1's old-style routing id
"agent:n1" or a random one; with a user's key, another agent's key, or
n1's own key) gets error replies and nothing else: no launch, kill,
taskAck or registerReply, while jobs on n1 run and n1 stays UP.

(A client that knows n1's derived routing id needs n1's or the master's
secret key, which an attacker does not have; that case is not tested.)
"""

import unittest

from adversary import HostileTestCase, error_text, kind_of, random_routing_id

# What an impostor must never be sent: a node's commands and the replies
# only a registered agent gets.
AGENT_TRAFFIC = ("launch", "kill", "taskAck", "registerReply", "pleaseRegister")


class RoutingIdHijack(HostileTestCase):
    AGENTS = 2

    def claim_n1(self, client):
        """Sends register and heartbeat for n1; returns their request ids."""
        register = client.send({"register": {
            "name": "n1", "address": "127.0.0.99",
            "total": {"millicores": "64000", "memoryMb": "262144", "gpus": 8},
            "isolation": "none",
        }})
        heartbeat = client.send({"heartbeat": {"name": "n1"}})
        return register, heartbeat

    def assert_refused(self, client, request_ids, who):
        for rid in request_ids:
            reply = client.wait_reply(rid)
            self.assertEqual(kind_of(reply), "error", "%s: request %d got %s, not an error" % (who, rid, reply))
            self.assertTrue(error_text(reply), "%s: an error reply says why" % who)

    def run_jobs_on_n1(self):
        """The other user runs a job on both nodes to completion and cancels
        a running one (so kills go out); both nodes stay UP."""
        done = self.b.submit("echo ran on $CADRE_NODE_NAME", "--nodes", "2")
        held = self.b.submit("exec sleep 300", "--nodes", "2")
        job = self.wait_state(done, "COMPLETED")
        self.assertIn("n1", [t["node"] for t in job["tasks"]])
        job = self.wait_state(held, "RUNNING")
        self.assertIn("n1", [t["node"] for t in job["tasks"]])
        r = self.b.cli("cancel", held)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_state(held, "CANCELLED")
        again = self.b.submit("true", "--nodes", "2")
        self.wait_state(again, "COMPLETED")
        self.c.wait_all_free(names=["n1", "n2"])
        nodes = {n["name"]: n["state"] for n in self.c.nodes()}
        self.assertEqual(nodes.get("n1"), "UP", nodes)
        self.assertEqual(nodes.get("n2"), "UP", nodes)

    def assert_only_errors(self, client, who):
        received = client.close()
        self.assertEqual(client.bad_input(), [], "%s: the raw client could not encode or decode" % who)
        kinds = [kind_of(e) for e in received]
        self.assertTrue(kinds, "%s got not even its error replies" % who)
        leaked = [e for e in received if kind_of(e) in AGENT_TRAFFIC]
        self.assertEqual(leaked, [], "%s was sent agent traffic meant for n1" % who)
        self.assertEqual(set(kinds), {"error"}, "%s got more than error replies: %s" % (who, kinds))

    def hijack(self, key, who):
        impostors = {
            who + " as agent:n1": self.c.raw(key=key, routing_id="agent:n1"),
            who + " under a random routing id": self.c.raw(key=key, routing_id=random_routing_id()),
        }
        for name, client in impostors.items():
            self.assert_refused(client, self.claim_n1(client), name)
        try:
            self.run_jobs_on_n1()
        except AssertionError as e:
            seen = {name: [kind_of(m) for m in client.snapshot()] for name, client in impostors.items()}
            raise AssertionError("%s\nwhat the impostors received meanwhile: %s" % (e, seen)) from None
        # They may try again while jobs run: still refused, still nothing else.
        for name, client in impostors.items():
            self.assert_refused(client, [client.send({"heartbeat": {"name": "n1"}})], name)
        for name, client in impostors.items():
            self.assert_only_errors(client, name)

    def test_a_user_key_cannot_take_over_an_agents_connection(self):
        self.hijack(self.a.key_in_keys, "user %s's key" % self.a.name)

    def test_another_agents_key_cannot_take_over_an_agents_connection(self):
        self.hijack(self.c.agent_specs["n2"]["key"], "agent n2's key")

    def test_an_agents_own_key_under_another_routing_id_is_refused(self):
        # A stolen connection attempt with n1's own key: the master sends
        # n1's commands only to the routing id derived from n1's key.
        self.hijack(self.c.agent_specs["n1"]["key"], "agent n1's own key")


if __name__ == "__main__":
    unittest.main()
