"""End to end: what a node reports and enforces. GPU discovery through a
fake NVML library and a recorded nvidia-smi, GPU type requests, the
isolation each node has (cgroup v2 limits and OOM where the machine allows
it), and ranks run as the submitting user."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import REPO_ROOT, ClusterTestCase, build_dir, make_user

FAKE_NVML = os.path.join(build_dir(), "tests", "fake_nvml", "libfake-nvml.so")
RECORDED_SMI = os.path.join(REPO_ROOT, "tests", "unit", "testdata", "nvidia-smi-2x-a100-crlf.csv")
H100 = "NVIDIA H100 80GB HBM3"


def fake_smi_dir():
    """A folder with an `nvidia-smi` that prints recorded output."""
    d = tempfile.mkdtemp(prefix="cadre-e2e-smi-")
    path = os.path.join(d, "nvidia-smi")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec cat %s\n" % RECORDED_SMI)
    os.chmod(path, 0o755)
    return d


SMI_DIR = fake_smi_dir()


class GpuDiscovery(ClusterTestCase):
    AGENTS = 3
    AGENT_OVERRIDES = {
        # NVML: two H100s joined by NVLink.
        "node1": {"gpus": None, "env": {
            "CADRE_NVML_LIB": FAKE_NVML,
            "CADRE_FAKE_NVML_GPUS": "%s|81559|GPU-11111111-aaaa|1;%s|81559|GPU-22222222-bbbb|0" % (H100, H100)}},
        # NVML fails to start: the agent falls back to nvidia-smi (recorded A100 output).
        "node2": {"gpus": None, "env": {
            "CADRE_NVML_LIB": FAKE_NVML, "CADRE_FAKE_NVML_FAIL_INIT": "1",
            "PATH": SMI_DIR + ":" + os.environ.get("PATH", "/usr/bin:/bin")}},
        # Neither: no GPUs.
        "node3": {"gpus": None, "env": {"CADRE_NVML_LIB": "/nonexistent/libnvidia-ml.so.1"}},
    }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(SMI_DIR, ignore_errors=True)

    def setUp(self):
        if not os.path.exists(FAKE_NVML):
            self.skipTest("the fake NVML library is not built: %s" % FAKE_NVML)
        super().setUp()

    def test_each_node_reports_the_gpus_its_discovery_source_found(self):
        nodes = {n["name"]: n for n in self.c.nodes()}
        n1 = nodes["node1"]
        self.assertEqual(n1["gpus"], 2)
        self.assertEqual([g["model"] for g in n1["gpu_devices"]], [H100, H100])
        self.assertEqual([g["uuid"] for g in n1["gpu_devices"]], ["GPU-11111111-aaaa", "GPU-22222222-bbbb"])
        self.assertEqual([g["memory_mb"] for g in n1["gpu_devices"]], [81559, 81559])
        self.assertEqual([g["nvlink_peers"] for g in n1["gpu_devices"]], [[1], [0]])
        n2 = nodes["node2"]
        self.assertEqual(n2["gpus"], 2)
        self.assertEqual({g["model"] for g in n2["gpu_devices"]}, {"NVIDIA A100-SXM4-40GB"})
        self.assertEqual([g["memory_mb"] for g in n2["gpu_devices"]], [40960, 40960])
        self.assertEqual(nodes["node3"]["gpus"], 0)
        self.assertEqual(nodes["node3"]["gpu_devices"], [])

        table = self.c.cli("nodes").stdout
        self.assertIn("2x " + H100, table)
        self.assertIn("2x NVIDIA A100-SXM4-40GB", table)

    def test_a_gpu_type_request_lands_only_on_matching_nodes(self):
        h100 = self.c.submit("echo $CADRE_NODE_NAME $CUDA_VISIBLE_DEVICES", "--ntasks", "2", "--gpus-per-task", "1",
                             "--gpu-type", "h100")
        a100 = self.c.submit("echo $CADRE_NODE_NAME", "--ntasks", "2", "--gpus-per-task", "1", "--gpu-type", "A100")
        for job_id, node in ((h100, "node1"), (a100, "node2")):
            job = self.c.wait_state(job_id, "COMPLETED")
            self.assertEqual(job["gpu_type"], "h100" if node == "node1" else "A100")
            self.assertEqual({t["node"] for t in job["tasks"]}, {node})
        with open(self.c.output(h100, 0)) as f:
            self.assertEqual(f.read().split()[0], "node1")

        # A model no node has is refused at once, naming the models there are.
        r = self.c.cli("submit", "--gpu-type", "V100", "--gpus-per-task", "1", "--", "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("V100", r.stderr)
        self.assertIn(H100, r.stderr, "the error should list the models there are")


class Isolation(ClusterTestCase):
    AGENTS = 1
    GPUS = 0

    def isolation(self):
        return self.c.node("node1")["isolation"]

    def test_the_node_says_how_ranks_are_confined_and_enforces_memory_limits_where_it_can(self):
        isolation = self.isolation()
        self.assertIn(self.c.cli("nodes").stdout.split("\n")[1].split()[6], ("cgroup", "process"),
                      "the table shows the mechanism")
        if not isolation.startswith("cgroup v2"):
            # The fallback must say so and why, and ranks still run.
            self.assertTrue(isolation.startswith("process groups ("), isolation)
            self.assertGreater(len(isolation), len("process groups ()") + 10, "no reason given: " + isolation)
            with open(self.c.agent_log("node1")) as f:
                self.assertIn("ranks run in process groups", f.read())
            job_id = self.c.submit("true")
            self.c.wait_state(job_id, "COMPLETED")
            self.skipTest("cgroup limits not testable on this machine; the agent reports: " + isolation)

        # cpu.max holds the asked cpus (2 cpus = 200000 of every 100000 us).
        job_id = self.c.submit('cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/cpu.max 2>/dev/null '
                               '|| cat "$(grep -m1 cgroup2 /proc/self/mountinfo | cut -d" " -f5)$(cut -d: -f3 /proc/self/cgroup)/cpu.max"',
                               "--cpus-per-task", "2", "--mem-per-task", "256M")
        self.c.wait_state(job_id, "COMPLETED")
        with open(self.c.output(job_id, 0)) as f:
            self.assertEqual(f.read().split()[:2], ["200000", "100000"])

        # A rank that allocates more than it asked for is killed by the kernel.
        job_id = self.c.submit([shutil.which("python3") or "/usr/bin/python3", "-c",
                                "x = bytearray(512 << 20)\nfor i in range(0, len(x), 4096): x[i] = 1\nprint('survived')"],
                               "--mem-per-task", "64M")
        job = self.c.wait_state(job_id, "OUT_OF_MEMORY")
        self.assertIn("memory limit", job["reason"])


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd"),
                     "needs root and useradd to create a second user")
class Users(ClusterTestCase):
    AGENTS = 1
    GPUS = 0
    AGENT_OVERRIDES = {"node1": {"allow_root": False}}

    def test_ranks_run_as_the_submitting_user_and_root_jobs_are_refused(self):
        user = make_user("cadre-e2e-user", self.addCleanup)
        # A folder the user owns, reachable by everyone.
        shared = tempfile.mkdtemp(prefix="cadre-e2e-users-")
        self.addCleanup(shutil.rmtree, shared, True)
        os.chmod(shared, 0o755)
        work = os.path.join(shared, "work")
        os.mkdir(work)
        os.chown(work, user.pw_uid, user.pw_gid)
        argv = [self.c.cli_bin, "--master", self.c.endpoint, "submit", "--parsable", "--chdir", work, "--",
                "sh", "-c", "id -u; id -g; echo $USER $HOME"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, user=user.pw_uid, group=user.pw_gid,
                           cwd=work)
        self.assertEqual(r.returncode, 0, r.stderr)
        job_id = int(r.stdout.strip())
        job = self.c.wait_state(job_id, "COMPLETED")
        self.assertEqual(job["user"], user.pw_name)
        out = os.path.join(work, "cadre-%d.out" % job_id)  # the default: one file per job
        with open(out) as f:
            lines = f.read().split("\n")
        self.assertEqual(lines[0], str(user.pw_uid))
        self.assertEqual(lines[1], str(user.pw_gid))
        self.assertEqual(lines[2].split()[0], user.pw_name)
        st = os.stat(out)
        self.assertEqual((st.st_uid, st.st_gid), (user.pw_uid, user.pw_gid), "the output file belongs to the user")

        # Without --allow-root-jobs a root agent refuses root's job.
        job_id = self.c.submit("true")
        job = self.c.wait_state(job_id, "FAILED")
        self.assertIn("root", job["reason"])


if __name__ == "__main__":
    unittest.main()
