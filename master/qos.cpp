#include "master/qos.hpp"

#include <algorithm>
#include <strings.h>

#include "common/job_validation.hpp"
#include "common/resources.hpp"

namespace cadre {
namespace {

std::string names_of(const std::vector<QosConfig>& table) {
  std::string names;
  for (const QosConfig& q : table) names += (names.empty() ? "" : ", ") + q.name;
  return names;
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

std::string default_qos_name(const std::vector<QosConfig>& table) {
  for (const QosConfig& q : table)
    if (q.is_default) return q.name;
  if (const QosConfig* normal = find_qos(table, kNormalQos)) return normal->name;
  return table.empty() ? kNormalQos : table.front().name;
}

const QosConfig* find_qos(const std::vector<QosConfig>& table, const std::string& name) {
  for (const QosConfig& q : table)
    if (strcasecmp(q.name.c_str(), name.c_str()) == 0) return &q;
  return nullptr;
}

Status apply_qos(const std::vector<QosConfig>& table, JobSpec& spec) {
  if (spec.qos.empty()) spec.qos = default_qos_name(table);
  if (table.empty()) return {};
  const QosConfig* q = find_qos(table, spec.qos);
  if (!q) return make_error("--qos: no QOS '" + spec.qos + "' on this cluster (QOS: " + names_of(table) + ")");
  spec.qos = q->name;
  if (q->max_time_s > 0) {
    if (!spec.time_limit_given) {
      // No --time: the partition's default, bounded by MaxWall.
      if (spec.time_limit_s == 0 || spec.time_limit_s > q->max_time_s) spec.time_limit_s = q->max_time_s;
    } else if (spec.time_limit_s == 0 || spec.time_limit_s > q->max_time_s) {
      return make_error("QOS " + q->name + " allows at most " + format_duration_s(q->max_time_s) +
                        (spec.time_limit_s == 0 ? "; the job asks for no limit (give a --time)"
                                                : "; the job asks for " + format_duration_s(spec.time_limit_s)));
    }
  }
  if (q->max_gpus_per_user > 0 && spec.per_task.times(spec.ntasks).gpus > q->max_gpus_per_user)
    return make_error("QOS " + q->name + " allows at most " + std::to_string(q->max_gpus_per_user) +
                      " GPUs per user; the job asks for " + std::to_string(spec.per_task.times(spec.ntasks).gpus));
  return {};
}

Status may_use_qos(const std::vector<QosConfig>& table, const std::string& qos, const std::string& user,
                   const std::string& account, bool admin) {
  const QosConfig* q = find_qos(table, qos.empty() ? default_qos_name(table) : qos);
  if (!q || admin || (q->users.empty() && q->accounts.empty())) return {};
  if (std::find(q->users.begin(), q->users.end(), user) != q->users.end()) return {};
  if (std::find(q->accounts.begin(), q->accounts.end(), account) != q->accounts.end()) return {};
  return make_error("user " + user + " (account " + account + ") may not use QOS " + q->name +
                    " (users: " + listed(q->users) + "; accounts: " + listed(q->accounts) +
                    "); ask an admin, or use another --qos");
}

}  // namespace cadre
