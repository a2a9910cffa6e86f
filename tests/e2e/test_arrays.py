"""End to end: job arrays as sbatch documents them (issue 18). Each index
runs as a job of its own with SLURM_ARRAY_* set and %A/%a in its output
name; a %N throttle caps how many run at once; `cadre queue` shows the
tasks not started as one row (12_[4,6%2]); hold, release and cancel act on
one task (12_3) or on the whole array (12); and an array survives a master
restart with every index run exactly once."""

import os
import re

from harness import ClusterTestCase, wait_until, write_script


def env_of(path):
    with open(path) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


class Arrays(ClusterTestCase):
    AGENTS = 2
    GPUS = 0

    def submit_script(self, text, *flags):
        path = write_script(self.c.path("array-%d.sh" % len(os.listdir(self.c.tmp))), text)
        r = self.c.cli("submit", "--parsable", *flags, path, cwd=self.c.tmp)
        return int(r.stdout.strip())

    def members(self, array_id):
        return [j for j in self.c.queue() if j.get("array_job_id") == array_id]

    def wait_array(self, array_id, states=("COMPLETED",), count=None):
        """Waits until every index of the array has a task that ended, and
        none is left to start; returns the tasks by index."""
        def done():
            jobs = self.members(array_id)
            if any(j["array_pending"] for j in jobs):
                return None
            tasks = {j["array_task_id"]: j for j in jobs}
            if count is not None and len(tasks) != count:
                return None
            if all(j["state"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL") for j in jobs):
                return tasks
            return None
        return wait_until(done, 120, "array %d to end" % array_id)

    def test_each_index_runs_with_slurms_variables_and_the_throttle_holds(self):
        log = self.c.path("intervals.log")
        array = self.submit_script("""
            #!/bin/bash
            #SBATCH --array=0-6:2%2
            #SBATCH -o arr-%A_%a.out
            #SBATCH -J sweep
            env | grep -E '^SLURM_(ARRAY|JOB_ID=)'
            start=$(date +%s.%N); sleep 1.5; echo "$SLURM_ARRAY_TASK_ID $start $(date +%s.%N)" >> """ + log + """
            """)
        # Before its first task starts, or while the throttle holds the rest,
        # the array's tasks not started are one row.
        seen = set()

        def collapsed_row():
            for j in self.c.queue(all_jobs=False):
                if j.get("array_job_id") == array and j["array_pending"]:
                    seen.add(j["display_id"])
            return any(re.fullmatch(r"%d_\[[0-9,:-]+%%2\]" % array, s) for s in seen)
        wait_until(collapsed_row, 60, "a collapsed row for array %d" % array)
        table = self.c.cli("queue").stdout
        self.assertRegex(table, r"\b%d_(\[[0-9,:-]+%%2\]|[0246])\b" % array)

        tasks = self.wait_array(array, count=4)
        self.assertEqual(sorted(tasks), [0, 2, 4, 6])
        ids = set()
        for index, job in tasks.items():
            self.assertEqual(job["state"], "COMPLETED", job)
            self.assertEqual(job["display_id"], "%d_%d" % (array, index))
            env = env_of(self.c.path("arr-%d_%d.out" % (array, index)))
            self.assertEqual(env["SLURM_ARRAY_JOB_ID"], str(array))
            self.assertEqual(env["SLURM_ARRAY_TASK_ID"], str(index))
            self.assertEqual(env["SLURM_ARRAY_TASK_COUNT"], "4")
            self.assertEqual(env["SLURM_ARRAY_TASK_MIN"], "0")
            self.assertEqual(env["SLURM_ARRAY_TASK_MAX"], "6")
            self.assertEqual(env["SLURM_ARRAY_TASK_STEP"], "2")
            self.assertEqual(env["SLURM_JOB_ID"], str(job["id"]))
            ids.add(job["id"])
        self.assertEqual(len(ids), 4, "each task is a job of its own")
        self.assertIn(array, ids, "the array's id is one of its tasks' (the last to start), as in Slurm")

        # %2: never more than two tasks ran at the same moment.
        with open(log) as f:
            spans = [tuple(float(x) for x in line.split()[1:]) for line in f]
        self.assertEqual(len(spans), 4)
        for start, _ in spans:
            running = sum(1 for s, e in spans if s <= start < e)
            self.assertLessEqual(running, 2, spans)

    def test_hold_release_and_cancel_act_on_one_task_or_the_whole_array(self):
        array = self.submit_script("""
            #!/bin/sh
            #SBATCH --array=1-5
            #SBATCH --hold
            #SBATCH -o held-%a.out
            echo ran $SLURM_ARRAY_TASK_ID
            """)
        row = self.c.show(array)
        self.assertEqual(row["state"], "PENDING")
        self.assertEqual(row["reason"], "JobHeldUser")
        self.assertEqual(row["display_id"], "%d_[1-5]" % array)

        # One task released: it alone runs; the others stay held.
        self.c.cli("release", "%d_3" % array)
        tasks = {}
        wait_until(lambda: tasks.update({j["array_task_id"]: j for j in self.members(array)}) or
                   (3 in tasks and tasks[3]["state"] == "COMPLETED"), 60, "task 3 to complete")
        self.assertEqual(self.c.show(array)["display_id"], "%d_[1-2,4-5]" % array)
        self.assertFalse(os.path.exists(self.c.path("held-1.out")))

        # One task cancelled before it started; then the rest released.
        self.c.cli("cancel", "%d_5" % array)
        r = self.c.cli("cancel", "%d_9" % array, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no active task %d_9" % array, r.stderr)
        self.c.cli("release", str(array))
        tasks = self.wait_array(array, count=5)
        self.assertEqual({i: j["state"] for i, j in tasks.items()},
                         {1: "COMPLETED", 2: "COMPLETED", 3: "COMPLETED", 4: "COMPLETED", 5: "CANCELLED"})
        for i in (1, 2, 3, 4):
            with open(self.c.path("held-%d.out" % i)) as f:
                self.assertEqual(f.read(), "ran %d\n" % i)
        self.assertFalse(os.path.exists(self.c.path("held-5.out")))

        # The array's id cancels every task: running ones and those not started.
        big = self.submit_script("""
            #!/bin/sh
            #SBATCH --array=0-99%3
            sleep 60
            """)
        wait_until(lambda: sum(1 for j in self.members(big) if j["state"] == "RUNNING") == 3, 60,
                   "three tasks of array %d to run" % big)
        self.c.cli("cancel", str(big))
        def all_cancelled():
            jobs = self.members(big)
            return jobs if all(j["state"] == "CANCELLED" for j in jobs) else None
        jobs = wait_until(all_cancelled, 60, "array %d to be cancelled" % big)
        self.assertEqual(len(jobs), 4, "three tasks that ran and the record of the 97 never started")
        record = [j for j in jobs if j["array_pending"]]
        self.assertEqual(record[0]["display_id"], "%d_[3-99%%3]" % big)

    def test_an_array_survives_a_master_restart_and_runs_each_index_once(self):
        array = self.submit_script("""
            #!/bin/sh
            #SBATCH --array=10-13%1
            #SBATCH -o once-%a.out
            echo ran $SLURM_ARRAY_TASK_ID
            sleep 1
            """)
        wait_until(lambda: any(j["state"] == "RUNNING" for j in self.members(array)), 60, "a task to run")
        self.c.restart_master()
        tasks = self.wait_array(array, count=4)
        self.assertEqual(sorted(tasks), [10, 11, 12, 13])
        for i in range(10, 14):
            self.assertEqual(tasks[i]["state"], "COMPLETED", tasks[i])
            with open(self.c.path("once-%d.out" % i)) as f:
                self.assertEqual(f.read(), "ran %d\n" % i)
