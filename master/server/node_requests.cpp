#include "master/server/node_requests.hpp"

#include <algorithm>

#include "common/codec.hpp"
#include "common/hostlist.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "master/wire/decode.hpp"
#include "master/wire/encode.hpp"

namespace cadre {

void NodeRequests::malformed(const Request& r, const std::string& why) {
  ++s_.counters.malformed_messages;
  CADRE_LOG(warning) << "refused an agent's message: " << why << "; " << s_.counters.malformed_messages
                     << " malformed so far";
  s_.out.send(r.peer, encode_error(r.id, why));
}

void NodeRequests::register_node(const Request& r, Register::Reader m) {
  auto reg = wire::decode_register(m);
  if (!reg) return malformed(r, "registration refused: " + reg.error());
  s_.peers.learn_route(reg->name, r.peer);
  s_.cluster.register_node(*reg, steady_now_ms(), unix_now());
  // Exits the agent kept for us are recorded now; it may forget them once
  // this turn commits (acks go out after the commit).
  for (const RunningTaskRef& t : reg->running)
    if (t.exited) s_.out.send(r.peer, wire::encode_task_ack(t.job, t.rank, t.attempt, t.step));
  const auto interval = static_cast<uint32_t>(std::clamp<int64_t>(s_.options.node_timeout_ms / 4, 50, 5000));
  s_.out.send(r.peer, wire::encode_register_reply(interval));
  s_.schedule_wanted = true;
}

void NodeRequests::heartbeat(const Request& r, Heartbeat::Reader m) {
  ++s_.stats.heartbeats;
  const std::string name = m.getName();
  s_.peers.learn_route(name, r.peer);
  if (!s_.cluster.heartbeat(name, steady_now_ms(), unix_now())) s_.out.send(r.peer, wire::encode_please_register());
}

void NodeRequests::task_status(const Request& r, TaskStatus::Reader m) {
  auto ev = wire::decode_task_status(m);
  if (!ev) return malformed(r, ev.error());
  s_.cluster.task_event(*ev, unix_now());
  if (ev->kind == TaskEventKind::started) return;
  // Acknowledged even when stale or repeated, so the agent stops resending.
  s_.out.send(r.peer, wire::encode_task_ack(ev->job, ev->rank, ev->attempt, ev->step));
  s_.schedule_wanted = true;
}

void NodeRequests::list_nodes(const Request& r) {
  std::vector<const Node*> nodes;
  for (const auto& [name, n] : s_.cluster.nodes()) nodes.push_back(&n);
  s_.out.answer(r.peer, r.id, wire::encode_nodes_reply(r.id, nodes));
}

void NodeRequests::list_partitions(const Request& r) {
  s_.out.answer(r.peer, r.id, wire::encode_partitions_reply(r.id, s_.cluster.partition_summaries(), s_.options.scheduler.qos));
}

void NodeRequests::set_node_state(const Request& r, SetNodeState::Reader m) {
  auto fail = [&](const std::string& why) { s_.out.answer(r.peer, r.id, encode_error(r.id, why)); };
  if (s_.store_error) return fail(s_.store_failure_message());
  if (!s_.peers.is_admin(r.who))
    return fail("only admins (root" +
                (s_.options.security.admin_group.empty() ? std::string()
                                                          : " and group " + s_.options.security.admin_group) +
                ") may drain or resume nodes");
  auto req = wire::decode_set_node_state(m);
  if (!req) {
    ++s_.counters.over_limit;
    return fail(req.error());
  }
  if (req->state != "DRAIN" && req->state != "UP") return fail("a node can be set DRAIN or UP, not '" + req->state + "'");
  if (req->names.empty()) return fail("name at least one node");
  // All or nothing: check every name first.
  for (const std::string& name : req->names)
    if (!s_.cluster.find_node(name)) return fail("no node " + name);
  std::vector<const Node*> changed;
  for (const std::string& name : req->names) {
    Status st = req->state == "DRAIN" ? s_.cluster.drain_node(name, req->reason) : s_.cluster.resume_node(name);
    if (!st) return fail(st.error());
    changed.push_back(s_.cluster.find_node(name));
  }
  s_.out.answer(r.peer, r.id, wire::encode_nodes_reply(r.id, changed));
  s_.schedule_wanted = true;
}

namespace {

std::vector<const Reservation*> all_of(const Reservations& table) {
  std::vector<const Reservation*> out;
  for (const auto& [name, r] : table) out.push_back(&r);
  return out;
}

// Users and accounts as the wire gives them: bounded, each a usable name.
Result<std::vector<std::string>> names_of(capnp::List<capnp::Text>::Reader list, const char* what) {
  if (list.size() > 1000) return make_error(std::string("at most 1000 ") + what + "s per reservation");
  std::vector<std::string> out;
  for (auto t : list) {
    std::string name(t.cStr(), t.size());
    if (Status s = check_account_name(name, what); !s) return make_error(s.error());
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace

void NodeRequests::create_reservation(const Request& r, CreateReservation::Reader m) {
  auto fail = [&](const std::string& why) { s_.out.answer(r.peer, r.id, encode_error(r.id, why)); };
  if (s_.store_error) return fail(s_.store_failure_message());
  if (!s_.peers.is_admin(r.who)) return fail("only admins may create reservations");
  Reservation res;
  res.name.assign(m.getName().cStr(), m.getName().size());
  if (Status s = check_reservation_name(res.name); !s) return fail(s.error());
  const std::string nodes(m.getNodes().cStr(), m.getNodes().size());
  if (nodes.size() > limits::kMaxHostlistBytes) return fail("the node list is too long");
  if (!nodes.empty()) {
    auto names = expand_hostlist(nodes);
    if (!names) return fail("--nodes: " + names.error());
    res.nodes = std::move(*names);
  }
  if (m.getNodeCount() > limits::kMaxNodesPerRequest) return fail("--node-count is larger than any cluster");
  auto users = names_of(m.getUsers(), "user");
  if (!users) return fail(users.error());
  auto accounts = names_of(m.getAccounts(), "account");
  if (!accounts) return fail(accounts.error());
  res.users = std::move(*users);
  res.accounts = std::move(*accounts);
  res.start = m.getStart();
  res.end = m.getEnd();
  if (res.start < 0 || res.end <= 0 || res.end > 253'402'300'799) return fail("the reservation's times are not unix times");
  const std::string partition(m.getPartition().cStr(), m.getPartition().size());
  auto made = s_.cluster.create_reservation(std::move(res), m.getNodeCount(), partition, unix_now());
  if (!made) return fail(made.error());
  s_.out.answer(r.peer, r.id, wire::encode_reservations_reply(r.id, {&s_.cluster.reservations().at(made->name)}));
  s_.schedule_wanted = true;
}

void NodeRequests::delete_reservation(const Request& r, DeleteReservation::Reader m) {
  auto fail = [&](const std::string& why) { s_.out.answer(r.peer, r.id, encode_error(r.id, why)); };
  if (s_.store_error) return fail(s_.store_failure_message());
  if (!s_.peers.is_admin(r.who)) return fail("only admins may delete reservations");
  const std::string name(m.getName().cStr(), m.getName().size());
  if (Status s = s_.cluster.delete_reservation(name); !s) return fail(s.error());
  s_.out.answer(r.peer, r.id, wire::encode_reservations_reply(r.id, all_of(s_.cluster.reservations())));
  s_.schedule_wanted = true;
}

void NodeRequests::list_reservations(const Request& r) {
  s_.out.answer(r.peer, r.id, wire::encode_reservations_reply(r.id, all_of(s_.cluster.reservations())));
}

void NodeRequests::get_stats(const Request& r) {
  StatsReport report = wire::make_stats_report(s_.stats, s_.cluster, steady_now_ms());
  report.malformed_messages = s_.counters.malformed_messages;
  report.over_limit_requests = s_.counters.over_limit;
  report.refused_messages = s_.counters.refused_messages;
  s_.out.answer(r.peer, r.id, wire::encode_stats_reply(r.id, report));
}

}  // namespace cadre
