"""Adversarial end to end: who may be whom, and who may charge what.

One public key is one identity: the master's enroll commands refuse a key
that is already enrolled (under another user name, or an agent's key as a
user, or a user's as an agent) and say as what. Accounts ([accounts] in
cadre.toml) list their members: a user outside an account cannot charge it.
Users may lower their jobs' priority but only admins may raise it above the
default.
"""

import os
import unittest

from adversary import USER_NAMES, HostileTestCase


class KeyReuse(HostileTestCase):
    AGENTS = 1

    def assert_refused(self, what, *args):
        users_before = sorted(os.listdir(self.c.user_keys))
        agents_before = sorted(os.listdir(self.c.agent_keys))
        r = self.c.master_cmd(*args, check=False)
        self.assertNotEqual(r.returncode, 0, "%s was accepted: %s" % (what, r.stdout))
        self.assertIn("already enrolled as", r.stderr, what)
        self.assertEqual(sorted(os.listdir(self.c.user_keys)), users_before, "%s left a user key behind" % what)
        self.assertEqual(sorted(os.listdir(self.c.agent_keys)), agents_before, "%s left an agent key behind" % what)

    def test_a_key_already_enrolled_cannot_be_enrolled_again_under_another_identity(self):
        a_pub = self.a.key_in_keys + ".pub"
        n1_pub = self.c.agent_specs["n1"]["key"] + ".pub"
        self.assert_refused("user A's key as another user", "enroll-user", "cadre-e2e-adv-alias", a_pub)
        self.assert_refused("user A's key as user B", "enroll-user", self.b.name, a_pub)
        self.assert_refused("agent n1's key as a user", "enroll-user", self.a.name + "-agent", n1_pub)
        self.assert_refused("user A's key as an agent", "enroll-agent", "n9", a_pub)
        self.assert_refused("agent n1's key as another agent", "enroll-agent", "n9", n1_pub)
        # B's own key is untouched and still works.
        self.assertEqual(public_key_of(os.path.join(self.c.user_keys, self.b.name + ".pub")),
                         public_key_of(self.b.key_in_keys + ".pub"))
        r = self.b.cli("queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        # A fresh key is still enrolled as usual.
        fresh = self.c.keygen("fresh")
        r = self.c.master_cmd("enroll-user", "cadre-e2e-adv-fresh", fresh + ".pub", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)


def public_key_of(path):
    """The public-key value of a key file (enrolled copies differ in comments)."""
    with open(path) as f:
        for line in f:
            if line.strip().startswith("public-key"):
                return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("%s holds no public-key line" % path)


class AccountsAndPriority(HostileTestCase):
    AGENTS = 1
    # User A is in physics; user B is not. QOS vip is A's alone.
    CONFIG = ('[scheduler]\ninterval = "1s"\n\n[accounts]\nphysics = ["%s"]\n\n[[qos]]\nname = "normal"\n\n'
              '[[qos]]\nname = "vip"\nusers = ["%s"]\n' % (USER_NAMES[0], USER_NAMES[0]))

    def submit(self, user, *flags):
        return user.cli("submit", "--parsable", "--chdir", user.home, *flags, "--", "true")

    def test_only_listed_users_may_use_a_qos(self):
        r = self.submit(self.b, "--qos", "vip")
        self.assertNotEqual(r.returncode, 0, "B used QOS vip: %s" % r.stdout)
        self.assertIn("may not use QOS vip", r.stderr)
        self.assertEqual(self.b.queue_json(), [], "nothing of B's was submitted")
        r = self.submit(self.a, "--qos", "vip")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.wait_state(int(r.stdout), "COMPLETED")["qos"], "vip")

    def test_only_members_may_charge_an_account(self):
        r = self.submit(self.b, "--account", "physics")
        self.assertNotEqual(r.returncode, 0, "a non-member charged physics: %s" % r.stdout)
        self.assertIn("not a member", r.stderr)
        # Also raw on the local socket, where the kernel says who B is.
        client = self.c.raw(transport="ipc", user=self.b)
        reply = client.wait_reply(client.send({"submit": {"request": self.b.job_request(account="physics")}}))
        client.close()
        self.assertIn("error", reply, "a raw submit charging physics as a non-member: %s" % reply)
        self.assertIn("not a member", reply["error"]["message"])
        self.assertEqual(self.b.queue_json(), [], "nothing of B's was submitted")

        r = self.submit(self.a, "--account", "physics")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = self.wait_state(int(r.stdout), "COMPLETED")
        self.assertEqual(job["account"], "physics")
        # Their own name is always theirs to charge.
        r = self.submit(self.b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.wait_state(int(r.stdout), "COMPLETED")["account"], self.b.name)

    def test_only_admins_raise_a_jobs_priority_and_anyone_may_lower_it(self):
        r = self.submit(self.b, "--priority", "100")
        self.assertNotEqual(r.returncode, 0, "a non-admin raised their priority: %s" % r.stdout)
        self.assertIn("only admins", r.stderr)
        client = self.c.raw(transport="ipc", user=self.b)
        reply = client.wait_reply(client.send({"submit": {"request": self.b.job_request(priority=100)}}))
        client.close()
        self.assertIn("error", reply, "a raw submit with priority 100 from a non-admin: %s" % reply)
        self.assertIn("only admins", reply["error"]["message"])
        self.assertEqual(self.b.queue_json(), [], "nothing of B's was submitted")

        r = self.submit(self.b, "--priority", "-5")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = self.wait_state(int(r.stdout), "COMPLETED")
        self.assertEqual(job["priority"], -5)
        # Root is an admin: it may.
        job_id = self.c.submit("true", "--priority", "100")
        self.assertEqual(self.wait_state(job_id, "COMPLETED")["priority"], 100)


if __name__ == "__main__":
    unittest.main()
