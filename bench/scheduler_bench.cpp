// cadre-bench-scheduler: what one scheduling pass (sched::decide) and one
// gang placement (sched::place_gang) cost at the scale of a large GPU
// cluster: 10,000 nodes of 8 GPUs, 90% busy, 100,000 pending jobs. Google
// Benchmark; see docs/benchmarks.md and bench/run-scheduler.
//
// The cluster and the queue are generated once, deterministically
// (std::mt19937, seed 42), before any benchmark runs; every benchmark reads
// them and none changes them, so repetitions measure the same input.
// CADRE_BENCH_SMALL=1 shrinks them to 200 nodes and 2,000 pending jobs for
// a smoke run:
//   CADRE_BENCH_SMALL=1 cadre-bench-scheduler --benchmark_min_time=0.01 --benchmark_filter=-conservative
// takes a fraction of a second (conservative backfill alone takes seconds).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/escape.hpp"
#include "common/main_guard.hpp"
#include "master/scheduler/decide.hpp"
#include "master/scheduler/gang_placement.hpp"
#include "master/scheduler/snapshot.hpp"

namespace {

using namespace cadre;
using namespace cadre::sched;
using Rng = std::mt19937;

struct Scale {
  uint32_t nodes = 10'000;
  uint32_t pending = 100'000;
};

Scale scale_from_env() {
  const char* small = std::getenv("CADRE_BENCH_SMALL");
  if (small && std::string(small) != "0") return Scale{200, 2'000};
  return Scale{};
}

constexpr int64_t kNow = 1'800'000'000;  // a fixed "now": decide() reads no clock
constexpr int64_t kHour = 3600;
constexpr uint32_t kGpusPerNode = 8;
constexpr uint32_t kUsers = 20;
constexpr uint32_t kAccounts = 4;
constexpr uint32_t kH100 = 1;  // index into Snapshot::gpu_models
// One GPU rank leaves room on a full node (8 ranks: 48 of 64 cpus, 384 of
// 512 GiB) for CPU-only jobs, as on real GPU nodes.
constexpr Resources kGpuRank{6000, 48 * 1024, 1};

int64_t uniform(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

NodeView make_node(uint32_t i) {
  NodeView n;
  char name[16];
  std::snprintf(name, sizeof name, "gpu%05u", i);  // short: fits std::string's inline buffer, as real names do
  n.name = name;
  n.total = Resources{64'000, 512 * 1024, kGpusPerNode};
  n.free = n.total;
  for (uint32_t g = 0; g < kGpusPerNode; ++g) n.free_gpus.push_back(g);
  n.gpu_model = kH100;
  n.switch_id = i / 32;
  n.rack_id = i / 256;
  n.partitions = 1;  // partition 0 only
  return n;
}

// The job mix: 60% one 1-GPU rank, 20% one whole node (8 ranks of 1 GPU),
// 12% gangs of 2-8 whole nodes, 6% gangs of 16-64 whole nodes, 2% CPU-only
// jobs of 1-32 ranks placed anywhere (no per-node layout).
GangShape draw_shape(Rng& rng) {
  const int64_t pick = uniform(rng, 0, 99);
  auto whole_nodes = [](uint32_t n) { return GangShape{kGpuRank, n, kGpusPerNode, n * kGpusPerNode}; };
  if (pick < 60) return GangShape{kGpuRank, 0, 0, 1};
  if (pick < 80) return whole_nodes(1);
  if (pick < 92) return whole_nodes(static_cast<uint32_t>(uniform(rng, 2, 8)));
  if (pick < 98) return whole_nodes(static_cast<uint32_t>(uniform(rng, 16, 64)));
  const Resources cpu_rank{uniform(rng, 1, 4) * 1000, 4096, 0};
  return GangShape{cpu_rank, 0, 0, static_cast<uint32_t>(uniform(rng, 1, 32))};
}

// Users ask for whole hours, as they do in practice; decide() caches "this
// shape does not fit until t" per shape, so the spread of limits matters.
int64_t draw_limit(Rng& rng) { return uniform(rng, 1, 48) * kHour; }

std::vector<PendingJob> make_pending(uint32_t count, Rng& rng) {
  std::vector<PendingJob> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    PendingJob j;
    j.id = i + 1;
    j.partition = 0;
    j.user = static_cast<uint32_t>(uniform(rng, 0, kUsers - 1));
    j.account = j.user % kAccounts;
    j.submit_time = kNow - uniform(rng, 0, 24 * kHour);
    j.time_limit_s = draw_limit(rng);
    j.shape = draw_shape(rng);
    // One GPU job in ten names its GPU type (--gpus=h100:N).
    if (j.shape.per_task.gpus > 0 && uniform(rng, 0, 9) == 0) j.gpu_models = {kH100};
    out.push_back(std::move(j));
  }
  return out;
}

// Starts jobs of the same mix, placed as the scheduler would place them,
// until `fraction` of the GPUs are busy; so every running job holds exact,
// consistent GPU indices. Each ends within the next 48 hours.
void fill_running(Snapshot& s, double fraction, Rng& rng) {
  const int64_t target = static_cast<int64_t>(fraction * static_cast<double>(s.nodes.size() * kGpusPerNode));
  int64_t busy = 0;
  PlaceConstraints c;
  c.partition = 0;
  for (int misses = 0; busy < target && misses < 1000;) {
    const GangShape shape = draw_shape(rng);
    auto gang = place_gang(shape, s.nodes, c);
    if (!gang) {
      ++misses;
      continue;
    }
    reserve(shape, *gang, s.nodes);
    RunningJob r;
    r.id = 1'000'000'000 + s.running.size();
    r.user = static_cast<uint32_t>(uniform(rng, 0, kUsers - 1));
    const int64_t limit = draw_limit(rng);
    r.expected_end = kNow + uniform(rng, 60, limit);
    r.start_time = r.expected_end - limit;
    r.per_task = shape.per_task;
    for (RankSlot& slot : gang->ranks) r.ranks.push_back(RankUse{slot.node, std::move(slot.gpus)});
    s.running.push_back(std::move(r));
    busy += shape.total().gpus;
  }
}

// Resident set size from /proc/self/statm, in bytes.
int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

struct PendingMemory {
  double vector_bytes_per_job = 0;  // sizeof(PendingJob) plus its vectors' heap
  double rss_bytes_per_job = 0;     // what the process grew by, allocator overhead included
};

struct World {
  Snapshot busy;   // ~90% of GPUs held by running jobs
  Snapshot empty;  // the same nodes all free, nothing running; the same queue
  PendingMemory memory;
  double busy_gpu_fraction = 0;
};

Snapshot base_snapshot(const Scale& scale) {
  Snapshot s;
  for (uint32_t i = 0; i < scale.nodes; ++i) s.nodes.push_back(make_node(i));
  PartitionView gpu;
  gpu.name = "gpu";
  s.partitions.push_back(gpu);
  s.gpu_models = {"", "h100"};
  Rng rng(7);  // fair-share factors: some users used a lot recently, some nothing
  std::uniform_real_distribution<double> share(0.05, 1.0);
  for (uint32_t u = 0; u < kUsers; ++u) s.user_fairshare.push_back(share(rng));
  for (uint32_t a = 0; a < kAccounts; ++a) s.account_fairshare.push_back(share(rng));
  return s;
}

World build_world(const Scale& scale) {
  World w;
  Rng rng(42);
  // First, while the heap is fresh, so the growth is the queue's alone.
  const int64_t rss_before = rss_bytes();
  std::vector<PendingJob> pending = make_pending(scale.pending, rng);
  const int64_t rss_after = rss_bytes();
  double vector_bytes = static_cast<double>(pending.capacity() * sizeof(PendingJob));
  for (const PendingJob& j : pending) vector_bytes += static_cast<double>(j.gpu_models.capacity() * sizeof(uint32_t));
  w.memory.vector_bytes_per_job = vector_bytes / scale.pending;
  w.memory.rss_bytes_per_job = static_cast<double>(rss_after - rss_before) / scale.pending;

  w.empty = base_snapshot(scale);
  w.empty.pending = pending;
  w.busy = base_snapshot(scale);
  w.busy.pending = std::move(pending);
  fill_running(w.busy, 0.90, rng);
  int64_t free_gpus = 0;
  for (const NodeView& n : w.busy.nodes) free_gpus += static_cast<int64_t>(n.free_gpus.size());
  w.busy_gpu_fraction = 1.0 - static_cast<double>(free_gpus) / (scale.nodes * kGpusPerNode);
  return w;
}

void describe(benchmark::State& state, const Snapshot& s) {
  state.counters["nodes"] = static_cast<double>(s.nodes.size());
  state.counters["pending"] = static_cast<double>(s.pending.size());
  state.counters["running"] = static_cast<double>(s.running.size());
}

void bench_placement(benchmark::State& state, const World& w, GangShape shape) {
  PlaceConstraints c;
  c.partition = 0;
  bool placed = false;
  for (auto _ : state) {
    auto gang = place_gang(shape, w.busy.nodes, c);
    placed = gang.has_value();
    benchmark::DoNotOptimize(gang);
  }
  describe(state, w.busy);
  state.counters["busy_gpu_pct"] = 100 * w.busy_gpu_fraction;
  state.counters["placed"] = placed ? 1 : 0;  // 0: the bench measured a refusal
}

void bench_pass(benchmark::State& state, const Snapshot& s, Backfill backfill) {
  Policy policy;
  policy.backfill = backfill;
  Decisions d;
  for (auto _ : state) {
    d = decide(s, policy, kNow);
    benchmark::DoNotOptimize(d);
  }
  describe(state, s);
  state.counters["started"] = static_cast<double>(d.placements.size());
  state.counters["reserved"] = static_cast<double>(d.reservations.size());
  state.counters["preempting"] = static_cast<double>(d.preemptions.size());
}

void bench_memory(benchmark::State& state, const World& w) {
  for (auto _ : state) benchmark::DoNotOptimize(w.memory);
  state.counters["pending"] = static_cast<double>(w.busy.pending.size());
  state.counters["sizeof_PendingJob"] = sizeof(PendingJob);
  state.counters["vector_B_per_job"] = w.memory.vector_bytes_per_job;
  state.counters["rss_B_per_job"] = w.memory.rss_bytes_per_job;
}

// The benchmarks capture the world by reference: RegisterBenchmark's extra
// arguments would be copied, and the world is hundreds of megabytes.
void register_benchmarks(const World& w) {
  auto placement = [&w](const char* name, GangShape shape) {
    benchmark::RegisterBenchmark(name, [&w, shape](benchmark::State& st) { bench_placement(st, w, shape); })
        ->Unit(benchmark::kMicrosecond);
  };
  auto gang = [](uint32_t nodes) { return GangShape{kGpuRank, nodes, kGpusPerNode, nodes * kGpusPerNode}; };
  placement("BM_GangPlacement/1rank_1gpu", GangShape{kGpuRank, 0, 0, 1});
  placement("BM_GangPlacement/4nodes_8gpu", gang(4));
  placement("BM_GangPlacement/32nodes_8gpu", gang(32));

  auto pass = [](const std::string& name, const Snapshot& s, Backfill b) {
    benchmark::RegisterBenchmark(name.c_str(), [&s, b](benchmark::State& st) { bench_pass(st, s, b); })
        ->Unit(benchmark::kMillisecond);
  };
  for (Backfill b : {Backfill::easy, Backfill::conservative, Backfill::fcfs, Backfill::greedy})
    pass("BM_FullPass/" + std::string(to_string(b)), w.busy, b);
  pass("BM_FullPassEmptyCluster/easy", w.empty, Backfill::easy);

  benchmark::RegisterBenchmark("BM_PendingMemory", [&w](benchmark::State& st) { bench_memory(st, w); })
      ->Iterations(1);
}

// Google Benchmark parses its own flags, and answers an unknown output
// format with its usage and exit status 0, which a script would take for a
// run: refused here first. (Its other flags are its own to judge.)
Status check_output_formats(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    for (std::string_view flag : {"--benchmark_format=", "--benchmark_out_format="}) {
      if (!arg.starts_with(flag)) continue;
      const std::string_view value = arg.substr(flag.size());
      if (!value.empty() && value != "console" && value != "json" && value != "csv")  // empty: the default
        return make_error(std::string(flag.substr(0, flag.size() - 1)) + ": '" + escape_control(value) +
                          "' is not console, json or csv");
    }
  }
  return {};
}

}  // namespace

static int run_main(int argc, char** argv) {
  if (Status s = check_output_formats(argc, argv); !s) {
    std::cerr << "cadre-bench-scheduler: " << s.error() << "\n";
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Scale scale = scale_from_env();
  // Static: the benchmarks hold references to it until the end.
  static const World world = build_world(scale);
  char cluster[160];
  std::snprintf(cluster, sizeof cluster, "%u nodes x %u GPUs, %.1f%% of GPUs busy, %zu running, %u pending",
                scale.nodes, kGpusPerNode, 100 * world.busy_gpu_fraction, world.busy.running.size(), scale.pending);
  benchmark::AddCustomContext("cluster", cluster);
  std::fprintf(stderr, "pending job memory: %.0f B/job in the vector (sizeof(PendingJob) = %zu), %.0f B/job RSS growth\n",
               world.memory.vector_bytes_per_job, sizeof(PendingJob), world.memory.rss_bytes_per_job);
  register_benchmarks(world);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-bench-scheduler", [&] { return run_main(argc, argv); });
}
