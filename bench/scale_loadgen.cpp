// cadre-bench-scale: what 10,000 nodes and 100,000 queued jobs cost the
// master. See docs/benchmarks.md and bench/run-scale.
//
// The simulated nodes are bench/scale_nodes.{hpp,cpp}; this file drives the
// phases, prints the figures, and parses the command line.

#include "bench/scale_nodes.hpp"
#include "common/endpoint.hpp"
#include "common/main_guard.hpp"
#include "common/proto_text.hpp"

namespace cadre::bench {
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

int fail(const std::string& message, int status = 1) {
  std::cerr << "cadre-bench-scale: " << message << "\n";
  return status;
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

}  // namespace

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

namespace {

cadre::Result<Options> parse_options(int argc, char** argv) {
  cadre::Flags f;
  f.value("--master").value("--master-pid").value("--nodes").value("--jobs").value("--seconds");
  f.value("--passes").value("--nodes-per-socket").value("--timeout");
  if (cadre::Status s = f.parse(std::vector<std::string>(argv + 1, argv + argc)); !s) return cadre::make_error(s.error());
  Options o;
  if (!f.has("--master")) return cadre::make_error("--master is required (e.g. tcp://127.0.0.1:7700)");
  auto master = cadre::parse_master_endpoint(*f.get("--master"));
  if (!master) return cadre::make_error("--master " + master.error());
  o.master = master->to_string();
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
}  // namespace cadre::bench

static int run_main(int argc, char** argv) {
  using namespace cadre::bench;
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

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-bench-scale", [&] { return run_main(argc, argv); });
}
