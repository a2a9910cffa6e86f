#include "agent/rank_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cadre::agent {

Status write_atomically(const std::string& path, const std::string& data, mode_t mode, Durability durability) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error("cannot write " + tmp + ": " + strerror(errno));
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return make_error("cannot write " + tmp + ": " + strerror(err));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (durability == Durability::survives_power_loss) fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) return make_error("cannot rename " + tmp + ": " + strerror(errno));
  return {};
}

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// NUL-separated fields: nothing in argv, env or a path can contain NUL.
std::vector<std::string> split_nul(const std::string& data) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\0', start);
    if (end == std::string::npos) end = data.size();
    out.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string rank_dir_path(const std::string& work_dir, const RankId& id) {
  return work_dir + "/ranks/" + std::to_string(id.job) + "." + std::to_string(id.rank) + "." +
         std::to_string(id.attempt) + (id.step ? "." + std::to_string(id.step) : "");
}

std::vector<RankId> list_rank_dirs(const std::string& work_dir) {
  std::vector<RankId> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(work_dir + "/ranks", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    unsigned long long job = 0;
    unsigned rank = 0, attempt = 0, step = 0;
    char tail = 0;
    int n = std::sscanf(name.c_str(), "%llu.%u.%u.%u%c", &job, &rank, &attempt, &step, &tail);
    if (n == 3 || (n == 4 && step > 0)) out.push_back(RankId{job, rank, attempt, n == 4 ? step : 0});
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status write_request(const std::string& dir, const SpawnRequest& req) {
  std::string data;
  auto field = [&data](const std::string& s) {
    data += s;
    data += '\0';
  };
  field(req.workdir);
  field(req.output_path);
  field(std::to_string(req.uid));
  field(std::to_string(req.gid));
  field(req.user);
  field(req.allow_root ? "1" : "0");
  field(std::to_string(req.argv.size()));
  for (const std::string& a : req.argv) field(a);
  field(std::to_string(req.env.size()));
  for (const std::string& e : req.env) field(e);
  // Appended fields: a request written by an older agent just lacks them.
  field(req.error_path);
  field(req.cgroup);
  field(std::to_string(req.umask));
  field(req.truncate ? "1" : "0");
  return write_atomically(dir + "/request", data, 0600, Durability::lost_with_the_node);
}

bool claim_request(const std::string& dir) {
  return rename((dir + "/request").c_str(), (dir + "/request.claimed").c_str()) == 0;
}

bool withdraw_request(const std::string& dir) {
  return rename((dir + "/request").c_str(), (dir + "/request.withdrawn").c_str()) == 0;
}

Result<SpawnRequest> read_request(const std::string& dir) {
  auto data = read_file(dir + "/request.claimed");
  if (!data) return make_error("cannot read " + dir + "/request.claimed");
  std::vector<std::string> f = split_nul(*data);
  auto bad = [&dir] { return make_error("corrupt rank request in " + dir); };
  try {
    size_t i = 0;
    auto next = [&]() -> const std::string& {
      if (i >= f.size()) throw std::out_of_range("short");
      return f[i++];
    };
    SpawnRequest req;
    req.workdir = next();
    req.output_path = next();
    req.uid = static_cast<uint32_t>(std::stoul(next()));
    req.gid = static_cast<uint32_t>(std::stoul(next()));
    req.user = next();
    req.allow_root = next() == "1";
    size_t argc = std::stoul(next());
    for (size_t k = 0; k < argc; ++k) req.argv.push_back(next());
    size_t envc = std::stoul(next());
    for (size_t k = 0; k < envc; ++k) req.env.push_back(next());
    if (i < f.size()) req.error_path = next();
    if (i < f.size()) req.cgroup = next();
    if (i < f.size()) req.umask = static_cast<int32_t>(std::stol(next()));
    if (i < f.size()) req.truncate = next() == "1";
    if (req.argv.empty()) return bad();
    return req;
  } catch (const std::exception&) {
    return bad();
  }
}

Status write_exit(const std::string& dir, const RankExit& exit) {
  std::string data = exit.launch_failed ? "launch_failed\n"
                     : exit.lost        ? "lost\n"
                     : exit.oom_killed  ? "exited_oom\n"
                                        : "exited\n";
  data += std::to_string(exit.exit_code) + "\n" + std::to_string(exit.signal) + "\n" + exit.message;
  return write_atomically(dir + "/exit", data);
}

std::optional<RankExit> read_exit(const std::string& dir) {
  auto data = read_file(dir + "/exit");
  if (!data) return std::nullopt;
  std::istringstream in(*data);
  std::string kind, code, sig;
  if (!std::getline(in, kind) || !std::getline(in, code) || !std::getline(in, sig)) return std::nullopt;
  RankExit e;
  e.launch_failed = kind == "launch_failed";
  e.lost = kind == "lost";
  e.oom_killed = kind == "exited_oom";
  try {
    e.exit_code = std::stoi(code);
    e.signal = std::stoi(sig);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  e.message = rest.str();
  return e;
}

bool is_rank_process(pid_t pid, const RankId& id) {
  auto env = read_file("/proc/" + std::to_string(pid) + "/environ");
  if (!env) return false;
  auto has = [&env](const std::string& entry) { return env->find(entry + '\0') != std::string::npos; };
  return has("CADRE_JOB_ID=" + std::to_string(id.job)) && has("CADRE_RANK=" + std::to_string(id.rank)) &&
         has("CADRE_ATTEMPT=" + std::to_string(id.attempt)) &&
         // Ranks started before steps existed carry no CADRE_STEP_ID.
         (has("CADRE_STEP_ID=" + std::to_string(id.step)) ||
          (id.step == 0 && env->find("CADRE_STEP_ID=") == std::string::npos));
}

Status write_pid(const std::string& path, pid_t pid) {
  return write_atomically(path, std::to_string(pid) + "\n", 0600, Durability::lost_with_the_node);
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold anything, so
  // count fields from the last ')': the start time is field 22.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat->substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return std::nullopt;
  try {
    return std::stoull(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<pid_t> read_pid(const std::string& path) {
  auto data = read_file(path);
  if (!data) return std::nullopt;
  try {
    long v = std::stol(*data);
    if (v <= 0) return std::nullopt;
    return static_cast<pid_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace cadre::agent
