// cadre-bench-scale: what 10,000 nodes and 100,000 queued jobs cost the
// master. See docs/benchmarks.md and bench/run-scale.
//
// One process plays every node the way cadre-agent does (agent/service.cpp):
// a DEALER socket with routing id "agent:<name>", Register, a Heartbeat per
// node per second (spread evenly over the second), and for every Launch a
// TaskStatus STARTED; its ranks never exit. When the file-descriptor limit
// does not allow a socket per node, several nodes share one socket (the
// master keys a node by the name in each message and sends its commands to
// the routing id the node last spoke from; without CURVE any connection may
// speak for any node). Requests (getStats, submitMany) go on one more socket;
// while one is in flight the heartbeats go on.
//
// Single-threaded; the figures come from the master (getStats) and from
// /proc/<master pid>/stat.
#include <capnp/message.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <zmq.hpp>

#include "common/codec.hpp"
#include "common/flags.hpp"
#include "common/resources.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: cadre-bench-scale --master ENDPOINT [--master-pid PID] [--nodes N] [--jobs J]
                         [--seconds T] [--passes P] [--nodes-per-socket K] [--timeout SECONDS]

Registers N simulated nodes (64 cpus, 512 GiB, 8 GPUs, switch and rack labels)
with a master, heartbeats each once a second, and reports:
  a. registration: until the master lists every node UP;
  b. steady heartbeats for T seconds: the master's CPU, % of one core;
  c. a full cluster (one job per node, whose ranks never end) and J pending
     jobs submitted with submitMany: the scheduling pass time (the master's
     periodic passes, at least P of them), the master's RSS before and after
     (bytes per pending job), and its CPU at steady heartbeats meanwhile.
Start it against a fresh master; bench/run-scale does that for you.

  --master ENDPOINT     the master, e.g. tcp://127.0.0.1:7700
  --master-pid PID      read the master's CPU from /proc/PID/stat (default: its
                        getrusage figures from getStats)
  --nodes N             simulated nodes (default 10000)
  --jobs J              pending jobs (default 100000)
  --seconds T           each steady-heartbeat window (default 20)
  --passes P            scheduling passes to time with J pending (default 3)
  --nodes-per-socket K  nodes sharing one connection (default: 1 when the fd
                        limit allows a socket per node, else the fewest that fit)
  --timeout SECONDS     give up on any phase after this long (default 600)

example:
  cadre-bench-scale --master tcp://127.0.0.1:7700 --master-pid 4242 --nodes 10000 --jobs 100000
)";

constexpr int64_t kMaxNodes = 100'000;
constexpr int64_t kMaxJobs = 10'000'000;
constexpr int64_t kNodeMillicores = 64'000;
constexpr int64_t kNodeMemoryMb = 512 * 1024;
constexpr int32_t kNodeGpus = 8;
constexpr unsigned kSubmitChunk = 5000;  // jobs per submitMany

int fail(const std::string& message, int status = 1) {
  std::cerr << "cadre-bench-scale: " << message << "\n";
  return status;
}

kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

struct Options {
  std::string master;
  int master_pid = 0;
  int64_t nodes = 10000;
  int64_t jobs = 100000;
  int64_t seconds = 20;
  int64_t passes = 3;
  int64_t nodes_per_socket = 0;  // 0: decide from the fd limit
  int64_t timeout_s = 600;
};

// The master's figures at one moment.
struct Stats {
  uint64_t passes = 0;
  int64_t last_pass_us = 0, max_pass_us = 0, snapshot_us = 0, decide_us = 0, apply_us = 0, pass_cpu_us = 0;
  uint32_t pending = 0, running = 0, nodes_up = 0;
  uint64_t rss = 0;
  int64_t cpu_us = 0;  // user + system
  uint64_t heartbeats = 0, messages = 0;
};

// CPU time of a process from /proc/PID/stat (utime + stime), microseconds.
std::optional<int64_t> proc_cpu_us(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream in(all.substr(paren + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * 1'000'000 / ::sysconf(_SC_CLK_TCK);
}

class LoadGen {
 public:
  explicit LoadGen(const Options& o) : o_(o), ctx_(1) {}

  int run();

 private:
  void open_sockets();
  void send_register(size_t node);
  // Sends the heartbeats due by now (node i at i/N of every second).
  void heartbeat_due();
  // Reads what the master sent the nodes: launches are answered STARTED.
  void read_node_sockets();
  void on_node_message(size_t socket, const zmq::message_t& msg);
  // Keeps heartbeating until `done` holds or the deadline passes.
  bool pump_until(const std::function<bool()>& done, double max_s);
  // One request on the client socket, answered while the nodes go on.
  std::unique_ptr<cadre::Decoded> call(const std::function<void(Envelope::Builder)>& fill);
  std::optional<Stats> stats();
  // Asks for the master's figures 5 times a second until `ok` holds.
  bool wait_stats(const std::function<bool(const Stats&)>& ok, std::optional<Stats>& last);
  int64_t master_cpu_us(const Stats& s) const;
  bool submit_jobs(int64_t count, bool fill, uint64_t& refused);
  // Master CPU, % of one core, over a window of steady heartbeats (no
  // getStats meanwhile: it costs the master a count over every job).
  double steady_cpu(double seconds);
  // The next `count` scheduling passes, as getStats reports each.
  bool collect_passes(int64_t count, std::vector<Stats>& passes);

  const Options& o_;
  zmq::context_t ctx_;
  std::vector<zmq::socket_t> sockets_;
  std::vector<std::vector<size_t>> nodes_of_socket_;
  std::unique_ptr<zmq::socket_t> client_;
  std::vector<std::string> names_;
  std::vector<std::string> heartbeat_bytes_;  // encoded once per node
  std::vector<size_t> socket_of_;
  // Ranks each node runs, reported when it registers again (as cadre-agent
  // does, so a master that asks again does not take them for vanished).
  struct Rank {
    uint64_t job;
    uint32_t rank, attempt, step;
    bool operator<(const Rank& o) const {
      return std::tie(job, rank, attempt, step) < std::tie(o.job, o.rank, o.attempt, o.step);
    }
  };
  std::vector<std::vector<Rank>> live_;
  std::map<Rank, size_t> node_of_rank_;
  Clock::time_point hb_epoch_;
  uint64_t hb_sent_ = 0;
  Clock::time_point last_node_read_{};
  uint64_t next_rid_ = 1;
  uint64_t launches_ = 0, kills_ = 0, hb_lag_max_us_ = 0;
  bool failed_ = false;
};

void LoadGen::open_sockets() {
  int64_t per = o_.nodes_per_socket;
  if (per <= 0) {
    // Each ZeroMQ socket costs about two descriptors (its mailbox and its
    // connection): share sockets only when the limit forces it.
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    const int64_t usable = std::max<int64_t>(static_cast<int64_t>(lim.rlim_cur) - 256, 64);
    per = std::max<int64_t>(1, (2 * o_.nodes + usable - 1) / usable);
  }
  const size_t count = static_cast<size_t>((o_.nodes + per - 1) / per);
  ctx_.set(zmq::ctxopt::max_sockets, static_cast<int>(count + 16));
  nodes_of_socket_.resize(count);
  for (size_t s = 0; s < count; ++s) {
    zmq::socket_t sock(ctx_, zmq::socket_type::dealer);
    // One node per socket: exactly cadre-agent's routing id.
    sock.set(zmq::sockopt::routing_id, per == 1 ? "agent:" + names_[s] : "agent:scale-loadgen-" + std::to_string(s));
    sock.set(zmq::sockopt::linger, 0);
    sock.connect(o_.master);
    sockets_.push_back(std::move(sock));
  }
  for (size_t i = 0; i < names_.size(); ++i) {
    socket_of_[i] = i / static_cast<size_t>(per);
    nodes_of_socket_[socket_of_[i]].push_back(i);
  }
  client_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  client_->set(zmq::sockopt::linger, 0);
  client_->connect(o_.master);
  std::cout << "# " << o_.nodes << " nodes over " << count << " connections (" << per << " per connection)\n";
}

void LoadGen::send_register(size_t node) {
  capnp::MallocMessageBuilder m;
  auto r = cadre::start_envelope(m, 0).initRegister();
  r.setName(text(names_[node]));
  r.setAddress("127.0.0.1");
  auto total = r.initTotal();
  total.setMillicores(kNodeMillicores);
  total.setMemoryMb(kNodeMemoryMb);
  total.setGpus(kNodeGpus);
  auto labels = r.initLabels(2);
  labels[0].setKey("switch");
  labels[0].setValue(text("sw" + std::to_string(node / 32)));
  labels[1].setKey("rack");
  labels[1].setValue(text("rack" + std::to_string(node / 8)));
  auto gpus = r.initGpus(kNodeGpus);
  for (unsigned g = 0; g < static_cast<unsigned>(kNodeGpus); ++g) {
    gpus[g].setIndex(g);
    gpus[g].setUuid(text("GPU-" + names_[node] + "-" + std::to_string(g)));
    gpus[g].setModel("NVIDIA H100 80GB HBM3");
    gpus[g].setMemoryMb(81559);
  }
  auto running = r.initRunning(static_cast<unsigned>(live_[node].size()));
  for (unsigned k = 0; k < live_[node].size(); ++k) {
    const Rank& x = live_[node][k];
    running[k].setJobId(x.job);
    running[k].setRank(x.rank);
    running[k].setAttempt(x.attempt);
    running[k].setStep(x.step);
  }
  r.setIsolation("simulated (cadre-bench-scale)");
  std::string bytes = cadre::encode(m);
  (void)sockets_[socket_of_[node]].send(zmq::buffer(bytes), zmq::send_flags::dontwait);
}

void LoadGen::heartbeat_due() {
  const double since = std::chrono::duration<double>(Clock::now() - hb_epoch_).count();
  const uint64_t due = static_cast<uint64_t>(since * static_cast<double>(names_.size()));
  if (due > hb_sent_ + names_.size()) {
    // More than a second behind: the generator, not the master, is the limit.
    hb_lag_max_us_ = std::max<uint64_t>(hb_lag_max_us_, (due - hb_sent_) * 1'000'000 / names_.size());
  }
  for (; hb_sent_ < due; ++hb_sent_) {
    const size_t node = hb_sent_ % names_.size();
    (void)sockets_[socket_of_[node]].send(zmq::buffer(heartbeat_bytes_[node]), zmq::send_flags::dontwait);
  }
}

void LoadGen::on_node_message(size_t socket, const zmq::message_t& msg) {
  auto decoded = cadre::decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()));
  if (!decoded) return;
  auto env = (*decoded)->envelope();
  switch (env.which()) {
    case Envelope::LAUNCH: {
      auto l = env.getLaunch();
      ++launches_;
      capnp::MallocMessageBuilder m;
      auto s = cadre::start_envelope(m, 0).initTaskStatus();
      // The launch names the node by its place in the nodelist.
      auto nodes = l.getNodelist();
      const std::string node = l.getNodeRank() < nodes.size() ? std::string(nodes[l.getNodeRank()].cStr()) : "";
      s.setNode(text(node));
      // Names are sim%05d: the number is the node's index.
      if (node.size() > 3) {
        const size_t index = std::strtoul(node.c_str() + 3, nullptr, 10);
        if (index < live_.size()) {
          const Rank x{l.getJobId(), l.getRank(), l.getAttempt(), l.getStep()};
          live_[index].push_back(x);
          node_of_rank_[x] = index;
        }
      }
      s.setJobId(l.getJobId());
      s.setRank(l.getRank());
      s.setAttempt(l.getAttempt());
      s.setStep(l.getStep());
      s.setEvent(::TaskEvent::STARTED);
      std::string bytes = cadre::encode(m);
      (void)sockets_[socket].send(zmq::buffer(bytes), zmq::send_flags::dontwait);
      return;
    }
    case Envelope::KILL: {
      // As an agent: the rank ends by the signal and its end is reported.
      ++kills_;
      auto k = env.getKill();
      const Rank x{k.getJobId(), k.getRank(), k.getAttempt(), k.getStep()};
      auto it = node_of_rank_.find(x);
      if (it == node_of_rank_.end()) return;
      const size_t node = it->second;
      node_of_rank_.erase(it);
      std::erase_if(live_[node], [&](const Rank& r) { return !(r < x) && !(x < r); });
      capnp::MallocMessageBuilder m;
      auto s = cadre::start_envelope(m, 0).initTaskStatus();
      s.setNode(text(names_[node]));
      s.setJobId(x.job);
      s.setRank(x.rank);
      s.setAttempt(x.attempt);
      s.setStep(x.step);
      s.setEvent(::TaskEvent::EXITED);
      s.setSignal(15);
      std::string bytes = cadre::encode(m);
      (void)sockets_[socket].send(zmq::buffer(bytes), zmq::send_flags::dontwait);
      return;
    }
    case Envelope::PLEASE_REGISTER:
      // The message does not say which node; register every node of the socket.
      for (size_t node : nodes_of_socket_[socket]) send_register(node);
      return;
    default: return;  // registerReply, taskAck, error
  }
}

void LoadGen::read_node_sockets() {
  std::vector<zmq::pollitem_t> items;
  items.reserve(sockets_.size());
  for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  zmq::poll(items.data(), items.size(), std::chrono::milliseconds(0));
  for (size_t i = 0; i < items.size(); ++i) {
    if (!(items[i].revents & ZMQ_POLLIN)) continue;
    zmq::message_t msg;
    while (sockets_[i].recv(msg, zmq::recv_flags::dontwait)) on_node_message(i, msg);
  }
  last_node_read_ = Clock::now();
}

bool LoadGen::pump_until(const std::function<bool()>& done, double max_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(max_s);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    heartbeat_due();
    // Polling thousands of sockets is not free: every 20 ms is enough for
    // launches, which only need answering within the node timeout.
    if (Clock::now() - last_node_read_ > std::chrono::milliseconds(20)) read_node_sockets();
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

std::unique_ptr<cadre::Decoded> LoadGen::call(const std::function<void(Envelope::Builder)>& fill) {
  const uint64_t rid = next_rid_++;
  capnp::MallocMessageBuilder m;
  fill(cadre::start_envelope(m, rid));
  std::string bytes = cadre::encode(m);
  (void)client_->send(zmq::buffer(bytes), zmq::send_flags::none);
  std::unique_ptr<cadre::Decoded> answer;
  bool ok = pump_until(
      [&] {
        zmq::message_t msg;
        while (client_->recv(msg, zmq::recv_flags::dontwait)) {
          auto decoded = cadre::decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()));
          if (!decoded) continue;
          if ((*decoded)->envelope().getRequestId() != rid) continue;
          answer = std::move(*decoded);
          return true;
        }
        return false;
      },
      static_cast<double>(o_.timeout_s));
  if (!ok) {
    failed_ = true;
    fail("no answer from the master within " + std::to_string(o_.timeout_s) + " s");
  }
  if (answer && answer->envelope().isError()) {
    fail(std::string("the master says: ") + answer->envelope().getError().getMessage().cStr());
    return nullptr;
  }
  return answer;
}

std::optional<Stats> LoadGen::stats() {
  auto reply = call([](Envelope::Builder e) { e.initGetStats(); });
  if (!reply || !reply->envelope().isStatsReply()) return std::nullopt;
  auto r = reply->envelope().getStatsReply();
  Stats s;
  s.passes = r.getPasses();
  s.last_pass_us = r.getLastPassUs();
  s.max_pass_us = r.getMaxPassUs();
  s.snapshot_us = r.getLastSnapshotUs();
  s.decide_us = r.getLastDecideUs();
  s.apply_us = r.getLastApplyUs();
  s.pass_cpu_us = r.getLastPassCpuUs();
  s.pending = r.getJobsPending();
  s.running = r.getJobsRunning();
  s.nodes_up = r.getNodesUp();
  s.rss = r.getRssBytes();
  s.cpu_us = r.getCpuUserUs() + r.getCpuSystemUs();
  s.heartbeats = r.getHeartbeats();
  s.messages = r.getMessagesHandled();
  return s;
}

bool LoadGen::wait_stats(const std::function<bool(const Stats&)>& ok, std::optional<Stats>& last) {
  const auto give_up = Clock::now() + std::chrono::seconds(o_.timeout_s);
  while (Clock::now() < give_up) {
    last = stats();
    if (!last) return false;
    if (ok(*last)) return true;
    pump_until([] { return false; }, 0.2);
  }
  return false;
}

int64_t LoadGen::master_cpu_us(const Stats& s) const {
  if (o_.master_pid > 0)
    if (auto us = proc_cpu_us(o_.master_pid)) return *us;
  return s.cpu_us;
}

bool LoadGen::submit_jobs(int64_t count, bool fill, uint64_t& refused) {
  for (int64_t first = 0; first < count; first += kSubmitChunk) {
    const unsigned n = static_cast<unsigned>(std::min<int64_t>(kSubmitChunk, count - first));
    auto reply = call([&](Envelope::Builder e) {
      auto list = e.initSubmitMany().initRequests(n);
      for (unsigned k = 0; k < n; ++k) {
        const int64_t i = first + k;
        auto r = list[k];
        auto argv = r.initArgv(2);
        argv.set(0, "/bin/sleep");
        argv.set(1, "infinity");
        r.setWorkdir("/tmp");
        r.setOutputPattern("/tmp/cadre-scale-%j.out");
        r.setUid(getuid());
        r.setGid(getgid());
        r.setTimeLimitGiven(true);
        auto per = r.initPerTask();
        if (fill) {
          // One rank that takes a whole node: the cluster ends up full.
          r.setName("fill");
          r.setUser("fill");
          r.setNodes(1);
          r.setTasksPerNode(1);
          r.setNtasks(1);
          r.setTimeLimitSec(2 * 86400);
          per.setMillicores(kNodeMillicores);
          per.setMemoryMb(kNodeMemoryMb);
          per.setGpus(kNodeGpus);
          continue;
        }
        // A mix of shapes and users, as a real queue has.
        r.setName("pending-" + std::to_string(i));
        r.setUser("user" + std::to_string(i % 100));
        r.setPriority(static_cast<int32_t>(i % 3));
        r.setTimeLimitSec(3600 * static_cast<uint64_t>(1 + i % 4));
        switch (i % 4) {
          case 0:  // one small task
            r.setNtasks(1);
            per.setMillicores(1000);
            per.setMemoryMb(1024);
            break;
          case 1:  // a few tasks anywhere
            r.setNtasks(4);
            per.setMillicores(4000);
            per.setMemoryMb(16 * 1024);
            break;
          case 2:  // a 2-node GPU gang
            r.setNodes(2);
            r.setTasksPerNode(8);
            r.setNtasks(16);
            per.setMillicores(8000);
            per.setMemoryMb(64 * 1024);
            per.setGpus(1);
            break;
          default:  // a 16-node GPU gang
            r.setNodes(16);
            r.setTasksPerNode(8);
            r.setNtasks(128);
            per.setMillicores(8000);
            per.setMemoryMb(64 * 1024);
            per.setGpus(1);
            break;
        }
      }
    });
    if (!reply || !reply->envelope().isSubmitManyReply()) return false;
    for (uint64_t id : reply->envelope().getSubmitManyReply().getIds())
      if (id == 0) ++refused;
  }
  return true;
}

double LoadGen::steady_cpu(double seconds) {
  auto before = stats();
  if (!before) return -1;
  const int64_t cpu0 = master_cpu_us(*before);
  const auto t0 = Clock::now();
  pump_until([] { return false; }, seconds);
  auto after = stats();
  if (!after) return -1;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return 100.0 * static_cast<double>(master_cpu_us(*after) - cpu0) / 1e6 / wall;
}

bool LoadGen::collect_passes(int64_t count, std::vector<Stats>& passes) {
  auto first = stats();
  if (!first) return false;
  uint64_t seen = first->passes;
  const auto give_up = Clock::now() + std::chrono::seconds(o_.timeout_s);
  while (static_cast<int64_t>(passes.size()) < count) {
    if (Clock::now() > give_up) return false;
    // Passes run every [scheduler] interval (10 s by default): asking twice
    // a second sees each, unless the interval is shorter.
    pump_until([] { return false; }, 0.5);
    auto now = stats();
    if (!now) return false;
    if (now->passes > seen) {
      seen = now->passes;
      passes.push_back(*now);  // its last_* figures are of the latest pass
    }
  }
  return true;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string machine_header() {
  std::string cpu = "unknown cpu";
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.starts_with("model name")) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " cpus";
}

int LoadGen::run() {
  names_.resize(static_cast<size_t>(o_.nodes));
  live_.resize(names_.size());
  socket_of_.resize(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "sim%05zu", i);
    names_[i] = name;
  }
  for (const std::string& name : names_) {
    capnp::MallocMessageBuilder m;
    cadre::start_envelope(m, 0).initHeartbeat().setName(text(name));
    heartbeat_bytes_.push_back(cadre::encode(m));
  }
  open_sockets();
  std::cout << "# machine: " << machine_header() << "\n" << std::flush;

  // a. Registration.
  const auto reg_start = Clock::now();
  for (size_t i = 0; i < names_.size(); ++i) send_register(i);
  hb_epoch_ = Clock::now();
  std::optional<Stats> st;
  bool all_up = wait_stats([&](const Stats& s) { return s.nodes_up >= names_.size(); }, st);
  if (!all_up) return fail("the master lists " + std::to_string(st ? st->nodes_up : 0) + " of " +
                           std::to_string(names_.size()) + " nodes UP");
  const double reg_s = std::chrono::duration<double>(Clock::now() - reg_start).count();
  std::cout << "# phase a: " << names_.size() << " nodes UP after " << reg_s << " s\n" << std::flush;

  // b. Steady heartbeats, nothing queued.
  const double idle_cpu = steady_cpu(static_cast<double>(o_.seconds));
  std::cout << "# phase b: idle cluster, master CPU " << idle_cpu << " %\n" << std::flush;

  // c. A full cluster, then the pending jobs.
  uint64_t refused = 0;
  if (!submit_jobs(o_.nodes, true, refused) || refused) return fail("the fill jobs were not all accepted");
  bool full = wait_stats([&](const Stats& s) { return s.running >= names_.size(); }, st);
  if (!full) return fail("only " + std::to_string(st ? st->running : 0) + " fill jobs are running");
  std::cout << "# phase c: cluster full (" << st->running << " jobs running)\n" << std::flush;
  // Let the passes the fill caused settle before the baseline.
  pump_until([] { return false; }, 2.0);
  auto rss_before = stats();
  if (!rss_before) return fail("getStats failed");
  const auto submit_start = Clock::now();
  if (!submit_jobs(o_.jobs, false, refused)) return fail("submitMany failed");
  const double submit_s = std::chrono::duration<double>(Clock::now() - submit_start).count();
  if (refused) return fail(std::to_string(refused) + " pending jobs were refused");
  bool queued = wait_stats([&](const Stats& s) { return s.pending >= static_cast<uint32_t>(o_.jobs); }, st);
  if (!queued) return fail("only " + std::to_string(st ? st->pending : 0) + " jobs are pending");
  std::cout << "# phase c: " << o_.jobs << " jobs pending (submitted in " << submit_s << " s)\n" << std::flush;

  std::vector<Stats> passes;
  if (!collect_passes(o_.passes, passes)) return fail("fewer than " + std::to_string(o_.passes) + " passes ran");
  const double busy_cpu = steady_cpu(static_cast<double>(o_.seconds));
  auto rss_after = stats();
  if (!rss_after) return fail("getStats failed");
  if (rss_after->pending < static_cast<uint32_t>(o_.jobs) || rss_after->running < names_.size())
    return fail("jobs changed state during the measurement: " + std::to_string(rss_after->pending) + " pending, " +
                std::to_string(rss_after->running) + " running");

  std::vector<double> pass_ms, snap_ms, decide_ms, apply_ms, cpu_ms;
  for (const Stats& p : passes) {
    pass_ms.push_back(static_cast<double>(p.last_pass_us) / 1000);
    snap_ms.push_back(static_cast<double>(p.snapshot_us) / 1000);
    decide_ms.push_back(static_cast<double>(p.decide_us) / 1000);
    apply_ms.push_back(static_cast<double>(p.apply_us) / 1000);
    cpu_ms.push_back(static_cast<double>(p.pass_cpu_us) / 1000);
  }
  const double max_ms = pass_ms.empty() ? 0 : *std::max_element(pass_ms.begin(), pass_ms.end());
  const double per_job =
      static_cast<double>(static_cast<int64_t>(rss_after->rss) - static_cast<int64_t>(rss_before->rss)) /
      static_cast<double>(std::max<int64_t>(o_.jobs, 1));

  std::printf("\ncadre scale benchmark: %lld nodes, %lld pending jobs, %lld s windows\n",
              static_cast<long long>(o_.nodes), static_cast<long long>(o_.jobs), static_cast<long long>(o_.seconds));
  std::printf("machine: %s\n", machine_header().c_str());
  std::printf("%-58s %14s\n", "figure", "value");
  auto row = [](const char* what, double v, const char* unit) { std::printf("%-58s %12.2f %s\n", what, v, unit); };
  row("registration, all nodes UP", reg_s, "s");
  row("master CPU, heartbeats at 1 Hz, idle cluster", idle_cpu, "% core");
  row("master CPU, heartbeats at 1 Hz, full + pending", busy_cpu, "% core");
  row("scheduling pass, pending queue, median", median(pass_ms), "ms");
  row("scheduling pass, pending queue, max", max_ms, "ms");
  row("  of which snapshot (median)", median(snap_ms), "ms");
  row("  of which decide() (median)", median(decide_ms), "ms");
  row("  of which apply (median)", median(apply_ms), "ms");
  row("scheduling pass, CPU time of the master thread, median", median(cpu_ms), "ms");
  row("scheduling passes timed", static_cast<double>(passes.size()), "");
  row("submitMany of the pending jobs", submit_s, "s");
  row("master RSS before pending jobs", static_cast<double>(rss_before->rss) / (1024 * 1024), "MiB");
  row("master RSS with pending jobs", static_cast<double>(rss_after->rss) / (1024 * 1024), "MiB");
  row("master memory per pending job", per_job, "B");
  row("launches answered", static_cast<double>(launches_), "");
  if (kills_) row("kills received (unexpected: nodes timed out or were asked to register)", static_cast<double>(kills_), "");
  if (hb_lag_max_us_) row("heartbeats late by up to (generator overloaded)", static_cast<double>(hb_lag_max_us_) / 1000, "ms");
  return failed_ ? 1 : 0;
}

cadre::Result<Options> parse_options(int argc, char** argv) {
  cadre::Flags f;
  f.value("--master").value("--master-pid").value("--nodes").value("--jobs").value("--seconds");
  f.value("--passes").value("--nodes-per-socket").value("--timeout");
  if (cadre::Status s = f.parse(std::vector<std::string>(argv + 1, argv + argc)); !s) return cadre::make_error(s.error());
  Options o;
  if (!f.has("--master")) return cadre::make_error("--master is required (e.g. tcp://127.0.0.1:7700)");
  o.master = *f.get("--master");
  auto count = [&](const char* flag, int64_t max, int64_t& into, int64_t min) -> cadre::Status {
    if (!f.has(flag)) return {};
    auto v = cadre::parse_count(*f.get(flag), max);
    if (!v || *v < min)
      return cadre::make_error(std::string(flag) + " wants a whole number from " + std::to_string(min) + " to " +
                               std::to_string(max));
    into = *v;
    return {};
  };
  int64_t pid = 0;
  for (auto s : {count("--master-pid", INT32_MAX, pid, 1), count("--nodes", kMaxNodes, o.nodes, 1),
                 count("--jobs", kMaxJobs, o.jobs, 1), count("--seconds", 3600, o.seconds, 1),
                 count("--passes", 1000, o.passes, 1), count("--nodes-per-socket", kMaxNodes, o.nodes_per_socket, 1),
                 count("--timeout", 86400, o.timeout_s, 1)})
    if (!s) return cadre::make_error(s.error());
  o.master_pid = static_cast<int>(pid);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::cout << kUsage;
      return 0;
    }
  auto o = parse_options(argc, argv);
  if (!o) return fail(o.error() + " (see --help)", 2);
  try {
    LoadGen gen(*o);
    return gen.run();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
