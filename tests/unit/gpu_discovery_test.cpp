// Specification of agent/gpu_discovery: NVML through dlopen (against the fake
// library in tests/fake_nvml), nvidia-smi output recorded on real nodes
// (testdata/nvidia-smi-*.csv), and the chain that falls from one to the next.
// The tests change environment variables and restore them afterwards.
#include "agent/gpu_discovery.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

const std::string kFakeNvml = CADRE_FAKE_NVML;
const fs::path kTestdata = fs::path(CADRE_SOURCE_DIR) / "tests" / "unit" / "testdata";

std::string read_testdata(const std::string& name) {
  std::ifstream in(kTestdata / name, std::ios::binary);
  EXPECT_TRUE(in) << "missing " << (kTestdata / name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Says what the text was when the part is missing.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

std::vector<uint32_t> peers(std::initializer_list<uint32_t> p) { return p; }

// Gives each test a temporary directory and puts back every environment
// variable discovery reads.
class GpuDiscovery : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVars) {
      const char* v = getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
    }
    unsetenv("CADRE_FAKE_NVML_GPUS");
    unsetenv("CADRE_FAKE_NVML_FAIL_INIT");
    unsetenv("CADRE_NVML_LIB");
    std::string tmpl = (fs::temp_directory_path() / "cadre-gpu-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // An executable shell script `name` in the temp dir; returns its path.
  std::string write_script(const std::string& name, const std::string& body) {
    fs::path path = dir_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0755);
    return path.string();
  }

  // A stand-in for nvidia-smi that insists on the real query's arguments,
  // then prints a recorded file.
  std::string fake_nvidia_smi(const std::string& recorded, const std::string& name = "nvidia-smi") {
    return write_script(name, "[ \"$*\" = '--query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits' ] ||"
                              " { echo \"unexpected arguments: $*\" >&2; exit 2; }\n"
                              "cat '" + (kTestdata / recorded).string() + "'");
  }

  static constexpr const char* kVars[] = {"CADRE_NVML_LIB", "CADRE_FAKE_NVML_GPUS", "CADRE_FAKE_NVML_FAIL_INIT",
                                          "PATH"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  fs::path dir_;
};

using GpuNvml = GpuDiscovery;
using GpuNvidiaSmiCsv = GpuDiscovery;
using GpuNvidiaSmiRun = GpuDiscovery;
using GpuInventoryChain = GpuDiscovery;

// ---- NVML

TEST_F(GpuNvml, ReportsModelsMemoryUuidsAndNvlinkPeers) {
  setenv("CADRE_FAKE_NVML_GPUS",
         "NVIDIA H100 80GB HBM3|81559|GPU-aaaa|1,1,2;"  // two links to GPU 1: one peer
         "NVIDIA H100 80GB HBM3|81559|GPU-bbbb|0,0;"
         "NVIDIA H100 80GB HBM3|81559|GPU-cccc|0;"
         "NVIDIA L4|23034|GPU-dddd",  // a PCIe card: no NVLink at all
         1);
  GpuInventory inv = discover_gpus_nvml(kFakeNvml);
  EXPECT_EQ(inv.source, "nvml");
  EXPECT_EQ(inv.note, "");
  ASSERT_EQ(inv.gpus.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(inv.gpus[i].index, i);
  EXPECT_EQ(inv.gpus[0].model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(inv.gpus[0].memory_mb, 81559);
  EXPECT_EQ(inv.gpus[0].uuid, "GPU-aaaa");
  EXPECT_EQ(inv.gpus[1].uuid, "GPU-bbbb");
  EXPECT_EQ(inv.gpus[3].model, "NVIDIA L4");
  EXPECT_EQ(inv.gpus[3].memory_mb, 23034);
  EXPECT_EQ(inv.gpus[3].uuid, "GPU-dddd");
  EXPECT_EQ(inv.gpus[0].nvlink_peers, peers({1, 2}));
  EXPECT_EQ(inv.gpus[1].nvlink_peers, peers({0}));
  EXPECT_EQ(inv.gpus[2].nvlink_peers, peers({0}));
  EXPECT_EQ(inv.gpus[3].nvlink_peers, peers({}));
}

TEST_F(GpuNvml, GpusBehindAnNvSwitchArePeersOfEachOther) {
  // HGX boards: every NVLink goes to a switch, none straight to a GPU.
  setenv("CADRE_FAKE_NVML_GPUS",
         "NVIDIA H100 80GB HBM3|81559|GPU-0|nvswitch,nvswitch,nvswitch,nvswitch;"
         "NVIDIA H100 80GB HBM3|81559|GPU-1|nvswitch,nvswitch,nvswitch,nvswitch;"
         "NVIDIA H100 80GB HBM3|81559|GPU-2|nvswitch,nvswitch,nvswitch,nvswitch;"
         "NVIDIA H100 PCIe|81559|GPU-3",
         1);
  GpuInventory inv = discover_gpus_nvml(kFakeNvml);
  ASSERT_EQ(inv.source, "nvml") << inv.note;
  ASSERT_EQ(inv.gpus.size(), 4u);
  EXPECT_EQ(inv.gpus[0].nvlink_peers, peers({1, 2}));
  EXPECT_EQ(inv.gpus[1].nvlink_peers, peers({0, 2}));
  EXPECT_EQ(inv.gpus[2].nvlink_peers, peers({0, 1}));
  EXPECT_EQ(inv.gpus[3].nvlink_peers, peers({}));
}

TEST_F(GpuNvml, NoGpusWhenTheInventoryIsEmpty) {
  GpuInventory unset = discover_gpus_nvml(kFakeNvml);
  EXPECT_EQ(unset.source, "nvml");
  EXPECT_TRUE(unset.gpus.empty());
  setenv("CADRE_FAKE_NVML_GPUS", "", 1);
  GpuInventory empty = discover_gpus_nvml(kFakeNvml);
  EXPECT_EQ(empty.source, "nvml");
  EXPECT_EQ(empty.note, "");
  EXPECT_TRUE(empty.gpus.empty());
}

TEST_F(GpuNvml, InitFailureGivesNoneWithANote) {
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA H100 80GB HBM3|81559|GPU-aaaa", 1);
  setenv("CADRE_FAKE_NVML_FAIL_INIT", "1", 1);
  GpuInventory inv = discover_gpus_nvml(kFakeNvml);
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(inv.gpus.empty());
  EXPECT_TRUE(contains(inv.note, kFakeNvml));
  EXPECT_TRUE(contains(inv.note, "nvmlInit_v2 failed: Driver Not Loaded (NVML error 9)"));
}

TEST_F(GpuNvml, AMissingLibraryGivesANoteNamingIt) {
  const std::string lib = (dir_ / "libnvidia-ml.so.1").string();
  GpuInventory inv = discover_gpus_nvml(lib);
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(inv.gpus.empty());
  EXPECT_TRUE(contains(inv.note, lib));
  EXPECT_TRUE(contains(inv.note, "No such file or directory"));
}

TEST_F(GpuNvml, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = (dir_ / "libnvidia-ml.so.1").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  GpuInventory inv = discover_gpus_nvml(fifo);  // dlopen would block here
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(contains(inv.note, fifo));
  EXPECT_TRUE(contains(inv.note, "not a regular file"));
}

TEST_F(GpuNvml, AFolderIsRefused) {
  GpuInventory inv = discover_gpus_nvml(dir_.string());
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(contains(inv.note, "it is a folder"));
}

TEST_F(GpuNvml, ALibraryThatIsNotNvmlIsRefused) {
  GpuInventory inv = discover_gpus_nvml("libm.so.6");
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(contains(inv.note, "libm.so.6: has no symbol nvmlInit_v2"));
}

TEST_F(GpuNvml, AMalformedFakeInventoryFailsInsteadOfGuessing) {
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA H100 80GB HBM3|lots|GPU-aaaa", 1);
  GpuInventory inv = discover_gpus_nvml(kFakeNvml);
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(contains(inv.note, "nvmlInit_v2 failed"));
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA H100 80GB HBM3|81559|GPU-aaaa|1", 1);  // peer 1 does not exist
  EXPECT_EQ(discover_gpus_nvml(kFakeNvml).source, "none");
}

TEST_F(GpuNvml, ReadsTheEnvironmentAfreshEachTime) {
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA A100-SXM4-40GB|40960|GPU-one", 1);
  ASSERT_EQ(discover_gpus_nvml(kFakeNvml).gpus.size(), 1u);
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA A100-SXM4-40GB|40960|GPU-one;NVIDIA A100-SXM4-40GB|40960|GPU-two", 1);
  GpuInventory inv = discover_gpus_nvml(kFakeNvml);
  ASSERT_EQ(inv.gpus.size(), 2u);
  EXPECT_EQ(inv.gpus[1].uuid, "GPU-two");
}

TEST_F(GpuNvml, DefaultLibraryComesFromTheEnvironment) {
  EXPECT_EQ(default_nvml_lib(), "libnvidia-ml.so.1");
  setenv("CADRE_NVML_LIB", kFakeNvml.c_str(), 1);
  EXPECT_EQ(default_nvml_lib(), kFakeNvml);
}

// ---- nvidia-smi output

TEST_F(GpuNvidiaSmiCsv, ParsesAnEightGpuH100Node) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(read_testdata("nvidia-smi-8x-h100.csv"));
  ASSERT_TRUE(gpus.ok()) << gpus.error();
  ASSERT_EQ(gpus->size(), 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ((*gpus)[i].index, i);
    EXPECT_EQ((*gpus)[i].model, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ((*gpus)[i].memory_mb, 81559);
    EXPECT_TRUE((*gpus)[i].nvlink_peers.empty());
  }
  EXPECT_EQ((*gpus)[0].uuid, "GPU-a4c123b1-612d-d272-d137-1c17149d4395");
  EXPECT_EQ((*gpus)[7].uuid, "GPU-c255404e-4fb4-4003-4d66-08697a8d41be");
}

TEST_F(GpuNvidiaSmiCsv, ToleratesCrlfAndTrailingWhitespace) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(read_testdata("nvidia-smi-2x-a100-crlf.csv"));
  ASSERT_TRUE(gpus.ok()) << gpus.error();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[1].index, 1u);
  EXPECT_EQ((*gpus)[1].model, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ((*gpus)[1].memory_mb, 40960);
  EXPECT_EQ((*gpus)[1].uuid, "GPU-86e4d3ce-a27d-2693-4b48-4e73cf575dca");
}

TEST_F(GpuNvidiaSmiCsv, UnavailableMemoryIsZero) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv("0, GPU-5a1b, NVIDIA GH200 480GB, [N/A]\n");
  ASSERT_TRUE(gpus.ok()) << gpus.error();
  ASSERT_EQ(gpus->size(), 1u);
  EXPECT_EQ((*gpus)[0].model, "NVIDIA GH200 480GB");
  EXPECT_EQ((*gpus)[0].memory_mb, 0);
}

TEST_F(GpuNvidiaSmiCsv, OrdersByIndexAndKeepsCommasInNames) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv("1, GPU-b, Odd, Name, 100\n0, GPU-a, Plain, 200\n");
  ASSERT_TRUE(gpus.ok()) << gpus.error();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[0].uuid, "GPU-a");
  EXPECT_EQ((*gpus)[1].model, "Odd, Name");
  EXPECT_EQ((*gpus)[1].memory_mb, 100);
}

TEST_F(GpuNvidiaSmiCsv, EmptyOutputIsNoGpus) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv("\n");
  ASSERT_TRUE(gpus.ok()) << gpus.error();
  EXPECT_TRUE(gpus->empty());
}

TEST_F(GpuNvidiaSmiCsv, RejectsATruncatedRowNamingTheLine) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(read_testdata("nvidia-smi-malformed-truncated.csv"));
  ASSERT_FALSE(gpus.ok());
  EXPECT_TRUE(contains(gpus.error(), "line 3"));
  EXPECT_TRUE(contains(gpus.error(), "expected 4 comma-separated fields"));
  EXPECT_TRUE(contains(gpus.error(), "NVIDIA H1"));
}

TEST_F(GpuNvidiaSmiCsv, RejectsAHeaderRow) {
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(read_testdata("nvidia-smi-malformed-header.csv"));
  ASSERT_FALSE(gpus.ok());
  EXPECT_TRUE(contains(gpus.error(), "line 1"));
  EXPECT_TRUE(contains(gpus.error(), "index \"index\" is not a non-negative integer"));
}

TEST_F(GpuNvidiaSmiCsv, RejectsBadFields) {
  auto error_of = [](const std::string& text) {
    Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(text);
    return gpus.ok() ? std::string("(parsed)") : gpus.error();
  };
  EXPECT_TRUE(contains(error_of("0, GPU-a, NVIDIA A100-SXM4-40GB, 40960 MiB\n"), "memory.total \"40960 MiB\""));
  EXPECT_TRUE(contains(error_of("0, GPU-a, NVIDIA A100-SXM4-40GB, -1\n"), "memory.total"));
  EXPECT_TRUE(contains(error_of("-1, GPU-a, NVIDIA A100-SXM4-40GB, 40960\n"), "index \"-1\""));
  EXPECT_TRUE(contains(error_of("0, 6a8f0b6e, NVIDIA A100-SXM4-40GB, 40960\n"), "does not start with GPU-"));
  EXPECT_TRUE(contains(error_of("0, GPU-a, , 40960\n"), "name is empty"));
  EXPECT_TRUE(contains(error_of("0, GPU-a, A, 1\n\n0, GPU-b, B, 2\n"), "line 3: GPU index 0 appears twice"));
}

// ---- running nvidia-smi

TEST_F(GpuNvidiaSmiRun, CommandIsTheCsvQuery) {
  EXPECT_EQ(nvidia_smi_command(),
            "nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits");
}

TEST_F(GpuNvidiaSmiRun, RunsTheToolAndParsesItsOutput) {
  GpuInventory inv = discover_gpus_nvidia_smi(fake_nvidia_smi("nvidia-smi-8x-h100.csv"));
  EXPECT_EQ(inv.source, "nvidia-smi");
  EXPECT_EQ(inv.note, "");
  ASSERT_EQ(inv.gpus.size(), 8u);
  EXPECT_EQ(inv.gpus[5].uuid, "GPU-ff9243a8-f506-b409-28b5-b7a767c76fb0");
}

TEST_F(GpuNvidiaSmiRun, AMissingToolGivesANote) {
  const std::string path = (dir_ / "nvidia-smi").string();
  GpuInventory by_path = discover_gpus_nvidia_smi(path);
  EXPECT_EQ(by_path.source, "none");
  EXPECT_TRUE(contains(by_path.note, "cannot run " + path + ": No such file or directory"));
  GpuInventory by_name = discover_gpus_nvidia_smi("cadre-test-no-such-nvidia-smi");
  EXPECT_EQ(by_name.source, "none");
  EXPECT_TRUE(contains(by_name.note, "cadre-test-no-such-nvidia-smi: No such file or directory (not on PATH)"));
}

TEST_F(GpuNvidiaSmiRun, AFailingToolIsQuotedInTheNote) {
  std::string smi = write_script("nvidia-smi",
                                 "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
                                 " Make sure that the latest NVIDIA driver is installed and running.\"\nexit 9");
  GpuInventory inv = discover_gpus_nvidia_smi(smi);
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(inv.gpus.empty());
  EXPECT_TRUE(contains(inv.note, "exited with status 9: NVIDIA-SMI has failed because it couldn't communicate"));
}

TEST_F(GpuNvidiaSmiRun, UnreadableOutputGivesANoteNamingTheLine) {
  GpuInventory inv = discover_gpus_nvidia_smi(fake_nvidia_smi("nvidia-smi-malformed-truncated.csv"));
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(contains(inv.note, "nvidia-smi output line 3"));
}

// ---- the chain

TEST_F(GpuInventoryChain, UsesNvmlWhenItWorks) {
  setenv("CADRE_NVML_LIB", kFakeNvml.c_str(), 1);
  setenv("CADRE_FAKE_NVML_GPUS", "NVIDIA H100 80GB HBM3|81559|GPU-aaaa|1;NVIDIA H100 80GB HBM3|81559|GPU-bbbb|0", 1);
  fake_nvidia_smi("nvidia-smi-2x-a100-crlf.csv");  // present, but not needed
  setenv("PATH", (dir_.string() + ":" + getenv("PATH")).c_str(), 1);
  GpuInventory inv = discover_gpu_inventory();
  EXPECT_EQ(inv.source, "nvml");
  EXPECT_EQ(inv.note, "");
  ASSERT_EQ(inv.gpus.size(), 2u);
  EXPECT_EQ(inv.gpus[1].nvlink_peers, peers({0}));
}

TEST_F(GpuInventoryChain, FallsBackToNvidiaSmiWhenNvmlCannotStart) {
  setenv("CADRE_NVML_LIB", kFakeNvml.c_str(), 1);
  setenv("CADRE_FAKE_NVML_FAIL_INIT", "1", 1);
  fake_nvidia_smi("nvidia-smi-2x-a100-crlf.csv");
  setenv("PATH", (dir_.string() + ":" + getenv("PATH")).c_str(), 1);
  GpuInventory inv = discover_gpu_inventory();
  EXPECT_EQ(inv.source, "nvidia-smi");
  EXPECT_TRUE(contains(inv.note, "NVML: " + kFakeNvml + ": nvmlInit_v2 failed: Driver Not Loaded"));
  ASSERT_EQ(inv.gpus.size(), 2u);
  EXPECT_EQ(inv.gpus[0].model, "NVIDIA A100-SXM4-40GB");
}

TEST_F(GpuInventoryChain, ReportsNoneWithBothReasonsWhenNothingWorks) {
  const std::string lib = (dir_ / "libnvidia-ml.so.1").string();
  setenv("CADRE_NVML_LIB", lib.c_str(), 1);
  setenv("PATH", dir_.c_str(), 1);  // no nvidia-smi here
  GpuInventory inv = discover_gpu_inventory();
  EXPECT_EQ(inv.source, "none");
  EXPECT_TRUE(inv.gpus.empty());
  EXPECT_TRUE(contains(inv.note, "NVML: cannot read NVML library " + lib + ": No such file or directory")) << inv.note;
  EXPECT_TRUE(contains(inv.note, "; nvidia-smi: cannot run nvidia-smi: No such file or directory (not on PATH)"));
}

}  // namespace
}  // namespace cadre::agent
