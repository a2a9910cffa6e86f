// cadre reservation create|delete|list: admin reservations (Slurm's
// scontrol create/delete/show reservation): nodes set aside for a window,
// for some users and accounts; jobs run inside with --reservation.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "common/begin_time.hpp"
#include "common/flags.hpp"
#include "common/hostlist.hpp"
#include "common/ids.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    const size_t comma = std::min(text.find(',', at), text.size());
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

std::string joined(capnp::List<capnp::Text>::Reader names, const char* none) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ",") + std::string(n.cStr());
  return out.empty() ? none : out;
}

int print_reservations(const Envelope::Reader& reply, bool json) {
  auto list = reply.getReservationsReply().getReservations();
  if (json) {
    nlohmann::json out = {{"reservations", nlohmann::json::array()}};
    for (auto r : list) {
      nlohmann::json nodes = nlohmann::json::array(), users = nlohmann::json::array(),
                     accounts = nlohmann::json::array();
      for (auto n : r.getNodes()) nodes.push_back(n.cStr());
      for (auto u : r.getUsers()) users.push_back(u.cStr());
      for (auto a : r.getAccounts()) accounts.push_back(a.cStr());
      out["reservations"].push_back({{"name", r.getName().cStr()}, {"nodes", nodes}, {"start", r.getStart()},
                                     {"end", r.getEnd()}, {"users", users}, {"accounts", accounts}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (list.size() == 0) {
    std::cout << "No reservations.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "START", "END", "DURATION", "NODES", "USERS", "ACCOUNTS"}};
  for (auto r : list) {
    std::vector<std::string> nodes;
    for (auto n : r.getNodes()) nodes.emplace_back(n.cStr());
    rows.push_back({r.getName().cStr(), iso_time(r.getStart()), iso_time(r.getEnd()),
                    format_duration_s(r.getEnd() - r.getStart()), compress_hostlist(nodes),
                    joined(r.getUsers(), "-"), joined(r.getAccounts(), "-")});
  }
  std::cout << render_table(rows);
  return 0;
}

int create(const Global& g, const Args& args) {
  Flags f;
  f.value("--nodes", {"-w"}).value("--node-count", {"-N"}).value("--partition", {"-p"});
  f.value("--start").value("--duration").value("--end").value("--users", {"-u"}).value("--accounts", {"-A"});
  f.toggle("--json");
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().size() != 1)
    return fail("reservation create takes one name, e.g. cadre reservation create maint --nodes node[1-4] "
                "--duration 2h --users alice", 2);
  const int64_t now = unix_now();
  std::string name = f.positionals()[0];
  if (f.has("--nodes") == f.has("--node-count")) return fail("give --nodes HOSTLIST or --node-count N (one of them)", 2);
  uint32_t count = 0;
  if (auto n = f.get("--node-count")) {
    auto parsed = parse_count(*n, 100000);
    if (!parsed || *parsed == 0) return fail("--node-count: expected a whole number from 1 to 100000, got '" + *n + "'", 2);
    count = static_cast<uint32_t>(*parsed);
  }
  int64_t start = 0;
  if (auto s = f.get("--start")) {
    // Read here, in the admin's time zone, as scontrol does.
    auto at = parse_begin_time(*s, now);
    if (!at) return fail("--start" + at.error().substr(at.error().find(' ')), 2);
    start = *at;
  }
  if (f.has("--duration") == f.has("--end")) return fail("give --duration or --end (one of them)", 2);
  int64_t end = 0;
  const int64_t from = start > 0 ? start : now;
  if (auto d = f.get("--duration")) {
    auto secs = parse_duration_s(*d);
    if (!secs || *secs <= 0) return fail("--duration: expected a time as --time takes it (120 minutes, 2:00:00, 1-00:00:00), got '" +
                                                   *d + "'", 2);
    end = from + *secs;
  } else {
    auto at = parse_begin_time(*f.get("--end"), now);
    if (!at) return fail("--end" + at.error().substr(at.error().find(' ')), 2);
    end = *at;
  }
  const auto users = split_commas(f.get_or("--users", ""));
  const auto accounts = split_commas(f.get_or("--accounts", ""));
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) {
    auto m = e.initCreateReservation();
    m.setName(name);
    m.setNodes(f.get_or("--nodes", ""));
    m.setNodeCount(count);
    m.setPartition(f.get_or("--partition", ""));
    m.setStart(start);
    m.setEnd(end);
    auto u = m.initUsers(static_cast<unsigned>(users.size()));
    for (unsigned i = 0; i < users.size(); ++i) u.set(i, users[i]);
    auto a = m.initAccounts(static_cast<unsigned>(accounts.size()));
    for (unsigned i = 0; i < accounts.size(); ++i) a.set(i, accounts[i]);
  });
  if (!reply) return fail(reply.error());
  if (!f.has("--json")) std::cout << "Reservation " << name << " created\n";
  return print_reservations((*reply)->envelope(), f.has("--json"));
}

}  // namespace

int cmd_reservation(const Global& g, const Args& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const Args rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (verb == "create") return create(g, rest);
  if (verb == "list" || verb == "show") {
    Flags f;
    f.toggle("--json");
    if (Status s = f.parse(rest); !s) return fail(s.error(), 2);
    Client client(g.master, g.timeout_ms);
    auto reply = client.call([](Envelope::Builder e) { e.initListReservations(); });
    if (!reply) return fail(reply.error());
    return print_reservations((*reply)->envelope(), f.has("--json"));
  }
  if (verb == "delete") {
    Flags f;
    if (Status s = f.parse(rest, true); !s) return fail(s.error(), 2);
    if (f.positionals().size() != 1) return fail("reservation delete takes one name, e.g. cadre reservation delete maint", 2);
    Client client(g.master, g.timeout_ms);
    auto reply = client.call([&](Envelope::Builder e) { e.initDeleteReservation().setName(f.positionals()[0]); });
    if (!reply) return fail(reply.error());
    std::cout << "Reservation " << f.positionals()[0] << " deleted\n";
    return 0;
  }
  return fail("reservation takes create, delete or list (see cadre reservation --help)", 2);
}

}  // namespace cadre::cli
