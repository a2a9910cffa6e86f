#include "bench/scale_nodes.hpp"
#include "common/proto_text.hpp"

namespace cadre::bench {
namespace {

int fail(const std::string& message, int status = 1) {
  std::cerr << "cadre-bench-scale: " << message << "\n";
  return status;
}

}  // namespace

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

}  // namespace cadre::bench
