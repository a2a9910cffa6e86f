#include "agent/gpu_discovery.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/bounded_file.hpp"
#include "common/limits.hpp"

extern char** environ;

namespace cadre::agent {
namespace {

// ---- NVML, declared here so the agent neither needs nvml.h to build nor
// libnvidia-ml to start. Layouts and values as in NVIDIA's nvml.h.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
using nvmlEnableState_t = int;
using nvmlGpuP2PCapsIndex_t = int;
using nvmlGpuP2PStatus_t = int;

constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlEnableState_t NVML_FEATURE_ENABLED = 1;
constexpr nvmlGpuP2PCapsIndex_t NVML_P2P_CAPS_INDEX_NVLINK = 2;
constexpr nvmlGpuP2PStatus_t NVML_P2P_STATUS_OK = 0;
constexpr unsigned kNvmlNvlinkMaxLinks = 18;  // NVML_NVLINK_MAX_LINKS
constexpr unsigned kNvmlBufferSize = 96;      // NVML_DEVICE_{NAME,UUID}_V2_BUFFER_SIZE
constexpr unsigned kMaxGpus = limits::kMaxGpusPerNode;  // more is a broken library, or a node the scheduler cannot place on

struct nvmlMemory_t {
  unsigned long long total;  // bytes
  unsigned long long free;
  unsigned long long used;
};

struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};

// The entry points we call. The first seven are required; the rest only
// refine the answer (NVLink peers, error text), so older drivers still work.
struct NvmlApi {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*get_count)(unsigned*) = nullptr;
  nvmlReturn_t (*get_handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*get_name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*get_uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*get_memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*get_pci)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*nvlink_state)(nvmlDevice_t, unsigned, nvmlEnableState_t*) = nullptr;
  nvmlReturn_t (*nvlink_remote_pci)(nvmlDevice_t, unsigned, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*p2p_status)(nvmlDevice_t, nvmlDevice_t, nvmlGpuP2PCapsIndex_t, nvmlGpuP2PStatus_t*) = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;

  std::string describe(nvmlReturn_t r) const {
    const char* text = error_string ? error_string(r) : nullptr;
    return std::string(text && *text ? text : "unknown error") + " (NVML error " + std::to_string(r) + ")";
  }
};

template <typename Fn>
void resolve(void* lib, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(lib, name));
}

// Returns the name of the first required symbol that is missing, or "".
std::string load_api(void* lib, NvmlApi& api) {
  resolve(lib, "nvmlInit_v2", api.init);
  resolve(lib, "nvmlShutdown", api.shutdown);
  resolve(lib, "nvmlDeviceGetCount_v2", api.get_count);
  resolve(lib, "nvmlDeviceGetHandleByIndex_v2", api.get_handle);
  resolve(lib, "nvmlDeviceGetName", api.get_name);
  resolve(lib, "nvmlDeviceGetUUID", api.get_uuid);
  resolve(lib, "nvmlDeviceGetMemoryInfo", api.get_memory);
  resolve(lib, "nvmlDeviceGetPciInfo_v3", api.get_pci);
  resolve(lib, "nvmlDeviceGetNvLinkState", api.nvlink_state);
  resolve(lib, "nvmlDeviceGetNvLinkRemotePciInfo_v2", api.nvlink_remote_pci);
  resolve(lib, "nvmlDeviceGetP2PStatus", api.p2p_status);
  resolve(lib, "nvmlErrorString", api.error_string);
  const std::pair<const char*, bool> required[] = {
      {"nvmlInit_v2", api.init != nullptr},
      {"nvmlShutdown", api.shutdown != nullptr},
      {"nvmlDeviceGetCount_v2", api.get_count != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", api.get_handle != nullptr},
      {"nvmlDeviceGetName", api.get_name != nullptr},
      {"nvmlDeviceGetUUID", api.get_uuid != nullptr},
      {"nvmlDeviceGetMemoryInfo", api.get_memory != nullptr},
  };
  for (const auto& [name, found] : required)
    if (!found) return name;
  return "";
}

// NVLink peers of every device. A link whose far end is not one of our GPUs
// goes to an NVSwitch (HGX boards: every link does); the GPUs behind a
// switch are found through the P2P status NVML keeps per pair.
void find_nvlink_peers(const NvmlApi& api, const std::vector<nvmlDevice_t>& devices, std::vector<GpuInfo>& gpus) {
  if (!api.get_pci || !api.nvlink_state || !api.nvlink_remote_pci) return;
  std::vector<nvmlPciInfo_t> pci(devices.size());
  for (size_t i = 0; i < devices.size(); ++i)
    if (api.get_pci(devices[i], &pci[i]) != NVML_SUCCESS) return;  // cannot map links back to GPUs

  auto local_index = [&](const nvmlPciInfo_t& remote) -> std::optional<uint32_t> {
    for (size_t j = 0; j < pci.size(); ++j)
      if (pci[j].domain == remote.domain && pci[j].bus == remote.bus && pci[j].device == remote.device)
        return static_cast<uint32_t>(j);
    return std::nullopt;
  };

  for (size_t i = 0; i < devices.size(); ++i) {
    std::vector<uint32_t>& peers = gpus[i].nvlink_peers;
    bool via_switch = false;
    // Errors per link (NOT_SUPPORTED on PCIe cards, INVALID_ARGUMENT past
    // the links a chip has) mean "no link here", never a failed discovery.
    for (unsigned link = 0; link < kNvmlNvlinkMaxLinks; ++link) {
      nvmlEnableState_t active = 0;
      if (api.nvlink_state(devices[i], link, &active) != NVML_SUCCESS || active != NVML_FEATURE_ENABLED) continue;
      nvmlPciInfo_t remote{};
      if (api.nvlink_remote_pci(devices[i], link, &remote) != NVML_SUCCESS) continue;
      if (auto j = local_index(remote)) {
        if (*j != i) peers.push_back(*j);
      } else {
        via_switch = true;
      }
    }
    if (via_switch && api.p2p_status) {
      for (size_t j = 0; j < devices.size(); ++j) {
        nvmlGpuP2PStatus_t status = -1;
        if (j != i && api.p2p_status(devices[i], devices[j], NVML_P2P_CAPS_INDEX_NVLINK, &status) == NVML_SUCCESS &&
            status == NVML_P2P_STATUS_OK)
          peers.push_back(static_cast<uint32_t>(j));
      }
    }
    std::sort(peers.begin(), peers.end());
    peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  }
}

// Everything between nvmlInit and nvmlShutdown.
Result<std::vector<GpuInfo>> query_nvml(const NvmlApi& api) {
  auto failed = [&](const std::string& call, nvmlReturn_t r) {
    return make_error(call + " failed: " + api.describe(r));
  };
  unsigned count = 0;
  if (nvmlReturn_t r = api.get_count(&count); r != NVML_SUCCESS) return failed("nvmlDeviceGetCount_v2", r);
  if (count > kMaxGpus) return make_error("nvmlDeviceGetCount_v2 reported " + std::to_string(count) + " GPUs");

  std::vector<GpuInfo> gpus(count);
  std::vector<nvmlDevice_t> devices(count, nullptr);
  for (unsigned i = 0; i < count; ++i) {
    const std::string gpu = " (GPU " + std::to_string(i) + ")";
    if (nvmlReturn_t r = api.get_handle(i, &devices[i]); r != NVML_SUCCESS)
      return failed("nvmlDeviceGetHandleByIndex_v2" + gpu, r);
    char buf[kNvmlBufferSize] = {};
    if (nvmlReturn_t r = api.get_name(devices[i], buf, sizeof buf); r != NVML_SUCCESS)
      return failed("nvmlDeviceGetName" + gpu, r);
    gpus[i].model.assign(buf, strnlen(buf, sizeof buf));
    std::memset(buf, 0, sizeof buf);
    if (nvmlReturn_t r = api.get_uuid(devices[i], buf, sizeof buf); r != NVML_SUCCESS)
      return failed("nvmlDeviceGetUUID" + gpu, r);
    gpus[i].uuid.assign(buf, strnlen(buf, sizeof buf));
    nvmlMemory_t memory{};
    if (nvmlReturn_t r = api.get_memory(devices[i], &memory); r != NVML_SUCCESS)
      return failed("nvmlDeviceGetMemoryInfo" + gpu, r);
    gpus[i].memory_mb = static_cast<int64_t>(memory.total / (1024 * 1024));
    gpus[i].index = i;
  }
  find_nvlink_peers(api, devices, gpus);
  return gpus;
}

GpuInventory none(std::string note) { return GpuInventory{{}, "none", std::move(note)}; }

// ---- nvidia-smi

constexpr const char* kNvidiaSmiQuery = "--query-gpu=index,uuid,name,memory.total";
constexpr const char* kNvidiaSmiFormat = "--format=csv,noheader,nounits";
constexpr auto kNvidiaSmiTimeout = std::chrono::seconds(30);
constexpr size_t kMaxOutputBytes = 1 << 20;

std::string trim(std::string_view s) {
  const char* space = " \t\r\n";
  size_t b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(space);
  return std::string(s.substr(b, e - b + 1));
}

std::string first_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (auto t = trim(line); !t.empty()) return t;
  return "";
}

struct ProcessOutput {
  int status = 0;  // as from waitpid
  std::string out, err;
};

// Runs argv (argv[0] looked up on PATH unless it has a '/') with no stdin,
// capturing stdout and stderr; kills it once `timeout` has passed.
Result<ProcessOutput> run_captured(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return make_error(std::string("pipe: ") + std::strerror(e));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return make_error(std::strerror(rc));
  }

  ProcessOutput result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[k].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        close(fds[k].fd);
        fds[k].fd = -1;
      } else if (sinks[k]->size() < kMaxOutputBytes) {
        sinks[k]->append(buf, static_cast<size_t>(got));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (timed_out) kill(pid, SIGKILL);
  while (waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return make_error("did not finish within " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                      " seconds and was killed");
  return result;
}

// One CSV row; `line_no` is 1-based and only for messages.
Result<GpuInfo> parse_row(const std::string& line, size_t line_no) {
  const std::string where = "nvidia-smi output line " + std::to_string(line_no) + " (\"" + line + "\"): ";
  std::vector<std::string> fields;
  for (size_t start = 0;;) {
    size_t comma = line.find(',', start);
    fields.push_back(trim(std::string_view(line).substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (fields.size() < 4)
    return make_error(where + "expected 4 comma-separated fields (index, uuid, name, memory.total), found " +
                      std::to_string(fields.size()));
  // nvidia-smi does not quote: a comma inside a model name splits it, so
  // everything between the uuid and the last field is the name.
  std::string name = fields[2];
  for (size_t k = 3; k + 1 < fields.size(); ++k) name += ", " + fields[k];
  const std::string& index = fields[0];
  const std::string& memory = fields.back();

  GpuInfo gpu;
  auto [p, ec] = std::from_chars(index.data(), index.data() + index.size(), gpu.index);
  if (index.empty() || ec != std::errc() || p != index.data() + index.size())
    return make_error(where + "index \"" + index + "\" is not a non-negative integer");
  gpu.uuid = fields[1];
  if (!gpu.uuid.starts_with("GPU-")) return make_error(where + "uuid \"" + gpu.uuid + "\" does not start with GPU-");
  gpu.model = name;
  if (gpu.model.empty()) return make_error(where + "the GPU name is empty");
  if (memory == "[N/A]" || memory == "[Not Supported]") {
    gpu.memory_mb = 0;
  } else {
    auto [q, ec2] = std::from_chars(memory.data(), memory.data() + memory.size(), gpu.memory_mb);
    if (memory.empty() || ec2 != std::errc() || q != memory.data() + memory.size() || gpu.memory_mb < 0)
      return make_error(where + "memory.total \"" + memory + "\" is not a number of MiB (was --format nounits lost?)");
  }
  return gpu;
}

}  // namespace

std::string default_nvml_lib() {
  const char* env = std::getenv("CADRE_NVML_LIB");
  return env && *env ? env : "libnvidia-ml.so.1";
}

GpuInventory discover_gpus_nvml(const std::string& nvml_lib) {
  // A path (not a name dlopen looks up) must be a regular file: dlopen
  // would wait forever on a FIFO with no writer.
  if (nvml_lib.find('/') != std::string::npos)
    if (Status s = check_regular_file(nvml_lib, "NVML library"); !s) return none(s.error());
  dlerror();
  void* lib = dlopen(nvml_lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* err = dlerror();
    std::string why = err ? err : "cannot be loaded";
    return none(why.find(nvml_lib) == std::string::npos ? nvml_lib + ": " + why : why);
  }
  NvmlApi api;
  GpuInventory inventory;
  if (std::string missing = load_api(lib, api); !missing.empty()) {
    inventory = none(nvml_lib + ": has no symbol " + missing + " (not an NVML library, or too old a driver)");
  } else if (nvmlReturn_t r = api.init(); r != NVML_SUCCESS) {
    inventory = none(nvml_lib + ": nvmlInit_v2 failed: " + api.describe(r));
  } else {
    Result<std::vector<GpuInfo>> gpus = query_nvml(api);
    api.shutdown();
    inventory = gpus.ok() ? GpuInventory{std::move(gpus.value()), "nvml", ""} : none(nvml_lib + ": " + gpus.error());
  }
  dlclose(lib);
  return inventory;
}

Result<std::vector<GpuInfo>> parse_nvidia_smi_csv(const std::string& text) {
  std::vector<GpuInfo> gpus;
  std::istringstream in(text);
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    std::string row = trim(line);
    if (row.empty()) continue;
    Result<GpuInfo> gpu = parse_row(row, line_no);
    if (!gpu.ok()) return make_error(gpu.error());
    for (const auto& seen : gpus)
      if (seen.index == gpu->index)
        return make_error("nvidia-smi output line " + std::to_string(line_no) + ": GPU index " +
                          std::to_string(gpu->index) + " appears twice");
    gpus.push_back(std::move(gpu.value()));
  }
  std::sort(gpus.begin(), gpus.end(), [](const GpuInfo& a, const GpuInfo& b) { return a.index < b.index; });
  return gpus;
}

std::string nvidia_smi_command() { return std::string("nvidia-smi ") + kNvidiaSmiQuery + " " + kNvidiaSmiFormat; }

GpuInventory discover_gpus_nvidia_smi(const std::string& nvidia_smi) {
  const std::string shown = nvidia_smi + " " + kNvidiaSmiQuery + " " + kNvidiaSmiFormat;
  Result<ProcessOutput> run = run_captured({nvidia_smi, kNvidiaSmiQuery, kNvidiaSmiFormat}, kNvidiaSmiTimeout);
  if (!run.ok()) {
    bool looked_up = nvidia_smi.find('/') == std::string::npos && run.error() == std::strerror(ENOENT);
    return none("cannot run " + nvidia_smi + ": " + run.error() + (looked_up ? " (not on PATH)" : ""));
  }
  const ProcessOutput& p = *run;
  if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
    std::string how = WIFEXITED(p.status) ? "exited with status " + std::to_string(WEXITSTATUS(p.status))
                                          : "was killed by signal " + std::to_string(WTERMSIG(p.status));
    std::string said = first_line(p.err);
    if (said.empty()) said = first_line(p.out);
    return none(shown + " " + how + (said.empty() ? "" : ": " + said));
  }
  Result<std::vector<GpuInfo>> gpus = parse_nvidia_smi_csv(p.out);
  if (!gpus.ok()) return none(gpus.error());
  return GpuInventory{std::move(gpus.value()), "nvidia-smi", ""};
}

GpuInventory discover_gpu_inventory() {
  try {
    GpuInventory nvml = discover_gpus_nvml(default_nvml_lib());
    if (nvml.source == "nvml") return nvml;
    GpuInventory smi = discover_gpus_nvidia_smi();
    if (smi.source == "nvidia-smi") {
      smi.note = "NVML: " + nvml.note;
      return smi;
    }
    return none("NVML: " + nvml.note + "; nvidia-smi: " + smi.note);
  } catch (const std::exception& e) {  // bad_alloc and the like: report, never take the agent down
    return none(std::string("GPU discovery failed: ") + e.what());
  }
}

}  // namespace cadre::agent
