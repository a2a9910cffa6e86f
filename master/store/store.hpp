// Store: where the master's jobs and nodes become durable.
//
// Writes go into an open transaction that the master commits once per loop
// turn (group commit) before anything outside the master may observe the
// change. Loads run at start (recovery) and for ended jobs, which the
// master does not keep in memory.
//
// Not thread-safe: owned by the master's event-loop thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "master/model.hpp"
#include "master/reservations.hpp"

namespace cadre {

// Fair-share usage, decayed to `as_of` (see sched::FairShare).
struct UsageRecord {
  std::map<std::string, double> users;
  std::map<std::string, double> accounts;
  int64_t as_of = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Transaction control. save_* require an open transaction.
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  virtual bool in_transaction() const = 0;
  // Writes and commits a no-op change: succeeds once the disk takes writes
  // again after a failure.
  virtual Status probe() = 0;

  // Upserts a job with all its tasks.
  virtual Status save_job(const Job& job) = 0;
  // Upserts a node's durable fields (not its volatile routing data).
  virtual Status save_node(const Node& node) = 0;

  // Every job that has not ended (PENDING, RUNNING) or still has ranks
  // holding resources, with tasks.
  virtual Result<std::vector<Job>> load_active_jobs() = 0;
  // Ended jobs, oldest first, at most `limit` of the newest.
  virtual Result<std::vector<Job>> load_ended_jobs(size_t limit) = 0;
  virtual Result<std::optional<Job>> load_job(JobId id) = 0;
  // Every job of array `array_id` (its record and its tasks), ended or not.
  virtual Result<std::vector<Job>> load_array_jobs(JobId array_id) = 0;
  virtual Result<std::vector<Node>> load_nodes() = 0;
  // Highest job id ever stored, 0 when none.
  virtual Result<JobId> max_job_id() = 0;

  // Replaces the stored fair-share usage.
  virtual Status save_usage(const UsageRecord& usage) = 0;
  virtual Result<UsageRecord> load_usage() = 0;

  // Admin reservations (master/reservations.hpp): upserted by name,
  // deleted by name, all read back at start.
  virtual Status save_reservation(const Reservation& r) = 0;
  virtual Status delete_reservation(const std::string& name) = 0;
  virtual Result<Reservations> load_reservations() = 0;
};

}  // namespace cadre
