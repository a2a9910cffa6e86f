#include "master/server/job_requests.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/codec.hpp"
#include "common/ids.hpp"
#include "common/job_update.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "common/log.hpp"
#include "master/wire/decode.hpp"
#include "master/wire/encode.hpp"

namespace cadre {

std::string JobRequests::no_account_message(const Request& r) const {
  return "user " + r.who->name + " has no account on the master host";
}

Status JobRequests::authorize_spec(const Request& r, const JobSpec& spec) const {
  const bool admin = s_.peers.is_admin(r.who);
  if (Status s = may_set_priority(spec.priority, admin); !s) return s;
  // Without a verified identity there is nobody to check membership of.
  if (!r.who) return {};
  const std::string& account = spec.account.empty() ? spec.user : spec.account;
  if (Status s = s_.accounts.may_charge(spec.user, account, admin); !s) return s;
  if (Status s = may_use_qos(s_.options.scheduler.qos, spec.qos, spec.user, account, admin); !s) return s;
  if (spec.reservation.empty()) return {};
  auto it = s_.cluster.reservations().find(spec.reservation);
  if (it == s_.cluster.reservations().end()) return {};  // admission says it is missing
  return may_use_reservation(it->second, spec.user, account, admin);
}

Result<JobId> JobRequests::submit_one(const Request& r, JobSpec spec) {
  if (r.who) {
    // The key (or the kernel, on the local socket) says who this is; the
    // request's own claim does not count.
    if (!r.who->has_account) return make_error(no_account_message(r));
    spec.user = r.who->name;
    spec.uid = r.who->uid;
    spec.gid = r.who->gid;
  }
  // Malformed or oversize first (the same check admission repeats), so a
  // refusal names the bound rather than a policy about a value that could
  // never be stored.
  if (Status s = validate_job_request(spec, RequestBounds{s_.options.limits.max_command_bytes,
                                                          s_.options.limits.max_script_bytes});
      !s) {
    ++s_.counters.over_limit;
    return make_error(s.error());
  }
  if (Status s = authorize_spec(r, spec); !s) {
    ++s_.counters.refused_submissions;
    return make_error(s.error());
  }
  // A dependency on jobs that ended before this submit: the store knows
  // how they ended; one it does not know is refused, as sbatch does.
  if (!spec.dependency.empty())
    if (Status s = load_dependency_targets(spec.dependency); !s) {
      ++s_.counters.refused_submissions;
      return make_error(s.error());
    }
  const int64_t now_ms = steady_now_ms();
  if (auto wait_ms = s_.rate_limiter.take(spec.user, now_ms)) {
    ++s_.counters.rate_limited;
    log_rate_limited(spec.user, now_ms);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", s_.options.limits.submit_rate);
    return make_error("too many submissions: user " + spec.user + " may submit " + rate + " jobs per second (" +
                      std::to_string(s_.options.limits.submit_burst) + " at once); try again in " +
                      std::to_string(*wait_ms) + " ms");
  }
  auto id = s_.cluster.submit(std::move(spec), unix_now());
  if (!id) {
    ++s_.counters.refused_submissions;
    CADRE_LOG(debug) << "refused a submission: " << id.error();
  }
  return id;
}

Status JobRequests::load_dependency_targets(const std::string& dependency) {
  for (JobId id : s_.cluster.missing_dependency_targets(dependency)) {
    auto array = s_.store->load_array_jobs(id);
    if (!array) return make_error("cannot read job " + std::to_string(id) + ": " + array.error());
    if (!array->empty()) {
      s_.cluster.adopt_ended(std::move(*array));
      continue;
    }
    auto job = s_.store->load_job(id);
    if (!job) return make_error("cannot read job " + std::to_string(id) + ": " + job.error());
    if (!*job) return make_error("Job dependency problem: no job " + std::to_string(id) + " (--dependency=" + dependency + ")");
    std::vector<Job> one;
    one.push_back(std::move(**job));
    s_.cluster.adopt_ended(std::move(one));
  }
  return {};
}

void JobRequests::log_rate_limited(const std::string& user, int64_t now_ms) {
  // A flood is logged once per user per 10 s, not once per message.
  int64_t& last = rate_logged_ms_[user];
  if (now_ms - last < 10000) return;
  last = now_ms;
  CADRE_LOG(warning) << "user " << user << " is submitting faster than limits.submit_rate ("
                     << s_.options.limits.submit_rate << "/s, burst " << s_.options.limits.submit_burst << "); "
                     << s_.counters.rate_limited << " submissions refused so far";
}

void JobRequests::submit(const Request& r, Submit::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto spec = wire::decode_job_request(m.getRequest());
  if (!spec) return refuse(r, spec.error());
  auto id = submit_one(r, std::move(*spec));
  if (!id) return s_.out.answer(r.peer, r.id, encode_error(r.id, id.error()));
  s_.out.answer(r.peer, r.id, wire::encode_submit_reply(r.id, *id));
  s_.schedule_wanted = true;
}

void JobRequests::submit_many(const Request& r, SubmitMany::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto specs = wire::decode_submit_many(m);
  if (!specs) return refuse(r, specs.error());
  // All or nothing: one refused job takes back the ones accepted before it
  // (nothing of this turn is committed or seen yet), so a retry of the
  // whole file never duplicates jobs.
  std::vector<JobId> ids;
  ids.reserve(specs->size());
  for (size_t i = 0; i < specs->size(); ++i) {
    auto id = submit_one(r, std::move((*specs)[i]));
    if (!id) {
      s_.cluster.withdraw(ids);
      return s_.out.answer(r.peer, r.id,
                           encode_error(r.id, "job " + std::to_string(i + 1) + " of " +
                                                  std::to_string(specs->size()) + ": " + id.error() +
                                                  "; nothing was submitted"));
    }
    ids.push_back(*id);
  }
  s_.out.answer(r.peer, r.id, wire::encode_submit_many_reply(r.id, ids));
  s_.schedule_wanted = true;
}

void JobRequests::refuse(const Request& r, const std::string& why) {
  ++s_.counters.over_limit;
  CADRE_LOG(debug) << "refused a request over a limit: " << why;
  s_.out.answer(r.peer, r.id, encode_error(r.id, why));
}

void JobRequests::list_jobs(const Request& r, ListJobs::Reader m) {
  const wire::ListJobsRequest q = wire::decode_list_jobs(m);
  std::vector<const Job*> shown;
  std::vector<Job> ended;
  if (q.all) {
    auto loaded = s_.store->load_ended_jobs(limits::kMaxEndedJobsListed);
    if (!loaded) return s_.out.answer(r.peer, r.id, encode_error(r.id, "cannot read ended jobs: " + loaded.error()));
    ended = std::move(*loaded);
    for (const Job& j : ended)
      if (j.id > q.after && !s_.cluster.find_job(j.id)) shown.push_back(&j);
  }
  // Jobs are kept in id order: a page reads from `after` on, and never more
  // than one job past what it can show.
  size_t live = 0;
  const auto& jobs = s_.cluster.jobs();
  for (auto it = jobs.upper_bound(q.after); it != jobs.end() && live <= q.limit; ++it)
    if (q.all || !is_final(it->second.state)) {
      shown.push_back(&it->second);
      ++live;
    }
  std::sort(shown.begin(), shown.end(), [](const Job* a, const Job* b) { return a->id < b->id; });
  // A page ends at its count or at its size, whichever comes first; the
  // client asks again from the last id it got.
  size_t count = 0, bytes = 0;
  while (count < shown.size() && count < q.limit) {
    const size_t job_bytes = wire::approx_wire_bytes(*shown[count]);
    if (count > 0 && bytes + job_bytes > limits::kMaxReplyBytes) break;
    bytes += job_bytes;
    ++count;
  }
  const bool more = count < shown.size();
  shown.resize(count);
  s_.out.answer(r.peer, r.id, wire::encode_jobs_reply(r.id, shown, more, s_.options.policy.weights,
                                                             !s_.options.mail_program.empty()));
}

void JobRequests::show_job(const Request& r, JobId id) {
  std::optional<Job> loaded;
  const Job* job = s_.cluster.find_job(id);
  if (!job) {
    auto from_store = s_.store->load_job(id);
    if (!from_store)
      return s_.out.answer(r.peer, r.id,
                           encode_error(r.id, "cannot read job " + std::to_string(id) + ": " + from_store.error()));
    loaded = std::move(*from_store);
    if (!loaded) return s_.out.answer(r.peer, r.id, encode_error(r.id, "no job " + std::to_string(id)));
    job = &*loaded;
  }
  s_.out.answer(r.peer, r.id, wire::encode_jobs_reply(r.id, {job}, false, s_.options.policy.weights,
                                                             !s_.options.mail_program.empty()));
}

std::vector<JobId> JobRequests::resolve_targets(const Request& r, const std::vector<JobId>& ids,
                                                const std::vector<JobRef>& tasks,
                                                std::vector<CancelOutcome>& refused) {
  std::vector<JobId> out;
  std::set<JobId> seen;
  auto add = [&](JobId id) {
    if (seen.insert(id).second) out.push_back(id);
  };
  for (JobId id : ids) {
    const Job* j = s_.cluster.find_job(id);
    if (j && j->spec.array_job_id == id) {
      for (JobId member : s_.cluster.array_members(id)) add(member);
    } else {
      add(id);
    }
  }
  const bool admin = !r.who || s_.peers.is_admin(r.who);
  for (const JobRef& ref : tasks) {
    const std::string name = std::to_string(ref.job) + "_" + std::to_string(ref.task);
    // Whose the array is, asked before a task is split off its record.
    const Job* array = s_.cluster.find_job(ref.job);
    if (!array) {
      for (JobId member : s_.cluster.array_members(ref.job)) {
        array = s_.cluster.find_job(member);
        break;
      }
    }
    if (array && r.who && array->spec.user != r.who->name && !admin) {
      refused.push_back({ref.job, false, "job " + name + " belongs to " + array->spec.user});
      continue;
    }
    auto id = s_.cluster.array_task_job(ref.job, static_cast<uint32_t>(ref.task));
    if (!id) {
      CancelOutcome o{ref.job, false, id.error()};
      if (!array) say_why_not_active(o);
      refused.push_back(std::move(o));
      continue;
    }
    add(*id);
  }
  return out;
}

void JobRequests::cancel(const Request& r, Cancel::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto ids = wire::decode_cancel(m);
  if (!ids) return refuse(r, ids.error());
  auto tasks = wire::decode_task_refs(m.getTasks());
  if (!tasks) return refuse(r, tasks.error());
  std::vector<CancelOutcome> refused;
  std::vector<JobId> targets = resolve_targets(r, *ids, *tasks, refused);
  cancels_.push_back(PendingCancel{r, std::move(targets), 0, std::move(refused)});
  if (cancels_.size() == 1) cancel_slice();
  else s_.out.defer(r.peer, r.id);
}

void JobRequests::hold(const Request& r, HoldJobs::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto given = wire::decode_hold(m);
  if (!given) return refuse(r, given.error());
  auto tasks = wire::decode_task_refs(m.getTasks());
  if (!tasks) return refuse(r, tasks.error());
  const bool release = m.getRelease();
  std::vector<CancelOutcome> outcomes;
  const std::vector<JobId> ids = resolve_targets(r, *given, *tasks, outcomes);
  // Without verified identities (no CURVE) everyone is as an admin, as for
  // cancel; with them, a user holds and releases their own jobs only.
  const bool admin = !r.who || s_.peers.is_admin(r.who);
  for (JobId id : ids) {
    if (const Job* j = s_.cluster.find_job(id); j && r.who && j->spec.user != r.who->name && !admin) {
      outcomes.push_back({id, false, "job " + std::to_string(id) + " belongs to " + j->spec.user});
      continue;
    }
    // An admin's hold on someone else's job is an admin hold (JobHeldAdmin);
    // a hold on one's own job, or from an unverified peer, is a user's.
    const Job* j = s_.cluster.find_job(id);
    const bool admin_hold = admin && r.who && j && j->spec.user != r.who->name;
    CancelOutcome o = release ? s_.cluster.release(id, admin) : s_.cluster.hold(id, admin_hold);
    if (!o.ok && !j) say_why_not_active(o);
    outcomes.push_back(std::move(o));
  }
  if (release) s_.schedule_wanted = true;
  s_.out.answer(r.peer, r.id, wire::encode_cancel_reply(r.id, outcomes));
}

void JobRequests::update(const Request& r, UpdateJob::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto given = wire::decode_job_ids(m.getIds());
  if (!given) return refuse(r, given.error());
  auto tasks = wire::decode_task_refs(m.getTasks());
  if (!tasks) return refuse(r, tasks.error());
  std::vector<std::string> words;
  if (m.getFields().size() > 64) return refuse(r, "at most 64 changes at once");
  for (auto f : m.getFields()) {
    if (f.size() > limits::kMaxPathBytes) return refuse(r, "a change is over " + std::to_string(limits::kMaxPathBytes) + " bytes");
    words.emplace_back(f.cStr(), f.size());
  }
  auto updates = parse_job_updates(words, unix_now());
  if (!updates) return s_.out.answer(r.peer, r.id, encode_error(r.id, updates.error()));
  const bool admin = !r.who || s_.peers.is_admin(r.who);
  std::vector<CancelOutcome> outcomes;
  const std::vector<JobId> ids = resolve_targets(r, *given, *tasks, outcomes);
  for (JobId id : ids) {
    const Job* j = s_.cluster.find_job(id);
    if (!j) {
      CancelOutcome o{id, false, "no active job " + std::to_string(id)};
      say_why_not_active(o);
      outcomes.push_back(std::move(o));
      continue;
    }
    const std::string name = "job " + state::display_id(*j);
    if (r.who && j->spec.user != r.who->name && !admin) {
      outcomes.push_back({id, false, name + " belongs to " + j->spec.user});
      continue;
    }
    const bool running = j->state != JobState::pending;
    JobSpec spec = j->spec;
    if (Status st = apply_job_updates(spec, *updates, running); !st) {
      outcomes.push_back({id, false, name + ": " + st.error()});
      continue;
    }
    // As scontrol: only an admin lengthens a job that already runs.
    if (running && !admin && (spec.time_limit_s == 0 ? j->spec.time_limit_s != 0 : spec.time_limit_s > j->spec.time_limit_s && j->spec.time_limit_s != 0)) {
      outcomes.push_back({id, false, name + " is RUNNING: only an admin may raise its time limit"});
      continue;
    }
    Status ok = validate_job_request(spec, RequestBounds{s_.options.limits.max_command_bytes, s_.options.limits.max_script_bytes});
    if (ok) ok = authorize_spec(r, spec);
    if (ok && !spec.dependency.empty() && spec.dependency != j->spec.dependency) ok = load_dependency_targets(spec.dependency);
    if (!ok) {
      outcomes.push_back({id, false, name + ": " + ok.error()});
      continue;
    }
    outcomes.push_back(s_.cluster.update(id, std::move(spec)));
  }
  s_.schedule_wanted = true;
  s_.out.answer(r.peer, r.id, wire::encode_cancel_reply(r.id, outcomes));
}

void JobRequests::requeue(const Request& r, RequeueJobs::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto given = wire::decode_job_ids(m.getIds());
  if (!given) return refuse(r, given.error());
  auto tasks = wire::decode_task_refs(m.getTasks());
  if (!tasks) return refuse(r, tasks.error());
  // An ended job has left memory for the store: it comes back to be requeued.
  for (JobId id : *given)
    if (!s_.cluster.find_job(id)) {
      if (auto stored = s_.store->load_job(id); stored && *stored) {
        std::vector<Job> one;
        one.push_back(std::move(**stored));
        s_.cluster.adopt_ended(std::move(one));
      }
    }
  const bool admin = !r.who || s_.peers.is_admin(r.who);
  std::vector<CancelOutcome> outcomes;
  const std::vector<JobId> ids = resolve_targets(r, *given, *tasks, outcomes);
  for (JobId id : ids) {
    const Job* j = s_.cluster.find_job(id);
    if (j && r.who && j->spec.user != r.who->name && !admin) {
      outcomes.push_back({id, false, "job " + state::display_id(*j) + " belongs to " + j->spec.user});
      continue;
    }
    CancelOutcome o = s_.cluster.requeue(id, m.getHold(), admin && r.who && j && j->spec.user != r.who->name,
                                         unix_now());
    if (!o.ok && !j) say_why_not_active(o);
    outcomes.push_back(std::move(o));
  }
  s_.schedule_wanted = true;
  s_.out.answer(r.peer, r.id, wire::encode_cancel_reply(r.id, outcomes));
}

CancelOutcome JobRequests::cancel_one(const Request& r, JobId id) {
  // With verified identities, users cancel only their own jobs; admins any.
  if (const Job* j = s_.cluster.find_job(id); j && r.who && j->spec.user != r.who->name && !s_.peers.is_admin(r.who))
    return {id, false, "job " + std::to_string(id) + " belongs to " + j->spec.user};
  CancelOutcome o = s_.cluster.cancel(id, unix_now());
  if (!o.ok && !s_.cluster.find_job(id)) say_why_not_active(o);
  return o;
}

void JobRequests::say_why_not_active(CancelOutcome& o) {
  // The job is not in memory: ended (and evicted), or never submitted.
  auto stored = s_.store->load_job(o.id);
  if (stored && *stored) o.message = "job " + std::to_string(o.id) + " already ended " + std::string(to_string((*stored)->state));
  else if (stored) o.message = "no job " + std::to_string(o.id);
}

void JobRequests::cancel_slice() {
  if (cancels_.empty()) return;
  PendingCancel& c = cancels_.front();
  // A slice at a time: a cancel of thousands of jobs lets every other
  // request in between, and each slice is committed with its own turn.
  const size_t end = std::min(c.ids.size(), c.next + limits::kCancelsPerSlice);
  for (; c.next < end; ++c.next) c.outcomes.push_back(cancel_one(c.request, c.ids[c.next]));
  s_.schedule_wanted = true;
  if (c.next < c.ids.size()) {
    s_.out.defer(c.request.peer, c.request.id);
    post_([this] { cancel_slice(); });
    return;
  }
  s_.out.answer(c.request.peer, c.request.id, wire::encode_cancel_reply(c.request.id, c.outcomes));
  cancels_.pop_front();
  if (!cancels_.empty()) post_([this] { cancel_slice(); });
}

void JobRequests::run_step(const Request& r, RunStep::Reader m) {
  if (s_.store_error) return s_.out.answer(r.peer, r.id, encode_error(r.id, s_.store_failure_message()));
  auto req = wire::decode_run_step(m);
  if (!req) return refuse(r, req.error());
  if (r.who) {
    if (!r.who->has_account) return s_.out.answer(r.peer, r.id, encode_error(r.id, no_account_message(r)));
    req->uid = r.who->uid;
  }
  auto step = s_.cluster.run_step(*req);
  if (!step) return s_.out.answer(r.peer, r.id, encode_error(r.id, step.error()));
  show_step(r, req->job, *step);
}

void JobRequests::show_step(const Request& r, JobId job, uint32_t step_id) {
  const Step* step = s_.cluster.find_step(job, step_id);
  if (!step) {
    std::string why = s_.cluster.find_job(job)
                          ? "job " + std::to_string(job) + " has no step " + std::to_string(step_id) +
                                " (steps are forgotten when the master restarts or the job is requeued)"
                          : "job " + std::to_string(job) + " has ended; its steps are gone";
    return s_.out.answer(r.peer, r.id, encode_error(r.id, why));
  }
  s_.out.answer(r.peer, r.id, wire::encode_step_reply(r.id, job, step_id, *step));
}

}  // namespace cadre
