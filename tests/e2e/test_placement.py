"""End to end: placement options as sbatch documents them (issue 18):
-w/--nodelist runs a job on exactly the listed nodes (a host list, or a
file of names), -x/--exclude keeps it off some, and --exclusive gives a job
nodes that no other job shares while it runs, either way round; sbatch's
GPU-centred options (-G, --cpus-per-gpu, --mem-per-gpu, --ntasks-per-gpu)
and --mem=0 allocate what Slurm would; -p a,b runs a job in whichever
listed partition can start it."""

import json

from harness import Cluster, ClusterTestCase, wait_until, write_script


class Placement(ClusterTestCase):
    AGENTS = 3
    GPUS = 0

    def nodes_of(self, job):
        return sorted(t["node"] for t in self.c.wait_state(job, "COMPLETED")["tasks"])

    def test_nodelist_and_exclude_choose_the_nodes(self):
        self.assertEqual(self.nodes_of(self.c.submit("true", "-w", "node2")), ["node2"])
        self.assertEqual(self.nodes_of(self.c.submit("true", "-w", "node[1,3]", "-n", "4")),
                         ["node1", "node1", "node3", "node3"])
        for _ in range(3):
            self.assertEqual(self.nodes_of(self.c.submit("true", "-x", "node[1-2]")), ["node3"])
        names = self.c.path("hosts.txt")
        with open(names, "w") as f:
            f.write("node1\nnode2\n")
        self.assertEqual(self.nodes_of(self.c.submit("true", "--nodelist", names)), ["node1", "node2"])
        script = write_script(self.c.path("w.sh"), "#!/bin/sh\n#SBATCH -w node3\n#SBATCH -o w.out\nhostname\n")
        job = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        self.assertEqual(self.nodes_of(job), ["node3"])

        for flags, message in ((["-w", "nope"], "-w/--nodelist: no node nope"),
                               (["-w", "node1", "-N", "2"], "cadre runs a -w job on exactly the listed nodes"),
                               (["-w", "node[1-2]", "-n", "3"], "give a task count they divide"),
                               (["-w", "node[2-1]"], "-w/--nodelist")):
            r = self.c.cli("submit", *flags, "--", "true", check=False)
            self.assertNotEqual(r.returncode, 0, flags)
            self.assertIn(message, r.stderr)
        # Excluding every node leaves the job waiting, never on an excluded node.
        stuck = self.c.submit("true", "-x", "node[1-3]")
        wait_until(lambda: self.c.show(stuck)["reason"] not in ("", "Priority") or None, 30, "a wait reason")
        self.assertEqual(self.c.show(stuck)["state"], "PENDING")
        self.c.cancel(stuck)

    def test_exclusive_jobs_share_no_node(self):
        small = self.c.submit("sleep 60", "-w", "node1", "-c", "1")
        self.c.wait_state(small, "RUNNING")
        # node1 is busy with one cpu of eight: an exclusive job waits for it.
        whole = self.c.submit("true", "-w", "node1", "--exclusive")
        wait_until(lambda: self.c.show(whole)["reason"] in ("Resources", "Reservation") or None, 30,
                   "the exclusive job to wait: %s" % self.c.show(whole)["reason"])
        self.c.cancel(small)
        self.assertEqual(self.nodes_of(whole), ["node1"])

        # And the other way: nothing joins a node an exclusive job runs on.
        owner = self.c.submit("sleep 60", "-w", "node2", "-c", "1", "--exclusive")
        self.c.wait_state(owner, "RUNNING")
        guest = self.c.submit("true", "-w", "node2", "-c", "1")
        wait_until(lambda: self.c.show(guest)["reason"] in ("Resources", "Reservation") or None, 30,
                   "the guest to wait: %s" % self.c.show(guest)["reason"])
        elsewhere = self.c.submit("true", "-c", "1", "-x", "node3")
        self.assertEqual(self.nodes_of(elsewhere), ["node1"], "node2 is the exclusive job's alone")
        self.assertTrue(self.c.show(owner)["exclusive"])
        self.c.cancel(owner)
        self.assertEqual(self.nodes_of(guest), ["node2"])


class GpuOptions(ClusterTestCase):
    AGENTS = 2
    GPUS = 4

    def test_a_script_written_with_slurms_gpu_options_gets_what_it_asked_for(self):
        script = write_script(self.c.path("train.sh"), """#!/bin/sh
#SBATCH -N 2
#SBATCH -G 8
#SBATCH --ntasks-per-gpu=1
#SBATCH --cpus-per-gpu=2
#SBATCH --mem-per-gpu=1G
#SBATCH -o train.out
srun sh -c 'echo "$SLURM_PROCID $(hostname) $CUDA_VISIBLE_DEVICES"'
""")
        job = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        done = self.c.wait_state(job, "COMPLETED")
        self.assertEqual((done["ntasks"], done["tasks_per_node"]), (8, 4))
        self.assertEqual((done["cpus_per_task"], done["mem_per_task_mb"], done["gpus_per_task"]), (2, 1024, 1))
        with open(self.c.path("train.out")) as f:
            lines = sorted(line.split() for line in f if line.strip())
        self.assertEqual([int(l[0]) for l in lines], list(range(8)))
        for host in {l[1] for l in lines}:
            gpus = sorted(l[2] for l in lines if l[1] == host)
            self.assertEqual(len(set(gpus)), 4, "each of a node's 4 tasks has a GPU of its own: %s" % gpus)

        # --mem=0 (all of a node's memory): the job has whole nodes.
        whole = self.c.submit("true", "-N", "1", "--mem=0")
        self.assertTrue(self.c.wait_state(whole, "COMPLETED")["exclusive"])
        r = self.c.cli("submit", "-G", "3", "-N", "2", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --gpus-per-node", r.stderr)


class Features(ClusterTestCase):
    """-C/--constraint over the features agents report (--features)."""

    AGENTS = 4
    GPUS = 0
    AGENT_OVERRIDES = {
        "node1": {"args": ["--features", "a100,ib,rack1"]},
        "node2": {"args": ["--features", "a100,rack1"]},
        "node3": {"args": ["--features", "v100,ib,rack2"]},
        "node4": {"args": ["--features", "v100,ib,rack2"]},
    }

    def nodes_of(self, job):
        return sorted(t["node"] for t in self.c.wait_state(job, "COMPLETED")["tasks"])

    def test_constraints_choose_nodes_by_their_features(self):
        shown = {n["name"]: n["features"] for n in json.loads(self.c.cli("nodes", "--json").stdout)["nodes"]}
        self.assertEqual(shown["node1"], ["a100", "ib", "rack1"])
        self.assertIn("a100,ib,rack1", self.c.cli("nodes").stdout)

        self.assertEqual(self.nodes_of(self.c.submit("true", "-C", "a100&ib")), ["node1"])
        for _ in range(3):
            self.assertEqual(self.nodes_of(self.c.submit("true", "-C", "a100", "-x", "node1")), ["node2"])
        self.assertEqual(self.nodes_of(self.c.submit("true", "-N", "4", "-C", "a100|ib")),
                         ["node1", "node2", "node3", "node4"])
        # Matching OR: both nodes from one rack. rack1's node2 is busy, so
        # the gang goes to rack2 whole rather than straddling the racks.
        busy = self.c.submit("sleep 60", "-w", "node2", "-c", "8")
        self.c.wait_state(busy, "RUNNING")
        script = write_script(self.c.path("rack.sh"),
                              "#!/bin/sh\n#SBATCH -N 2\n#SBATCH --constraint=[rack1|rack2]\n#SBATCH -o rack.out\n"
                              "srun hostname\n")
        job = int(self.c.cli("submit", "--parsable", script).stdout.strip())
        self.assertEqual(self.nodes_of(job), ["node3", "node4"])
        self.assertEqual(self.c.show(job)["constraint"], "[rack1|rack2]")
        self.assertIn("Features=[rack1|rack2]", self.c.cli("show", str(job)).stdout)
        self.c.cancel(busy)

        # What no node has is refused at submit, naming the feature.
        r = self.c.cli("submit", "-C", "a100&h100", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no node has the feature 'h100'", r.stderr)
        r = self.c.cli("submit", "-C", "gpu*2", "--", "true", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("node counts", r.stderr)
        # Features that exist but never together: the job waits, never runs elsewhere.
        stuck = self.c.submit("true", "-C", "a100&rack2")
        wait_until(lambda: self.c.show(stuck)["reason"] not in ("", "Priority") or None, 30, "a wait reason")
        self.assertEqual(self.c.show(stuck)["state"], "PENDING")
        self.c.cancel(stuck)


class PartitionLists(ClusterTestCase):
    """-p a,b over partitions "a" (node1) and "b" (node2)."""

    CONFIG = """[scheduler]
interval = "1s"

[[partition]]
name = "a"
nodes = ["node1"]
default = true

[[partition]]
name = "b"
nodes = ["node2"]
"""

    def setUp(self):
        self.c = Cluster(agents=2, cpus=4, gpus=0, config=self.CONFIG, name="partlists")
        self.addCleanup(self._stop_cluster)
        self.c.start()

    def test_a_partition_list_runs_where_the_job_fits(self):
        release = self.c.marker("release")
        blocker = self.c.submit("while [ ! -e %s ]; do sleep 0.1; done" % release, "-p", "a", "-c", "4")
        self.c.wait_state(blocker, "RUNNING")
        job = self.c.submit('echo "$SLURM_JOB_PARTITION"', "-p", "a,b")
        done = self.c.wait_state(job, "COMPLETED")
        self.assertEqual(done["partition"], "b", "a was full")
        self.assertEqual([t["node"] for t in done["tasks"]], ["node2"])
        with open(self.c.output(job, 0)) as f:
            self.assertEqual(f.read().strip(), "b")

        # Waiting, it shows the list; update sets another.
        held = self.c.submit("true", "--hold", "-p", "a,b")
        self.assertEqual(self.c.show(held)["partition"], "a,b")
        self.assertIn("a,b", self.c.cli("queue", "-h", "-o", "%P", "-j", str(held)).stdout)
        self.c.cli("update", str(held), "Partition=b,a")
        self.assertEqual(self.c.show(held)["partition"], "b,a")
        r = self.c.cli("submit", "-p", "a,nope", "--", "true", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no partition 'nope'", r.stderr)
        open(release, "w").close()
        self.c.wait_state(blocker, "COMPLETED")
