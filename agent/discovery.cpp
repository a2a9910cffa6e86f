#include "agent/discovery.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cadre::agent {

int64_t discover_millicores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return int64_t{CPU_COUNT(&set)} * 1000;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n * 1000 : 1000;
}

int64_t discover_memory_mb(const std::string& meminfo_path) {
  std::ifstream in(meminfo_path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kib = 0;
    if (fields >> key >> kib && key == "MemTotal:") return kib / 1024;
  }
  return 0;
}

std::string find_cli() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path dir = self.parent_path();
    for (const auto& candidate : {dir / "cadre", dir / ".." / "bin" / "cadre", dir / ".." / "cli" / "cadre"})
      if (access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
  }
  return "cadre";
}

std::string find_slurm_bin(const std::string& cli) {
  if (cli.find('/') == std::string::npos) return "";
  const std::filesystem::path dir = std::filesystem::path(cli).parent_path();
  for (const auto& candidate : {dir / "slurm-bin", dir / ".." / "lib" / "cadre" / "slurm-bin"})
    if (access((candidate / "srun").c_str(), X_OK) == 0) return candidate.lexically_normal().string();
  return "";
}

std::string discover_address(const std::string& master_endpoint) {
  const std::string tcp = "tcp://";
  if (!master_endpoint.starts_with(tcp)) return "127.0.0.1";
  std::string hostport = master_endpoint.substr(tcp.size());
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon), port = colon == std::string::npos ? "7700" : hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host.starts_with("127.") || host == "::1") return "127.0.0.1";

  // A connected UDP socket sends nothing but makes the kernel choose the
  // source address of the route to the master.
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::string found;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) == 0 && res) {
    int fd = socket(res->ai_family, SOCK_DGRAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
      sockaddr_storage local{};
      socklen_t len = sizeof local;
      char buf[INET6_ADDRSTRLEN] = {};
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
          getnameinfo(reinterpret_cast<sockaddr*>(&local), len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0)
        found = buf;
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
  }
  if (!found.empty()) return found;
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

}  // namespace cadre::agent
