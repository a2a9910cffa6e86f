"""End to end: `cadre diag` shows the master's own figures (getStats), as
counted by a real master after real agents and a real submit."""

import json
import unittest

from harness import ClusterTestCase, wait_until


class Diag(ClusterTestCase):
    AGENTS = 2

    def diag(self):
        return json.loads(self.c.cli("diag", "--json").stdout)

    def test_counts_passes_jobs_nodes_and_heartbeats_after_a_submit(self):
        self.c.wait_nodes_up()
        job = self.c.submit("sleep 30", "--ntasks", "1")
        self.c.wait_state(job, ("RUNNING",))
        # The pass that started the job is counted.
        def after_a_pass():
            d = self.diag()
            return d if d["scheduler"]["passes"] > 0 else None

        d = wait_until(after_a_pass, 30, "a scheduling pass in cadre diag")
        self.assertGreaterEqual(d["scheduler"]["max_pass_us"], d["scheduler"]["last_pass_us"])
        self.assertEqual(d["jobs"]["running"], 1)
        self.assertEqual(d["jobs"]["pending"], 0)
        self.assertEqual(d["nodes"], {"registered": 2, "up": 2})
        self.assertGreater(d["messages"]["handled"], 0)
        self.assertGreater(d["store"]["commits"], 0)
        self.assertGreater(d["process"]["rss_bytes"], 0)
        # Agents keep heartbeating: the count grows.
        first = d["messages"]["heartbeats"]
        wait_until(lambda: self.diag()["messages"]["heartbeats"] > first, 30, "more heartbeats in cadre diag")
        self.c.cancel(job)

    def test_the_table_names_each_figure(self):
        out = self.c.cli("diag").stdout
        for label in ("Scheduling passes:", "Jobs pending/running:", "Nodes registered/up:", "Master RSS:"):
            self.assertIn(label, out)

    def test_rejects_unknown_options(self):
        r = self.c.cli("diag", "--bogus", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)


if __name__ == "__main__":
    unittest.main()
