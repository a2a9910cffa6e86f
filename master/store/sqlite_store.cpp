#include "master/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <sstream>
#include <string_view>

#include "common/constraint.hpp"
#include "master/store/row_json.hpp"
#include "master/store/sqlite_schema.hpp"
#include "master/store/sqlite_stmt.hpp"

namespace cadre {
namespace {

using sqlite::sql_error;
using sqlite::Stmt;

std::string join_u32(const std::vector<uint32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s.append(i ? "," : "").append(std::to_string(v[i]));
  return s;
}

std::vector<uint32_t> split_u32(const std::string& s) {
  std::vector<uint32_t> out;
  std::stringstream in(s);
  std::string piece;
  while (std::getline(in, piece, ','))
    if (!piece.empty()) out.push_back(static_cast<uint32_t>(std::stoul(piece)));
  return out;
}

constexpr const char* kJobColumns =
    "id, name, argv, workdir, output, millicores, memory_mb, gpus, nodes, tasks_per_node, ntasks, time_limit_s, "
    "priority, user, uid, gid, state, reason, exit_code, attempt, submit_time, start_time, end_time, requeue, sched";

// The current row of a query of kJobColumns, into `j` (default-constructed).
// Throws on corrupt JSON.
Status read_job_row(const Stmt& q, Job& j) {
  j.id = static_cast<JobId>(q.i64(0));
  JobSpec& s = j.spec;
  s.name = q.view(1);
  row_json::read_argv(q.view(2), &s.argv);
  s.workdir = q.view(3);
  s.output_pattern = q.view(4);
  s.per_task = Resources{q.i64(5), q.i64(6), q.i64(7)};
  s.nodes = static_cast<uint32_t>(q.i64(8));
  s.tasks_per_node = static_cast<uint32_t>(q.i64(9));
  s.ntasks = static_cast<uint32_t>(q.i64(10));
  s.time_limit_s = q.i64(11);
  s.priority = static_cast<int32_t>(q.i64(12));
  s.user = q.view(13);
  s.uid = static_cast<uint32_t>(q.i64(14));
  s.gid = static_cast<uint32_t>(q.i64(15));
  auto state = parse_job_state(q.view(16));
  if (!state) return make_error("job " + std::to_string(j.id) + " has unknown state '" + q.text(16) + "'");
  j.state = *state;
  j.reason = q.view(17);
  j.exit_code = static_cast<int32_t>(q.i64(18));
  j.attempt = static_cast<Attempt>(q.i64(19));
  j.submit_time = q.i64(20);
  j.start_time = q.i64(21);
  j.end_time = q.i64(22);
  s.requeue = q.i64(23) != 0;
  row_json::read_sched(q.view(24), j);
  return {};
}

// Creates an empty `path` as kFileMode unless it exists: SQLite itself
// would create it 0644 less the umask.
Status create_private(const std::string& path, mode_t mode) {
  if (path.empty() || path == ":memory:") return {};
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return make_error("cannot open database " + path + ": " + std::strerror(errno));
  }
  Status s;
  if (::fchmod(fd, mode) != 0) s = make_error("cannot set the mode of database " + path + ": " + std::strerror(errno));
  ::close(fd);
  return s;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  if (Status s = create_private(path, kFileMode); !s) return make_error(s.error());
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (Status s = store->exec(pragma); !s)
      return make_error("database " + path + " cannot be used: " + s.error());
  }
  if (Status s = store->migrate(); !s) return make_error("database " + path + ": " + s.error());
  return store;
}

SqliteStore::~SqliteStore() {
  if (in_tx_) rollback();
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* SqliteStore::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  cache_.emplace(sql, stmt);
  return stmt;
}

Status SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return make_error(msg);
  }
  return {};
}

Status SqliteStore::migrate() {
  int64_t version = 0;
  {
    // Finalized before migrating: DROP INDEX fails while a statement runs.
    Stmt q(db_, "PRAGMA user_version");
    if (!q.prepared() || q.step() != SQLITE_ROW) return sql_error(db_, "cannot read schema version");
    version = q.i64(0);
  }
  if (version > kSchemaVersion)
    return make_error("schema version " + std::to_string(version) + " is newer than this cadre understands (" +
                      std::to_string(kSchemaVersion) + "); run the cadre release that wrote it");
  if (version == kSchemaVersion) return {};
  static_assert(std::size(sqlite_schema::kMigrations) + 1 == kSchemaVersion, "one migration per schema version after 1");
  // One transaction: a failed migration leaves the database as it was.
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  Status s;
  if (version == 0) {
    s = exec(sqlite_schema::kSchemaV1);
    version = 1;
  }
  for (; s && version < kSchemaVersion; ++version) s = exec(sqlite_schema::kMigrations[version - 1]);
  if (s) s = exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  if (!s) {
    (void)exec("ROLLBACK");
    return make_error("cannot migrate the schema to version " + std::to_string(kSchemaVersion) + ": " + s.error());
  }
  return exec("COMMIT");
}

Status SqliteStore::begin() {
  if (in_tx_) return {};
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  in_tx_ = true;
  return {};
}

Status SqliteStore::commit() {
  if (!in_tx_) return {};
  Status s = exec("COMMIT");
  if (!s) {
    rollback();
    return s;
  }
  in_tx_ = false;
  return {};
}

Status SqliteStore::probe() {
  if (in_tx_) return make_error("probe inside a transaction");
  // Rewriting the schema version dirties the header page, so the commit
  // must really reach the disk (WAL append and fsync).
  if (Status s = begin(); !s) return s;
  Status s = exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  if (!s) {
    rollback();
    return s;
  }
  return commit();
}

void SqliteStore::rollback() {
  if (!in_tx_) return;
  (void)exec("ROLLBACK");
  in_tx_ = false;
}

Status SqliteStore::save_job(const Job& job) {
  // Saving jobs is the master's hot path: its statements are prepared once.
  Stmt up(db_, cached(
          "INSERT OR REPLACE INTO jobs (id, name, argv, workdir, output, millicores, memory_mb, gpus, nodes, "
          "tasks_per_node, ntasks, time_limit_s, priority, user, uid, gid, state, reason, exit_code, attempt, "
          "submit_time, start_time, end_time, active, requeue, sched) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  if (!up.prepared()) return sql_error(db_, "save job");
  const JobSpec& s = job.spec;
  up.bind(1, static_cast<int64_t>(job.id)).bind(2, s.name).bind(3, nlohmann::json(s.argv).dump());
  up.bind(4, s.workdir).bind(5, s.output_pattern);
  up.bind(6, s.per_task.millicores).bind(7, s.per_task.memory_mb).bind(8, s.per_task.gpus);
  up.bind(9, s.nodes).bind(10, s.tasks_per_node).bind(11, s.ntasks).bind(12, s.time_limit_s).bind(13, s.priority);
  up.bind(14, s.user).bind(15, s.uid).bind(16, s.gid);
  up.bind(17, std::string(to_string(job.state))).bind(18, job.reason).bind(19, job.exit_code);
  up.bind(20, job.attempt).bind(21, job.submit_time).bind(22, job.start_time).bind(23, job.end_time);
  // A job stays active until its last rank is gone, so a restarted master
  // still accounts for ranks that are being killed.
  up.bind(24, is_final(job.state) && !job.holds_resources() ? 0 : 1);
  up.bind(25, s.requeue ? 1 : 0);
  nlohmann::json sched{{"partition", s.partition},
                       {"account", s.account},
                       {"max_switches", s.max_switches},
                       {"switches_wait_s", s.switches_wait_s},
                       {"preemptions", job.preemptions}};
  // Written only when set, so most rows stay small.
  if (!s.gpu_type.empty()) sched["gpu_type"] = s.gpu_type;
  if (s.batch) sched["batch"] = true;
  if (!s.script.empty()) sched["script"] = s.script;
  if (!s.error_pattern.empty()) sched["error_pattern"] = s.error_pattern;
  if (job.master_port != 0) sched["master_port"] = job.master_port;
  if (job.requeues != 0) sched["requeues"] = job.requeues;
  if (job.run_at > 0) {
    sched["run_s"] = job.run_s;
    sched["run_at"] = job.run_at;
  }
  if (s.umask >= 0) sched["umask"] = s.umask;
  if (!s.environment.empty()) sched["env"] = s.environment;
  if (!s.hints.empty()) sched["hints"] = s.hints;
  if (job.hold != Job::Hold::none) sched["hold"] = static_cast<int>(job.hold);
  if (!s.submit_host.empty()) sched["submit_host"] = s.submit_host;
  if (!s.export_mode.empty()) sched["export_mode"] = s.export_mode;
  if (!s.dependency.empty()) sched["dependency"] = s.dependency;
  if (s.kill_on_invalid_dep) sched["kill_invalid_dep"] = true;
  if (!s.nodelist.empty()) sched["nodelist"] = s.nodelist;
  if (!s.exclude.empty()) sched["exclude"] = s.exclude;
  if (s.exclusive) sched["exclusive"] = true;
  if (!s.signal.empty()) sched["signal"] = s.signal;
  if (s.begin_time != 0) sched["begin"] = s.begin_time;
  if (s.deadline != 0) sched["deadline"] = s.deadline;
  if (!s.constraint.empty()) sched["constraint"] = s.constraint;
  if (s.open_truncate) sched["truncate"] = true;
  if (s.mail_type != 0) sched["mail_type"] = s.mail_type;
  if (!s.mail_user.empty()) sched["mail_user"] = s.mail_user;
  if (!s.qos.empty()) sched["qos"] = s.qos;
  if (!s.reservation.empty()) sched["reservation"] = s.reservation;
  if (!s.partition_list.empty()) sched["partitions"] = s.partition_list;
  if (!s.array.empty()) {
    sched["array"] = s.array;
    sched["array_job"] = s.array_job_id;
    sched["array_task"] = s.array_task_id;
    if (!job.array_left.empty()) sched["array_left"] = job.array_left.format();
  }
  up.bind(26, sched.dump());
  if (up.step() != SQLITE_DONE) return sql_error(db_, "save job " + std::to_string(job.id));

  if (job.tasks.empty() && job.state == JobState::pending && job.attempt == 0) return {};  // never had tasks
  Stmt del(db_, cached("DELETE FROM tasks WHERE job_id = ?"));
  del.bind(1, static_cast<int64_t>(job.id));
  if (del.step() != SQLITE_DONE) return sql_error(db_, "save tasks of job " + std::to_string(job.id));
  Stmt row(db_, cached("INSERT INTO tasks (job_id, rank, node, gpus, state, exit_code) VALUES (?,?,?,?,?,?)"));
  if (!row.prepared()) return sql_error(db_, "save tasks");
  for (const Task& t : job.tasks) {
    row.reset();
    row.bind(1, static_cast<int64_t>(job.id)).bind(2, t.rank).bind(3, t.node).bind(4, join_u32(t.gpus));
    row.bind(5, std::string(to_string(t.state))).bind(6, t.exit_code);
    if (row.step() != SQLITE_DONE) return sql_error(db_, "save task of job " + std::to_string(job.id));
  }
  return {};
}

Status SqliteStore::save_node(const Node& node) {
  Stmt up(db_, cached(
          "INSERT OR REPLACE INTO nodes (name, address, state, millicores, memory_mb, gpus, labels, last_seen, "
          "features) VALUES (?,?,?,?,?,?,?,?,?)"));
  nlohmann::json labels = node.labels;
  up.bind(1, node.name).bind(2, node.address).bind(3, std::string(to_string(node.state)));
  up.bind(4, node.total.millicores).bind(5, node.total.memory_mb).bind(6, node.total.gpus);
  std::string features;
  for (const std::string& f : node.features) features += (features.empty() ? "" : ",") + f;
  up.bind(7, labels.dump()).bind(8, node.last_seen_unix).bind(9, features);
  if (up.step() != SQLITE_DONE) return sql_error(db_, "save node " + node.name);
  return {};
}

Result<std::vector<Job>> SqliteStore::load_jobs(const std::string& where) {
  std::vector<Job> jobs;
  // Sized once: growing a vector of a million jobs moves each several
  // times and, at the last doubling, holds twice the memory.
  const std::string count = "SELECT COUNT(*) FROM jobs WHERE " + where;
  Stmt c(db_, count.c_str());
  if (!c.prepared() || c.step() != SQLITE_ROW) return sql_error(db_, "count jobs");
  jobs.reserve(static_cast<size_t>(c.i64(0)));
  const std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE " + where + " ORDER BY id";
  Stmt q(db_, sql.c_str());
  if (!q.prepared()) return sql_error(db_, "load jobs");
  int rc;
  try {
    while ((rc = q.step()) == SQLITE_ROW) {
      jobs.emplace_back();
      if (Status s = read_job_row(q, jobs.back()); !s) return make_error(s.error());
    }
  } catch (const std::exception& e) {
    return make_error(std::string("corrupt job row: ") + e.what());
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "load jobs");
  if (Status s = load_tasks(where, jobs); !s) return make_error(s.error());
  return jobs;
}

Status SqliteStore::load_tasks(const std::string& where, std::vector<Job>& jobs) {
  // One ordered pass over the tasks of all these jobs, merged by id: a
  // query per job would cost a statement step for each of a million
  // pending jobs that have no task at all.
  const std::string sql = "SELECT job_id, rank, node, gpus, state, exit_code FROM tasks WHERE job_id IN "
                          "(SELECT id FROM jobs WHERE " + where + ") ORDER BY job_id, rank";
  Stmt tq(db_, sql.c_str());
  if (!tq.prepared()) return sql_error(db_, "load tasks");
  size_t at = 0;
  int rc;
  while ((rc = tq.step()) == SQLITE_ROW) {
    const auto job_id = static_cast<JobId>(tq.i64(0));
    while (at < jobs.size() && jobs[at].id < job_id) ++at;
    if (at == jobs.size()) break;
    if (jobs[at].id != job_id) continue;  // cannot happen in one read transaction; harmless if it did
    Job& j = jobs[at];
    Task task;
    task.rank = static_cast<uint32_t>(tq.i64(1));
    task.node = tq.text(2);
    try {
      task.gpus = split_u32(tq.text(3));
    } catch (const std::exception&) {
      return make_error("job " + std::to_string(j.id) + " has a corrupt GPU list");
    }
    auto state = parse_task_state(tq.view(4));
    if (!state) return make_error("job " + std::to_string(j.id) + " has a task in unknown state '" + tq.text(4) + "'");
    task.state = *state;
    task.exit_code = static_cast<int32_t>(tq.i64(5));
    j.tasks.push_back(std::move(task));
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sql_error(db_, "load tasks");
  return {};
}

Result<std::vector<Job>> SqliteStore::load_active_jobs() { return load_jobs("active = 1"); }

Result<std::vector<Job>> SqliteStore::load_ended_jobs(size_t limit) {
  return load_jobs("id IN (SELECT id FROM jobs WHERE active = 0 ORDER BY id DESC LIMIT " + std::to_string(limit) +
                   ")");
}

Result<std::vector<Job>> SqliteStore::load_array_jobs(JobId array_id) {
  return load_jobs("json_extract(sched, '$.array_job') = " + std::to_string(array_id));
}

Result<std::optional<Job>> SqliteStore::load_job(JobId id) {
  auto jobs = load_jobs("id = " + std::to_string(id));
  if (!jobs) return make_error(jobs.error());
  if (jobs->empty()) return std::optional<Job>();
  return std::optional<Job>(std::move(jobs->front()));
}

Result<std::vector<Node>> SqliteStore::load_nodes() {
  std::vector<Node> nodes;
  Stmt q(db_, "SELECT name, address, state, millicores, memory_mb, gpus, labels, last_seen, features FROM nodes "
              "ORDER BY name");
  if (!q.prepared()) return sql_error(db_, "load nodes");
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    Node n;
    n.name = q.text(0);
    n.address = q.text(1);
    auto state = parse_node_state(q.text(2));
    if (!state) return make_error("node " + n.name + " has unknown state '" + q.text(2) + "'");
    n.state = *state;
    n.total = Resources{q.i64(3), q.i64(4), q.i64(5)};
    try {
      n.labels = nlohmann::json::parse(q.text(6)).get<std::map<std::string, std::string>>();
    } catch (const std::exception& e) {
      return make_error("node " + n.name + " has corrupt labels: " + e.what());
    }
    n.last_seen_unix = q.i64(7);
    auto features = parse_feature_list(q.text(8));
    if (!features) return make_error("node " + n.name + " has corrupt features: " + features.error());
    n.features.insert(features->begin(), features->end());
    n.gpu_busy.assign(static_cast<size_t>(std::max<int64_t>(n.total.gpus, 0)), false);
    nodes.push_back(std::move(n));
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "load nodes");
  return nodes;
}

Result<JobId> SqliteStore::max_job_id() {
  Stmt q(db_, "SELECT COALESCE(MAX(id), 0) FROM jobs");
  if (!q.prepared() || q.step() != SQLITE_ROW) return sql_error(db_, "read the highest job id");
  return static_cast<JobId>(q.i64(0));
}

Status SqliteStore::save_usage(const UsageRecord& usage) {
  if (Status s = exec("DELETE FROM fairshare"); !s) return s;
  Stmt up(db_, cached("INSERT INTO fairshare (kind, name, usage, as_of) VALUES (?,?,?,?)"));
  if (!up.prepared()) return sql_error(db_, "save usage");
  for (const auto& [kind, table] : {std::pair{"user", &usage.users}, std::pair{"account", &usage.accounts}})
    for (const auto& [name, value] : *table) {
      up.reset();
      up.bind(1, std::string(kind)).bind(2, name).bind(4, usage.as_of);
      sqlite3_bind_double(up.get(), 3, value);
      if (up.step() != SQLITE_DONE) return sql_error(db_, "save usage of " + name);
    }
  return {};
}

Result<UsageRecord> SqliteStore::load_usage() {
  Stmt q(db_, "SELECT kind, name, usage, as_of FROM fairshare");
  if (!q.prepared()) return sql_error(db_, "load usage");
  UsageRecord out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    const std::string kind = q.text(0);
    const double value = sqlite3_column_double(q.get(), 2);
    if (kind == "user") out.users[q.text(1)] = value;
    else if (kind == "account") out.accounts[q.text(1)] = value;
    else return make_error("fair-share usage has unknown kind '" + kind + "'");
    out.as_of = q.i64(3);
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "load usage");
  return out;
}

}  // namespace cadre
