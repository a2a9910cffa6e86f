// cadre-bench-submit: how many acknowledged submits per second a master
// sustains. See docs/benchmarks.md.
//
// Each client is a thread with its own ZeroMQ context and DEALER socket that
// keeps up to --window requests in flight: it sends a window, then one more
// submit per reply. A reply counts only when it is a submitReply with a job
// id, for a request id still in flight; anything else is an error, and any
// error makes the exit status non-zero. With no agent registered, the master
// accepts every job (it cannot judge fit) and leaves it PENDING, so the
// number measured is validate + persist (commit, fsync) + reply.
#include <capnp/message.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "cli/client.hpp"
#include "common/codec.hpp"
#include "common/flags.hpp"
#include "common/main_guard.hpp"
#include "common/proto_text.hpp"
#include "common/resources.hpp"

namespace {

using cadre::text;

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: cadre-bench-submit [--master ENDPOINT] [--jobs N] [--clients C] [--window W]
                         [--timeout SECONDS] [--parsable]

Submits N trivial jobs (`true`, 1 task, 1 cpu, 1 MiB) to a master and reports
acknowledged submits per second, from the first send to the last reply. Run it
against a master with no agents: the jobs stay PENDING and never run.

  --master ENDPOINT   the master (default $CADRE_MASTER, else tcp://127.0.0.1:7700)
  --jobs N            jobs to submit in all (default 2000)
  --clients C         concurrent connections, one thread each (default 1)
  --window W          requests each client keeps in flight (default 64; 1 = one
                      at a time, waiting for each reply)
  --timeout SECONDS   give up when no reply comes for this long (default 30)
  --parsable          print only jobs per second
  --help              this text

examples:
  cadre-bench-submit --master tcp://127.0.0.1:7700 --jobs 2000 --clients 4 --window 64
  cadre-bench-submit --window 1     # one submit at a time: the latency bound
)";

constexpr int64_t kMaxJobs = 10'000'000;
constexpr int64_t kMaxClients = 256;
constexpr int64_t kMaxWindow = 100'000;

int fail(const std::string& message, int status = 1) {
  return cadre::print_error("cadre-bench-submit", message, status);
}

struct Options {
  std::string master;
  int64_t jobs = 2000;
  int64_t clients = 1;
  int64_t window = 64;
  int timeout_ms = 30000;
  bool parsable = false;
};

// What one client thread saw. Written by that thread only; read after join.
struct ClientResult {
  uint64_t acked = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<uint64_t> job_ids;
  Clock::time_point last_ack{};
};


std::string current_user() {
  passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : std::to_string(getuid());
}

// One encoded Submit per job, built before the clock starts so the
// measurement is the master's work, not the client's.
std::vector<std::pair<uint64_t, std::string>> encode_submits(uint64_t first_rid, int64_t count) {
  const std::string user = current_user();
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t rid = first_rid + static_cast<uint64_t>(i);
    capnp::MallocMessageBuilder m;
    auto r = cadre::start_envelope(m, rid).initSubmit().initRequest();
    r.setName("bench");
    r.initArgv(1).set(0, "true");
    r.setWorkdir("/tmp");
    r.setOutputPattern("/dev/null");
    auto per = r.initPerTask();
    per.setMillicores(1000);
    per.setMemoryMb(1);
    per.setGpus(0);
    r.setNtasks(1);
    r.setUser(text(user));
    r.setUid(getuid());
    r.setGid(getgid());
    out.emplace_back(rid, cadre::encode(m));
  }
  return out;
}

// Sends one ListNodes and waits for its reply, so the connection is up
// before the clock starts. Returns an error message, empty on success.
std::string warm_up(zmq::socket_t& socket, uint64_t rid, int timeout_ms) {
  capnp::MallocMessageBuilder m;
  cadre::start_envelope(m, rid).initListNodes();
  std::string bytes = cadre::encode(m);
  socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0)
    return "no answer within " + std::to_string(timeout_ms / 1000) + " s; is cadre-master running there?";
  zmq::message_t reply;
  (void)socket.recv(reply, zmq::recv_flags::none);
  return {};
}

// Reads one reply and checks it against the requests in flight.
void take_reply(const zmq::message_t& reply, std::unordered_set<uint64_t>& in_flight, ClientResult& r) {
  auto note = [&r](std::string what) {
    ++r.errors;
    if (r.first_error.empty()) r.first_error = std::move(what);
  };
  auto decoded = cadre::decode(std::string_view(static_cast<const char*>(reply.data()), reply.size()));
  if (!decoded) return note("bad reply: " + decoded.error());
  try {
    auto env = (*decoded)->envelope();
    if (in_flight.erase(env.getRequestId()) == 0)
      return note("reply for request " + std::to_string(env.getRequestId()) + ", which is not in flight");
    if (env.isError()) return note(std::string("error reply: ") + env.getError().getMessage().cStr());
    if (!env.isSubmitReply()) return note("reply is not a submitReply");
    uint64_t id = env.getSubmitReply().getId();
    if (id == 0) return note("submitReply without a job id");
    ++r.acked;
    r.job_ids.push_back(id);
  } catch (const kj::Exception& e) {
    note(std::string("unreadable reply: ") + e.getDescription().cStr());
  }
}

// The pipelined submit loop of one client. Called after the start barrier.
void pump(zmq::socket_t& socket, const std::vector<std::pair<uint64_t, std::string>>& submits, int64_t window,
          int timeout_ms, ClientResult& r) {
  std::unordered_set<uint64_t> in_flight;
  size_t next = 0;
  auto send_next = [&] {
    in_flight.insert(submits[next].first);
    socket.send(zmq::buffer(submits[next].second), zmq::send_flags::none);
    ++next;
  };
  while (next < submits.size() && static_cast<int64_t>(in_flight.size()) < window) send_next();
  while (!in_flight.empty()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) {
      r.errors += in_flight.size() + (submits.size() - next);
      if (r.first_error.empty())
        r.first_error = "no reply within " + std::to_string(timeout_ms / 1000) + " s with " +
                        std::to_string(in_flight.size()) + " requests in flight";
      return;
    }
    zmq::message_t reply;
    while (socket.recv(reply, zmq::recv_flags::dontwait)) {
      take_reply(reply, in_flight, r);
      r.last_ack = Clock::now();
      if (next < submits.size()) send_next();
    }
  }
}

cadre::Result<Options> options_from(const cadre::Flags& flags) {
  Options o;
  auto master = cadre::cli::resolve_master(flags.get_or("--master", ""), flags.has("--master"));
  if (!master) return cadre::make_error(master.error());
  o.master = *master;
  auto count = [&](const char* name, int64_t max, int64_t* out) -> cadre::Status {
    auto v = flags.get(name);
    if (!v) return {};
    auto n = cadre::parse_count(*v, max);
    if (!n || *n == 0)
      return cadre::make_error(std::string(name) + ": expected a whole number from 1 to " + std::to_string(max) +
                               ", got '" + *v + "'");
    *out = *n;
    return {};
  };
  for (cadre::Status s : {count("--jobs", kMaxJobs, &o.jobs), count("--clients", kMaxClients, &o.clients),
                          count("--window", kMaxWindow, &o.window)})
    if (!s) return cadre::make_error(s.error());
  auto timeout = cadre::cli::resolve_timeout_ms(flags.get_or("--timeout", "30"), true);
  if (!timeout) return cadre::make_error(timeout.error());
  o.timeout_ms = *timeout;
  o.parsable = flags.has("--parsable");
  if (o.clients > o.jobs) o.clients = o.jobs;
  return o;
}

}  // namespace

static int run_main(int argc, char** argv) {
  cadre::Flags flags;
  flags.value("--master").value("--jobs").value("--clients").value("--window").value("--timeout");
  flags.toggle("--parsable").toggle("--help", {"-h"});
  if (cadre::Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc)); !s)
    return fail(s.error(), 2);
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }
  auto parsed = options_from(flags);
  if (!parsed) return fail(parsed.error() + " (see --help)", 2);
  const Options o = *parsed;
  const auto clients = static_cast<size_t>(o.clients);

  std::vector<ClientResult> results(clients);
  std::vector<std::string> warm_errors(clients);
  Clock::time_point start{};
  std::barrier ready(static_cast<std::ptrdiff_t>(clients), [&start]() noexcept { start = Clock::now(); });
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // Request ids are unique across clients so a misrouted reply shows up.
      const int64_t share = o.jobs / o.clients + (static_cast<int64_t>(c) < o.jobs % o.clients ? 1 : 0);
      const uint64_t base = (static_cast<uint64_t>(getpid()) << 40) + (static_cast<uint64_t>(c) << 28);
      auto submits = encode_submits(base + 1, share);
      zmq::context_t ctx(1);
      zmq::socket_t socket(ctx, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      try {
        socket.connect(o.master);
        warm_errors[c] = warm_up(socket, base, o.timeout_ms);
      } catch (const zmq::error_t& e) {
        warm_errors[c] = e.what();
      }
      ready.arrive_and_wait();
      if (!warm_errors[c].empty()) return;
      try {
        pump(socket, submits, o.window, o.timeout_ms, results[c]);
      } catch (const zmq::error_t& e) {
        results[c].errors += 1;
        results[c].first_error = std::string("socket error: ") + e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  for (const std::string& e : warm_errors)
    if (!e.empty()) return fail("cannot reach the master at " + o.master + ": " + e);

  uint64_t acked = 0, errors = 0;
  Clock::time_point end = start;
  std::vector<uint64_t> ids;
  std::string first_error;
  for (ClientResult& r : results) {
    acked += r.acked;
    errors += r.errors;
    end = std::max(end, r.last_ack);
    ids.insert(ids.end(), r.job_ids.begin(), r.job_ids.end());
    if (first_error.empty()) first_error = r.first_error;
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    ++errors;
    if (first_error.empty()) first_error = "the master gave one job id to two submits";
  }

  const double seconds = std::chrono::duration<double>(end - start).count();
  const double rate = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
  if (o.parsable) {
    std::printf("%.1f\n", rate);
  } else {
    std::printf("%llu jobs acknowledged in %.3f s by %lld client(s), window %lld: %.1f jobs/s\n",
                static_cast<unsigned long long>(acked), seconds, static_cast<long long>(o.clients),
                static_cast<long long>(o.window), rate);
  }
  if (errors > 0)
    return fail(std::to_string(errors) + " of " + std::to_string(o.jobs) + " submits failed; first: " + first_error);
  return 0;
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-bench-submit", [&] { return run_main(argc, argv); });
}
