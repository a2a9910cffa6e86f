// The simulated cluster of cadre-bench-scale (bench/scale_loadgen.cpp): one
// process that plays every node the way cadre-agent does (agent/service.cpp):
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
#pragma once

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

namespace cadre::bench {

using Clock = std::chrono::steady_clock;

constexpr int64_t kNodeMillicores = 64'000;
constexpr int64_t kNodeMemoryMb = 512 * 1024;
constexpr int32_t kNodeGpus = 8;
constexpr unsigned kSubmitChunk = 5000;  // jobs per submitMany

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
std::optional<int64_t> proc_cpu_us(int pid);

// The nodes, their sockets, and the requests that measure the master.
// run() (bench/scale_loadgen.cpp) drives the phases and prints the figures.
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

}  // namespace cadre::bench
