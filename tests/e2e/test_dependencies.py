"""End to end: job dependencies as sbatch documents them (issue 18):
afterok, afternotok, afterany and after, ',' (all) and '?' (any), singleton,
a whole array as the job waited for, --kill-on-invalid-dep, the pending
reasons Dependency and DependencyNeverSatisfied, an id no one submitted
refused, and dependencies that hold across a master restart, including on
jobs that ended before it."""

from harness import ClusterTestCase, wait_until, write_script


class Dependencies(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def dep(self, command, dependency, *flags):
        return self.c.submit(command, "--dependency=" + dependency, *flags)

    def wait_reason(self, job, reason):
        return wait_until(lambda: self.c.show(job)["reason"] == reason or None, 60,
                          "job %d to wait with reason %s" % (job, reason))

    def test_a_chain_with_afterok_afternotok_afterany_and_after(self):
        # It ends when the test says so: the waiting reasons are read first,
        # however slow the machine.
        release = self.c.marker("first-may-end")
        first = self.c.submit("while [ ! -e %s ]; do sleep 0.1; done; exit 0" % release)
        ok = self.dep("true", "afterok:%d" % first)
        notok = self.dep("true", "afternotok:%d" % first)
        killed = self.dep("true", "afternotok:%d" % first, "--kill-on-invalid-dep=yes")
        anyway = self.dep("true", "afterany:%d" % first)
        started = self.dep("true", "after:%d" % first)
        self.assertEqual(self.c.show(ok)["dependency"], "afterok:%d" % first)
        self.wait_reason(ok, "Dependency")
        self.assertIn("Dependency=afterok:%d" % first, self.c.cli("show", str(ok)).stdout)
        open(release, "w").close()

        a = self.c.wait_state(first, "COMPLETED")
        for job in (ok, anyway):
            done = self.c.wait_state(job, "COMPLETED")
            self.assertGreaterEqual(done["start_time"], a["end_time"], "a dependent starts after its job ends")
            self.assertEqual(done["dependency"], "", "a dependency that held is gone, as in Slurm")
        s = self.c.wait_state(started, "COMPLETED")
        self.assertGreaterEqual(s["start_time"], a["start_time"])
        self.wait_reason(notok, "DependencyNeverSatisfied")
        self.assertEqual(self.c.show(notok)["state"], "PENDING")
        gone = self.c.wait_state(killed, "CANCELLED")
        self.assertIn("can never be satisfied", gone["reason"])

    def test_any_all_singleton_and_unknown_ids(self):
        bad = self.c.submit("exit 3")
        good = self.c.submit("true")
        self.c.wait_state(bad, "FAILED")
        self.c.wait_state(good, "COMPLETED")
        # Jobs that ended before the submit: their end is read from the store.
        either = self.dep("true", "afterok:%d?afterok:%d" % (bad, good))
        self.c.wait_state(either, "COMPLETED")
        both = self.dep("true", "afterok:%d,afterok:%d" % (bad, good))
        self.wait_reason(both, "DependencyNeverSatisfied")

        r = self.c.cli("submit", "--dependency=afterok:99999", "--", "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Job dependency problem: no job 99999", r.stderr)
        r = self.c.cli("submit", "--dependency=afterok:1,afterany:2?afterok:3", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot be mixed", r.stderr)

        # singleton: one job of a name and user at a time, in submit order.
        log = self.c.path("single.log")
        cmd = "echo start $(date +%%s.%%N) >> %s; sleep 1; echo end $(date +%%s.%%N) >> %s" % (log, log)
        one = self.c.submit(cmd, "-J", "solo", "--dependency=singleton")
        two = self.c.submit(cmd, "-J", "solo", "--dependency=singleton")
        self.wait_reason(two, "Dependency")
        self.c.wait_state(one, "COMPLETED")
        self.c.wait_state(two, "COMPLETED")
        with open(log) as f:
            events = [line.split() for line in f]
        self.assertEqual([e[0] for e in events], ["start", "end", "start", "end"], events)

    def test_a_whole_array_and_a_restart(self):
        array_script = write_script(self.c.path("arr.sh"), """
            #!/bin/sh
            #SBATCH --array=0-3%2
            sleep 1
            """)
        array = int(self.c.cli("submit", "--parsable", array_script).stdout.strip())
        after_array = self.dep("true", "afterok:%d" % array)
        after_task = self.dep("true", "afterok:%d_1" % array)
        slow = self.c.submit("sleep 3")
        after_both = self.dep("true", "afterok:%d,afterok:%d" % (array, slow))
        self.wait_reason(after_array, "Dependency")
        # The array ends (and its tasks leave the master's memory for the
        # store) while the master is down for a restart: the dependency is
        # judged from the store.
        t1 = wait_until(lambda: next((j for j in self.c.queue() if j.get("array_job_id") == array and
                                      j.get("array_task_id") == 1 and j["state"] == "COMPLETED"), None), 60,
                        "task 1 of the array to complete")
        self.c.wait_state(after_task, "COMPLETED")
        self.assertGreaterEqual(self.c.show(after_task)["start_time"], t1["end_time"])
        self.c.restart_master()
        done = self.c.wait_state(after_array, "COMPLETED")
        tasks = [j for j in self.c.queue() if j.get("array_job_id") == array]
        self.assertEqual(len(tasks), 4)
        self.assertTrue(all(t["state"] == "COMPLETED" for t in tasks), tasks)
        self.assertGreaterEqual(done["start_time"], max(t["end_time"] for t in tasks))
        self.c.wait_state(after_both, "COMPLETED")
        self.assertGreaterEqual(self.c.show(after_both)["start_time"], self.c.show(slow)["end_time"])

    def test_a_dependency_waits_through_a_restart_on_a_job_that_ended_before_it(self):
        first = self.c.submit("true")
        second = self.c.submit("sleep 3")
        waiter = self.dep("true", "afterok:%d:%d" % (first, second))
        self.c.wait_state(first, "COMPLETED")
        self.wait_reason(waiter, "Dependency")
        # first ended before the restart; the restarted master must still
        # know it ended COMPLETED when second ends.
        self.c.restart_master()
        self.assertEqual(self.c.show(waiter)["state"], "PENDING")
        self.c.wait_state(second, "COMPLETED")
        self.c.wait_state(waiter, "COMPLETED")
