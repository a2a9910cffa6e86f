// SqliteStore: the Store on one SQLite database file.
// WAL journal, synchronous=FULL (a commit survives power loss), schema
// version in PRAGMA user_version, migrated on open. A database from a newer
// cadre, or one SQLite cannot read, is refused and left untouched.
// Not thread-safe: one owner thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "master/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cadre {

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 6;

  // The database holds every job's command, environment and user: a file
  // open() creates is this mode whatever the umask, and SQLite gives the
  // -wal and -shm files the database's mode. An existing file keeps its own.
  static constexpr unsigned kFileMode = 0600;

  // Opens (creating if missing, as kFileMode) the database at `path`.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  Status begin() override;
  Status commit() override;
  void rollback() override;
  bool in_transaction() const override { return in_tx_; }
  Status probe() override;

  Status save_job(const Job& job) override;
  Status save_node(const Node& node) override;

  Result<std::vector<Job>> load_active_jobs() override;
  Result<std::vector<Job>> load_ended_jobs(size_t limit) override;
  Result<std::optional<Job>> load_job(JobId id) override;
  Result<std::vector<Job>> load_array_jobs(JobId array_id) override;
  Result<std::vector<Node>> load_nodes() override;
  Result<JobId> max_job_id() override;
  Status save_usage(const UsageRecord& usage) override;
  Result<UsageRecord> load_usage() override;
  // In sqlite_reservations.cpp.
  Status save_reservation(const Reservation& r) override;
  Status delete_reservation(const std::string& name) override;
  Result<Reservations> load_reservations() override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  Status migrate();
  // Jobs matching `where` (SQL over the jobs table), in id order, with tasks.
  Result<std::vector<Job>> load_jobs(const std::string& where);
  Status load_tasks(const std::string& where, std::vector<Job>& jobs);
  // A statement prepared on first use and kept; keyed by the SQL literal.
  sqlite3_stmt* cached(const char* sql);

  sqlite3* db_;
  bool in_tx_ = false;
  std::map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace cadre
