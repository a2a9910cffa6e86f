#include "sim/workload.hpp"

#include <map>
#include <tuple>

#include "master/scheduler/gang_placement.hpp"

namespace cadre::sim {
namespace {

// Dense ids for names, in order of first appearance.
class NameIds {
 public:
  explicit NameIds(std::vector<std::string>& names) : names_(names) {}
  uint32_t id(const std::string& name) {
    auto [it, added] = ids_.try_emplace(name, static_cast<uint32_t>(names_.size()));
    if (added) names_.push_back(name);
    return it->second;
  }

 private:
  std::vector<std::string>& names_;
  std::map<std::string, uint32_t> ids_;
};

// never_fits_reason() copies the cluster to try an idle placement; traces
// repeat a few shapes many times, so each distinct request is judged once.
class FitCache {
 public:
  explicit FitCache(const Cluster& cluster) : cluster_(cluster) {}
  const std::string& reason(const sched::GangShape& s, const std::vector<uint32_t>& models) {
    Key key{s.per_task.millicores, s.per_task.memory_mb, s.per_task.gpus, s.nodes, s.tasks_per_node, s.ntasks,
            models};
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    sched::PlaceConstraints c;
    c.gpu_models = &models;
    return cache_.emplace(std::move(key), sched::never_fits_reason(s, cluster_.nodes, c)).first->second;
  }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, uint32_t, uint32_t, uint32_t, std::vector<uint32_t>>;
  const Cluster& cluster_;
  std::map<Key, std::string> cache_;
};

}  // namespace

Workload prepare_workload(const Trace& trace, Cluster& cluster, int64_t max_jobs) {
  Workload w;
  size_t take = trace.jobs.size();
  if (max_jobs > 0 && static_cast<size_t>(max_jobs) < take) take = static_cast<size_t>(max_jobs);
  NameIds users(w.users), accounts(w.accounts);
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> pair_ids;
  // Models first, so the cluster's list is final before any fit is judged.
  std::vector<std::vector<uint32_t>> models(take);
  for (size_t i = 0; i < take; ++i)
    for (const std::string& name : trace.jobs[i].gpu_models) models[i].push_back(model_index(cluster, name));
  FitCache fits(cluster);
  w.jobs.reserve(take);
  for (size_t i = 0; i < take; ++i) {
    const TraceJob& t = trace.jobs[i];
    if (const std::string& why = fits.reason(t.shape, models[i]); !why.empty()) {
      if (w.never_fit++ == 0)
        w.first_never_fit = "job " + std::to_string(i + 1) + " (submitted at " + std::to_string(t.submit_s) +
                            "): " + why;
      continue;
    }
    SimJob j;
    j.id = w.jobs.size() + 1;
    j.submit_s = t.submit_s;
    j.run_s = t.run_s;
    j.limit_s = t.limit_s;
    j.shape = t.shape;
    j.gpu_models = std::move(models[i]);
    j.user = users.id(t.user);
    j.account = accounts.id(t.account);
    auto [it, added] = pair_ids.try_emplace({j.user, j.account}, static_cast<uint32_t>(w.pairs.size()));
    if (added) w.pairs.emplace_back(j.user, j.account);
    j.pair = it->second;
    w.jobs.push_back(std::move(j));
  }
  return w;
}

}  // namespace cadre::sim
