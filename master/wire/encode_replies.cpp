// The replies to clients that carry lists: jobs, cancels, steps, nodes and
// partitions (the per-item conversions live in encode.cpp).
#include <capnp/message.h>

#include "common/codec.hpp"
#include "common/proto_text.hpp"
#include "master/wire/encode.hpp"

namespace cadre::wire {

std::string encode_submit_reply(uint64_t request_id, JobId id) {
  capnp::MallocMessageBuilder m;
  start_envelope(m, request_id).initSubmitReply().setId(id);
  return encode(m);
}

std::string encode_submit_many_reply(uint64_t request_id, const std::vector<JobId>& ids) {
  capnp::MallocMessageBuilder m;
  auto out = start_envelope(m, request_id).initSubmitManyReply();
  auto list = out.initIds(static_cast<unsigned>(ids.size()));
  auto errors = out.initErrors(static_cast<unsigned>(ids.size()));
  for (unsigned i = 0; i < ids.size(); ++i) {
    list.set(i, ids[i]);
    errors.set(i, "");
  }
  return encode(m);
}

std::string encode_jobs_reply(uint64_t request_id, const std::vector<const Job*>& jobs, bool more,
                              const sched::Weights& weights, bool mails) {
  capnp::MallocMessageBuilder m;
  auto reply = start_envelope(m, request_id).initJobsReply();
  reply.setMore(more);
  reply.setMails(mails);
  auto list = reply.initJobs(static_cast<unsigned>(jobs.size()));
  for (unsigned i = 0; i < jobs.size(); ++i) to_proto(*jobs[i], list[i], weights);
  return encode(m);
}

size_t approx_wire_bytes(const Job& job) {
  // Fixed fields and pointers, then every text the reply copies (scripts
  // stay out of listings).
  size_t bytes = 512;
  const JobSpec& s = job.spec;
  for (const std::string* t : {&s.name, &s.workdir, &s.output_pattern, &s.error_pattern, &s.user, &s.partition,
                               &s.account, &s.gpu_type, &job.reason})
    bytes += t->size() + 16;
  for (const std::string& a : s.argv) bytes += a.size() + 16;
  for (const Task& t : job.tasks) bytes += t.node.size() * 2 + 64 + t.gpus.size() * 4;
  return bytes;
}

std::string encode_cancel_reply(uint64_t request_id, const std::vector<CancelOutcome>& outcomes) {
  capnp::MallocMessageBuilder m;
  auto results = start_envelope(m, request_id).initCancelReply().initResults(static_cast<unsigned>(outcomes.size()));
  for (unsigned i = 0; i < outcomes.size(); ++i) {
    results[i].setId(outcomes[i].id);
    results[i].setOk(outcomes[i].ok);
    results[i].setMessage(text(outcomes[i].message));
  }
  return encode(m);
}

std::string encode_step_reply(uint64_t request_id, JobId job, uint32_t step_id, const Step& step) {
  capnp::MallocMessageBuilder m;
  auto out = start_envelope(m, request_id).initStepReply();
  out.setJobId(job);
  out.setStep(step_id);
  out.setDone(step.done());
  out.setExitCode(step.exit_code());
  auto ranks = out.initRanks(static_cast<unsigned>(step.ranks.size()));
  for (unsigned i = 0; i < step.ranks.size(); ++i) {
    const StepRank& sr = step.ranks[i];
    ranks[i].setRank(sr.rank);
    ranks[i].setNode(text(sr.node));
    ranks[i].setState(std::string(to_string(sr.state)));
    ranks[i].setExitCode(sr.exit_code);
    ranks[i].setMessage(text(sr.message));
  }
  return encode(m);
}

std::string encode_nodes_reply(uint64_t request_id, const std::vector<const Node*>& nodes) {
  capnp::MallocMessageBuilder m;
  auto list = start_envelope(m, request_id).initNodesReply().initNodes(static_cast<unsigned>(nodes.size()));
  for (unsigned i = 0; i < nodes.size(); ++i) to_proto(*nodes[i], list[i]);
  return encode(m);
}

std::string encode_reservations_reply(uint64_t request_id, const std::vector<const Reservation*>& reservations) {
  capnp::MallocMessageBuilder m;
  auto list = start_envelope(m, request_id).initReservationsReply().initReservations(
      static_cast<unsigned>(reservations.size()));
  for (unsigned i = 0; i < reservations.size(); ++i) {
    const Reservation& r = *reservations[i];
    auto out = list[i];
    out.setName(r.name);
    out.setStart(r.start);
    out.setEnd(r.end);
    auto nodes = out.initNodes(static_cast<unsigned>(r.nodes.size()));
    for (unsigned n = 0; n < r.nodes.size(); ++n) nodes.set(n, r.nodes[n]);
    auto users = out.initUsers(static_cast<unsigned>(r.users.size()));
    for (unsigned u = 0; u < r.users.size(); ++u) users.set(u, r.users[u]);
    auto accounts = out.initAccounts(static_cast<unsigned>(r.accounts.size()));
    for (unsigned a = 0; a < r.accounts.size(); ++a) accounts.set(a, r.accounts[a]);
  }
  return encode(m);
}

std::string encode_partitions_reply(uint64_t request_id, const std::vector<PartitionSummary>& partitions,
                                    const std::vector<QosConfig>& qos) {
  capnp::MallocMessageBuilder m;
  auto reply = start_envelope(m, request_id).initPartitionsReply();
  auto list = reply.initPartitions(static_cast<unsigned>(partitions.size()));
  for (unsigned i = 0; i < partitions.size(); ++i) to_proto(partitions[i], list[i]);
  auto qos_list = reply.initQos(static_cast<unsigned>(qos.size()));
  for (unsigned i = 0; i < qos.size(); ++i) {
    const QosConfig& q = qos[i];
    auto out = qos_list[i];
    out.setName(q.name);
    out.setIsDefault(q.name == default_qos_name(qos));
    out.setPriority(q.priority);
    out.setHasTier(q.tier.has_value());
    out.setTier(q.tier.value_or(0));
    out.setPreemptible(q.preemptible);
    out.setMaxTimeSec(static_cast<uint64_t>(q.max_time_s));
    out.setMaxRunningJobsPerUser(q.max_running_jobs_per_user);
    out.setMaxGpusPerUser(q.max_gpus_per_user);
    auto users = out.initUsers(static_cast<unsigned>(q.users.size()));
    for (unsigned u = 0; u < q.users.size(); ++u) users.set(u, q.users[u]);
    auto accounts = out.initAccounts(static_cast<unsigned>(q.accounts.size()));
    for (unsigned a = 0; a < q.accounts.size(); ++a) accounts.set(a, q.accounts[a]);
  }
  return encode(m);
}

}  // namespace cadre::wire
