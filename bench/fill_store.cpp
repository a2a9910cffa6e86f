// cadre-bench-fill-store: writes a cadre database holding a large job
// history, for timing a master restart (bench/run-restart).
//
// Jobs are built by the master's own Cluster::submit (its validation and
// defaults: output pattern, name, account, partition, time limit) and
// written by the master's own SqliteStore, so the rows are what a real
// master writes. Running jobs get an allocation on registered nodes (the
// nodes needed are added); ended jobs keep the allocation they ran on, an
// end time, an exit code and a reason. Ids are in history order: ended
// jobs first (oldest), then running, then pending (newest).
//
// Single-threaded; writes in transactions of --batch jobs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/bounded_file.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/main_guard.hpp"
#include "common/resources.hpp"
#include "master/state/cluster.hpp"
#include "master/store/sqlite_store.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-bench-fill-store --state-dir DIR [--pending P] [--running R] [--ended E]
                              [--nodes N] [--users U] [--batch B] [--seed S]

Writes DIR/cadre.db (created if missing; jobs are added after the highest id
already there) with E ended, R running and P pending jobs, through the
master's own submit and store code. Running jobs need nodes: at least N are
registered (default 16, 64 cpus, 512 GiB and 8 GPUs each), more when the
running jobs need them. A restarted master waits for their agents.

  --pending P   jobs waiting in the queue (default 10000)
  --running R   jobs running on nodes (default 0)
  --ended E     jobs that ended: completed, failed, cancelled, timed out (default 990000)
  --nodes N     nodes to register at least (default 16)
  --users U     distinct users the jobs belong to (default 50)
  --batch B     jobs per transaction (default 50000)
  --seed S      random seed of the job mix (default 1)

example:
  cadre-bench-fill-store --state-dir /tmp/cadre-1m --pending 10000 --ended 990000
  cadre-master --state-dir /tmp/cadre-1m --listen tcp://127.0.0.1:7700
)";

constexpr int64_t kNodeMillicores = 64000;
constexpr int64_t kNodeMemoryMb = 512 * 1024;
constexpr int64_t kNodeGpus = 8;

using cadre::Job;
using cadre::JobSpec;
using cadre::JobState;
using cadre::Node;
using cadre::Resources;
using cadre::Task;
using cadre::TaskState;

cadre::Node make_node(size_t index, int64_t now_unix) {
  char name[32];
  std::snprintf(name, sizeof name, "node-%04zu", index + 1);
  Node n;
  n.name = name;
  n.address = "tcp://10.0." + std::to_string(index / 250) + "." + std::to_string(index % 250 + 1) + ":7701";
  n.state = cadre::NodeState::up;
  n.total = Resources{kNodeMillicores, kNodeMemoryMb, kNodeGpus};
  n.labels = {{"rack", "r" + std::to_string(index / 32)}};
  n.last_seen_unix = now_unix;
  return n;
}

std::string user_name(uint64_t u) {
  std::string digits = std::to_string(u);
  return "user" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
}

// What users submit: a mix of shapes and commands, as `cadre submit` sends it.
JobSpec make_spec(std::mt19937_64& rng, uint32_t users) {
  const uint32_t u = static_cast<uint32_t>(rng() % users);
  JobSpec s;
  s.user = user_name(u);
  s.uid = 10000 + u;
  s.gid = 10000 + u;
  s.workdir = "/home/" + s.user + "/project-" + std::to_string(rng() % 5);
  const uint64_t kind = rng() % 100;
  if (kind < 80) {  // one rank: a script, a sweep point
    s.argv = {"python3", "sweep.py", "--seed", std::to_string(rng() % 100000)};
    s.per_task = Resources{1000, 2048, 0};
    s.ntasks = 1;
    s.time_limit_s = 3600;
  } else if (kind < 95) {  // a few ranks wherever they fit
    s.argv = {"/opt/sim/bin/solver", "--input", "data/case-" + std::to_string(rng() % 1000) + ".h5"};
    s.per_task = Resources{2000, 4096, 0};
    s.ntasks = 4;
    s.time_limit_s = 4 * 3600;
  } else {  // a GPU gang over two nodes
    s.argv = {"torchrun", "train.py", "--config", "configs/run-" + std::to_string(rng() % 50) + ".yaml"};
    s.per_task = Resources{8000, 32768, 1};
    s.nodes = 2;
    s.tasks_per_node = 4;
    s.ntasks = 8;
    s.time_limit_s = 24 * 3600;
  }
  s.time_limit_given = true;
  return s;
}

// Places running jobs' ranks on nodes in order, adding nodes when full.
class Packer {
 public:
  explicit Packer(std::vector<Node>* nodes, int64_t now_unix) : nodes_(nodes), now_unix_(now_unix) {
    for (size_t i = 0; i < nodes_->size(); ++i) free_.push_back((*nodes_)[i].total);
    next_gpu_.assign(nodes_->size(), 0);
  }

  std::vector<Task> place(const JobSpec& s) {
    std::vector<Task> tasks;
    const uint32_t group = s.nodes > 0 ? s.tasks_per_node : 1;  // ranks that must share a node
    const Resources need = s.per_task.times(group);
    for (uint32_t rank = 0; rank < s.ntasks; rank += group) {
      size_t n = fitting_node(need, s.nodes > 0 && rank > 0 ? tasks.back().node : std::string());
      for (uint32_t r = rank; r < rank + group; ++r) {
        Task t;
        t.rank = r;
        t.node = (*nodes_)[n].name;
        for (int64_t g = 0; g < s.per_task.gpus; ++g) t.gpus.push_back(next_gpu_[n]++);
        t.state = TaskState::running;
        tasks.push_back(std::move(t));
      }
      free_[n] -= need;
    }
    return tasks;
  }

 private:
  // The first node from the cursor with room, other than `not_on` (a gang's
  // previous node group); a new node when none has.
  size_t fitting_node(const Resources& need, const std::string& not_on) {
    for (; cursor_ < nodes_->size(); ++cursor_) {
      if (fits(cursor_, need, not_on)) return cursor_;
      if (cursor_ + 1 < nodes_->size() && fits(cursor_ + 1, need, not_on)) return cursor_ + 1;
    }
    nodes_->push_back(make_node(nodes_->size(), now_unix_));
    free_.push_back(nodes_->back().total);
    next_gpu_.push_back(0);
    return nodes_->size() - 1;
  }
  bool fits(size_t n, const Resources& need, const std::string& not_on) const {
    return (*nodes_)[n].name != not_on && (free_[n] - need).non_negative();
  }

  std::vector<Node>* nodes_;
  int64_t now_unix_;
  std::vector<Resources> free_;
  std::vector<uint32_t> next_gpu_;
  size_t cursor_ = 0;
};

// An ended job: where it ran, how long, and how it ended.
void make_ended(Job& j, std::mt19937_64& rng, const std::vector<Node>& nodes, int64_t end_unix) {
  const uint32_t group = j.spec.nodes > 0 ? j.spec.tasks_per_node : 1;
  const size_t first = rng() % nodes.size();
  for (uint32_t r = 0; r < j.spec.ntasks; ++r) {
    Task t;
    t.rank = r;
    t.node = nodes[(first + r / group) % nodes.size()].name;
    for (int64_t g = 0; g < j.spec.per_task.gpus; ++g)
      t.gpus.push_back(static_cast<uint32_t>(((r % group) * j.spec.per_task.gpus + g) % kNodeGpus));
    t.state = TaskState::completed;
    j.tasks.push_back(std::move(t));
  }
  j.attempt = 1;
  j.end_time = end_unix;
  j.start_time = end_unix - static_cast<int64_t>(rng() % static_cast<uint64_t>(j.spec.time_limit_s));
  j.master_port = static_cast<uint16_t>(29500 + rng() % 1000);
  j.reason.clear();
  const uint64_t outcome = rng() % 100;
  if (outcome < 85) {
    j.state = JobState::completed;
  } else if (outcome < 95) {
    j.state = JobState::failed;
    j.exit_code = 1;
    j.tasks[0].state = TaskState::failed;
    j.tasks[0].exit_code = 1;
    for (size_t r = 1; r < j.tasks.size(); ++r) j.tasks[r].state = TaskState::cancelled;
    j.reason = "rank 0 on " + j.tasks[0].node + " exited with code 1";
  } else if (outcome < 99) {
    j.state = JobState::cancelled;
    j.reason = "cancelled by user";
    for (Task& t : j.tasks) t.state = TaskState::cancelled;
  } else {
    j.state = JobState::timeout;
    j.reason = "time limit of " + cadre::format_duration_s(j.spec.time_limit_s) + " reached";
    j.start_time = end_unix - j.spec.time_limit_s;
    for (Task& t : j.tasks) t.state = TaskState::cancelled;
  }
}

struct Mix {
  int64_t pending = 10000, running = 0, ended = 990000, nodes = 16, users = 50, batch = 50000, seed = 1;
};

// A refused flag exits 2, a store that cannot be written 1.
int fail(const std::string& message, int status = 2) {
  return cadre::print_error("cadre-bench-fill-store", message, status);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Writes the jobs; returns an error message or "".
std::string fill(cadre::Store& store, const Mix& mix, std::vector<Node>& nodes, int64_t now_unix) {
  auto max_id = store.max_job_id();
  if (!max_id) return max_id.error();
  cadre::JobId last_id = *max_id;
  std::mt19937_64 rng(static_cast<uint64_t>(mix.seed));
  Packer packer(&nodes, now_unix);
  cadre::Limits no_limits;
  no_limits.max_pending_jobs_per_user = 0;
  const int64_t total = mix.ended + mix.running + mix.pending;
  // The history spans a month up to now, one submit after another.
  const int64_t span_s = 30 * 86400;
  for (int64_t done = 0; done < total;) {
    // A fresh Cluster per batch keeps memory flat: only the jobs being
    // written live in it.
    cadre::Cluster cluster(30000);
    cluster.set_limits(no_limits);
    cluster.restore(std::vector<Node>(nodes.begin(), nodes.begin() + std::min<size_t>(nodes.size(), 64)), {},
                    last_id, now_ms());
    if (cadre::Status s = store.begin(); !s) return s.error();
    const int64_t stop = std::min(total, done + mix.batch);
    for (; done < stop; ++done) {
      const int64_t submit_unix = now_unix - span_s + span_s * done / std::max<int64_t>(total, 1);
      auto id = cluster.submit(make_spec(rng, static_cast<uint32_t>(mix.users)), submit_unix);
      if (!id) return "submit refused a generated job: " + id.error();
      Job j = *cluster.find_job(*id);
      if (done < mix.ended) {
        make_ended(j, rng, nodes, std::min(now_unix - 60, submit_unix + 60 + static_cast<int64_t>(rng() % 3600)));
      } else if (done < mix.ended + mix.running) {
        j.tasks = packer.place(j.spec);
        j.state = JobState::running;
        j.reason.clear();
        j.attempt = 1;
        j.start_time = std::max(submit_unix, now_unix - 600);
        j.master_port = 29500;
      }
      if (cadre::Status s = store.save_job(j); !s) return s.error();
      last_id = j.id;
    }
    if (cadre::Status s = store.commit(); !s) return s.error();
  }
  // Nodes last: the packer may have added some for the running jobs.
  if (cadre::Status s = store.begin(); !s) return s.error();
  for (const Node& n : nodes)
    if (cadre::Status s = store.save_node(n); !s) return s.error();
  cadre::UsageRecord usage;
  usage.as_of = now_unix;
  for (int64_t u = 0; u < mix.users; ++u) {
    const std::string user = user_name(static_cast<uint64_t>(u));
    usage.users[user] = 3600.0 * static_cast<double>(u + 1);
    usage.accounts[user] = usage.users[user];
  }
  if (cadre::Status s = store.save_usage(usage); !s) return s.error();
  if (cadre::Status s = store.commit(); !s) return s.error();
  return "";
}

}  // namespace

static int run_main(int argc, char** argv) {
  cadre::log::set_program("cadre-bench-fill-store");
  cadre::log::set_level(cadre::log::Level::warning);
  cadre::Flags flags;
  flags.value("--state-dir").value("--pending").value("--running").value("--ended").value("--nodes");
  flags.value("--users").value("--batch").value("--seed").toggle("--help", {"-h"});
  if (cadre::Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc)); !s) return fail(s.error());
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }
  auto dir = flags.get("--state-dir");
  if (!dir) return fail("--state-dir DIR is required (see --help)");
  if (dir->empty()) return fail("--state-dir: empty (''); give the folder to write cadre.db in");
  Mix mix;
  struct Count {
    const char* flag;
    int64_t* into;
    int64_t min, max;
  };
  for (const Count& c : {Count{"--pending", &mix.pending, 0, 100000000}, Count{"--running", &mix.running, 0, 10000000},
                         Count{"--ended", &mix.ended, 0, 100000000}, Count{"--nodes", &mix.nodes, 1, 100000},
                         Count{"--users", &mix.users, 1, 100000}, Count{"--batch", &mix.batch, 1, 10000000},
                         Count{"--seed", &mix.seed, 0, int64_t{1} << 40}}) {
    auto text = flags.get(c.flag);
    if (!text) continue;
    auto n = cadre::parse_count(*text, c.max);
    if (!n || *n < c.min)
      return fail(std::string(c.flag) + ": expected a whole number from " + std::to_string(c.min) + " to " +
                  std::to_string(c.max) + ", got '" + *text + "'");
    *c.into = *n;
  }

  std::error_code ec;
  std::filesystem::create_directories(*dir, ec);
  if (ec) return fail("--state-dir: cannot create " + cadre::shown_path(*dir) + ": " + ec.message());
  auto store = cadre::SqliteStore::open(*dir + "/cadre.db");
  if (!store) return fail(store.error(), 1);
  const int64_t now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<Node> nodes;
  auto stored_nodes = (*store)->load_nodes();
  if (!stored_nodes) return fail(stored_nodes.error(), 1);
  nodes = std::move(*stored_nodes);
  for (size_t i = nodes.size(); i < static_cast<size_t>(mix.nodes); ++i) nodes.push_back(make_node(i, now_unix));

  const auto start = std::chrono::steady_clock::now();
  if (std::string err = fill(**store, mix, nodes, now_unix); !err.empty()) return fail(err, 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "wrote " << mix.ended << " ended, " << mix.running << " running and " << mix.pending
            << " pending jobs and " << nodes.size() << " nodes to " << *dir << "/cadre.db in " << seconds << " s\n";
  return 0;
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-bench-fill-store", [&] { return run_main(argc, argv); });
}
