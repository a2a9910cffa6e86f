// Specification of master/store/sqlite_store: the master's durable state.
#include "master/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace cadre {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cadre-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "cadre.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SqliteStore> open_store() {
    auto s = SqliteStore::open(path_);
    EXPECT_TRUE(s) << s.error();
    return s ? std::move(*s) : nullptr;
  }

  static void save(Store& store, const std::vector<Job>& jobs, const std::vector<Node>& nodes = {}) {
    ASSERT_TRUE(store.begin());
    for (const Job& j : jobs) {
      Status s = store.save_job(j);
      ASSERT_TRUE(s) << s.error();
    }
    for (const Node& n : nodes) {
      Status s = store.save_node(n);
      ASSERT_TRUE(s) << s.error();
    }
    Status s = store.commit();
    ASSERT_TRUE(s) << s.error();
  }

  // Runs one query with sqlite3 directly and returns a column (the first
  // unless told) of the first row.
  std::string query(const std::string& sql, int column = 0) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      auto* text = sqlite3_column_text(stmt, column);
      out = text ? reinterpret_cast<const char*>(text) : "";
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  // Runs SQL with sqlite3 directly, read-write (to build old or odd rows).
  void exec_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  void write_file(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary);
    out << bytes;
  }
  std::string read_file() {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
  std::string path_;
};

Job running_job(JobId id) {
  Job j;
  j.id = id;
  j.spec.name = "train-" + std::to_string(id);
  j.spec.argv = {"python", "train.py", "--lr", "0.1", "with \"quotes\" and ünïcode"};
  j.spec.workdir = "/home/ada/exp";
  j.spec.output_pattern = "out-%j-%t.log";
  j.spec.per_task = Resources{4000, 16384, 2};
  j.spec.nodes = 2;
  j.spec.tasks_per_node = 2;
  j.spec.ntasks = 4;
  j.spec.time_limit_s = 7200;
  j.spec.priority = -3;
  j.spec.user = "ada";
  j.spec.uid = 1000;
  j.spec.gid = 1001;
  j.state = JobState::running;
  j.reason = "";
  j.exit_code = 0;
  j.attempt = 2;
  j.submit_time = 1700000000;
  j.start_time = 1700000100;
  j.end_time = 0;
  for (uint32_t r = 0; r < 4; ++r) {
    Task t;
    t.rank = r;
    t.node = r < 2 ? "gpu-01" : "gpu-02";
    t.gpus = {r % 2 * 2, r % 2 * 2 + 1};
    t.state = r == 3 ? TaskState::launching : TaskState::running;
    j.tasks.push_back(t);
  }
  return j;
}

Job pending_job(JobId id) {
  Job j;
  j.id = id;
  j.spec.name = "sleep";
  j.spec.argv = {"sleep", "1"};
  j.spec.workdir = "/tmp";
  j.spec.output_pattern = "cadre-%j-%t.out";
  j.spec.per_task = Resources{1000, 1024, 0};
  j.state = JobState::pending;
  j.reason = "Resources";
  j.submit_time = 1700000000 + static_cast<int64_t>(id);
  return j;
}

Job ended_job(JobId id, JobState state) {
  Job j = running_job(id);
  j.state = state;
  j.exit_code = state == JobState::failed ? 3 : 0;
  j.reason = state == JobState::failed ? "rank 1 on gpu-01 exited with code 3" : "";
  j.end_time = 1700000200;
  for (Task& t : j.tasks) t.state = TaskState::completed;
  j.tasks[1].state = TaskState::failed;
  j.tasks[1].exit_code = 3;
  return j;
}

Node gpu_node(const std::string& name) {
  Node n;
  n.name = name;
  n.address = "10.0.0." + name.substr(name.size() - 1);
  n.state = NodeState::up;
  n.total = Resources{64000, 512 * 1024, 8};
  n.labels = {{"rack", "r1"}, {"gpu", "h100"}, {"quote", "a \"b\" = c"}};
  n.last_seen_unix = 1700000300;
  return n;
}

void expect_same_job(const Job& want, const Job& got) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.spec.name, want.spec.name);
  EXPECT_EQ(got.spec.argv, want.spec.argv);
  EXPECT_EQ(got.spec.workdir, want.spec.workdir);
  EXPECT_EQ(got.spec.output_pattern, want.spec.output_pattern);
  EXPECT_EQ(got.spec.per_task, want.spec.per_task);
  EXPECT_EQ(got.spec.nodes, want.spec.nodes);
  EXPECT_EQ(got.spec.tasks_per_node, want.spec.tasks_per_node);
  EXPECT_EQ(got.spec.ntasks, want.spec.ntasks);
  EXPECT_EQ(got.spec.time_limit_s, want.spec.time_limit_s);
  EXPECT_EQ(got.spec.priority, want.spec.priority);
  EXPECT_EQ(got.spec.user, want.spec.user);
  EXPECT_EQ(got.spec.uid, want.spec.uid);
  EXPECT_EQ(got.spec.gid, want.spec.gid);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.attempt, want.attempt);
  EXPECT_EQ(got.submit_time, want.submit_time);
  EXPECT_EQ(got.start_time, want.start_time);
  EXPECT_EQ(got.end_time, want.end_time);
  ASSERT_EQ(got.tasks.size(), want.tasks.size());
  for (size_t i = 0; i < want.tasks.size(); ++i) {
    EXPECT_EQ(got.tasks[i].rank, want.tasks[i].rank);
    EXPECT_EQ(got.tasks[i].node, want.tasks[i].node);
    EXPECT_EQ(got.tasks[i].gpus, want.tasks[i].gpus);
    EXPECT_EQ(got.tasks[i].state, want.tasks[i].state);
    EXPECT_EQ(got.tasks[i].exit_code, want.tasks[i].exit_code);
  }
}

std::vector<JobId> ids(const std::vector<Job>& jobs) {
  std::vector<JobId> out;
  for (const Job& j : jobs) out.push_back(j.id);
  return out;
}

TEST_F(SqliteStoreTest, ANewDatabaseAndItsWalAre0600WhateverTheUmask) {
  const mode_t old = umask(022);
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    save(*store, {});
  }
  umask(old);
  for (const std::string& file : {path_, path_ + "-wal", path_ + "-shm"}) {
    if (!fs::exists(file)) continue;  // -wal and -shm may be gone once the last connection closed
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms(SqliteStore::kFileMode)) << file;
  }
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all, fs::perms(0600));
}

TEST_F(SqliteStoreTest, AnExistingDatabaseKeepsItsMode) {
  ASSERT_TRUE(open_store());
  fs::permissions(path_, fs::perms(0640));
  ASSERT_TRUE(open_store());
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all, fs::perms(0640)) << "reported at start, not changed";
}

TEST_F(SqliteStoreTest, JobWithTasksRoundTrips) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = running_job(7);
  save(*store, {j});
  auto loaded = store->load_job(7);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  expect_same_job(j, **loaded);
}

TEST_F(SqliteStoreTest, EndedJobRoundTripsItsExitAndReason) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = ended_job(3, JobState::failed);
  save(*store, {j});
  auto loaded = store->load_job(3);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  expect_same_job(j, **loaded);
}

TEST_F(SqliteStoreTest, AnArrayRecordAndItsTasksRoundTripAndLoadTogether) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job record = ended_job(10, JobState::cancelled);
  record.spec.array = "0-99%5";
  record.spec.array_job_id = 10;
  record.spec.dependency = "afterok:3?singleton";
  record.spec.kill_on_invalid_dep = true;
  record.array_left = *IndexSet::parse("5-99");
  Job task = ended_job(11, JobState::completed);
  task.spec.array = "0-99%5";
  task.spec.array_job_id = 10;
  task.spec.array_task_id = 4;
  Job other = ended_job(12, JobState::completed);
  save(*store, {record, task, other});
  auto loaded = store->load_job(10);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->array_left.format(), "5-99");
  EXPECT_EQ((*loaded)->spec.array, "0-99%5");
  EXPECT_EQ((*loaded)->spec.dependency, "afterok:3?singleton");
  EXPECT_TRUE((*loaded)->spec.kill_on_invalid_dep);
  auto members = store->load_array_jobs(10);
  ASSERT_TRUE(members) << members.error();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1].spec.array_task_id, 4);
  EXPECT_EQ((*members)[1].spec.array_job_id, 10u);
  auto none = store->load_array_jobs(12);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, PlacementSignalAndBeginTimeRoundTrip) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = ended_job(20, JobState::completed);
  j.spec.begin_time = 1800000000;
  j.spec.nodelist = "n[1-2]";
  j.spec.exclude = "n3";
  j.spec.exclusive = true;
  j.spec.signal = "B:USR1@90";
  Job plain = ended_job(21, JobState::completed);
  save(*store, {j, plain});
  auto loaded = store->load_job(20);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->spec.begin_time, 1800000000);
  EXPECT_EQ((*loaded)->spec.nodelist, "n[1-2]");
  EXPECT_EQ((*loaded)->spec.exclude, "n3");
  EXPECT_TRUE((*loaded)->spec.exclusive);
  EXPECT_EQ((*loaded)->spec.signal, "B:USR1@90");
  auto other = store->load_job(21);
  ASSERT_TRUE(other && other->has_value());
  EXPECT_EQ((*other)->spec.begin_time, 0);
}

TEST_F(SqliteStoreTest, NodeWithLabelsRoundTrips) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Node a = gpu_node("gpu-2"), b = gpu_node("gpu-1");
  b.state = NodeState::drain;
  b.labels.clear();
  save(*store, {}, {a, b});
  auto nodes = store->load_nodes();
  ASSERT_TRUE(nodes) << nodes.error();
  ASSERT_EQ(nodes->size(), 2u);
  const Node& first = (*nodes)[0];  // ordered by name
  const Node& second = (*nodes)[1];
  EXPECT_EQ(first.name, "gpu-1");
  EXPECT_EQ(first.state, NodeState::drain);
  EXPECT_TRUE(first.labels.empty());
  EXPECT_EQ(second.name, "gpu-2");
  EXPECT_EQ(second.address, a.address);
  EXPECT_EQ(second.state, NodeState::up);
  EXPECT_EQ(second.total, a.total);
  EXPECT_EQ(second.labels, a.labels);
  EXPECT_EQ(second.last_seen_unix, a.last_seen_unix);
  // Allocation is not durable: a loaded node has all its GPUs free.
  EXPECT_EQ(second.gpu_busy, std::vector<bool>(8, false));
  EXPECT_TRUE(second.used.is_zero());
}

TEST_F(SqliteStoreTest, SavingAJobAgainReplacesItAndItsTasks) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = running_job(5);
  save(*store, {j});
  j.state = JobState::pending;
  j.tasks.resize(1);
  j.tasks[0].node = "elsewhere";
  save(*store, {j});
  auto loaded = store->load_job(5);
  ASSERT_TRUE(loaded && loaded->has_value());
  expect_same_job(j, **loaded);
  EXPECT_EQ(query("SELECT COUNT(*) FROM jobs"), "1");
}

TEST_F(SqliteStoreTest, ActiveJobsExcludeEndedOnes) {
  auto store = open_store();
  ASSERT_TRUE(store);
  save(*store, {pending_job(4), ended_job(1, JobState::completed), running_job(2), ended_job(3, JobState::cancelled),
                ended_job(5, JobState::timeout), ended_job(6, JobState::node_fail), ended_job(7, JobState::failed)});
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  EXPECT_EQ(ids(*active), (std::vector<JobId>{2, 4}));
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].tasks.size(), 4u);
  EXPECT_TRUE((*active)[1].tasks.empty());
}

TEST_F(SqliteStoreTest, AnEndedJobStaysActiveWhileARankIsBeingKilled) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = ended_job(1, JobState::cancelled);
  j.tasks[2].state = TaskState::killing;  // a restarted master must still account for it
  save(*store, {j});
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(ids(*active), (std::vector<JobId>{1}));
  expect_same_job(j, (*active)[0]);
  auto ended = store->load_ended_jobs(10);
  ASSERT_TRUE(ended);
  EXPECT_TRUE(ended->empty());

  j.tasks[2].state = TaskState::cancelled;
  save(*store, {j});
  EXPECT_TRUE(store->load_active_jobs()->empty());
  EXPECT_EQ(ids(*store->load_ended_jobs(10)), (std::vector<JobId>{1}));
}

TEST_F(SqliteStoreTest, AJobThatEndsLeavesTheActiveSet) {
  auto store = open_store();
  ASSERT_TRUE(store);
  save(*store, {running_job(1)});
  save(*store, {ended_job(1, JobState::completed)});
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active);
  EXPECT_TRUE(active->empty());
}

TEST_F(SqliteStoreTest, EndedJobsAreTheNewestUpToTheLimitOldestFirst) {
  auto store = open_store();
  ASSERT_TRUE(store);
  save(*store, {ended_job(1, JobState::completed), pending_job(2), ended_job(3, JobState::failed),
                ended_job(4, JobState::cancelled), running_job(5), ended_job(6, JobState::timeout)});
  auto all = store->load_ended_jobs(100);
  ASSERT_TRUE(all) << all.error();
  EXPECT_EQ(ids(*all), (std::vector<JobId>{1, 3, 4, 6}));
  auto newest = store->load_ended_jobs(2);
  ASSERT_TRUE(newest) << newest.error();
  EXPECT_EQ(ids(*newest), (std::vector<JobId>{4, 6}));
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].tasks.size(), 4u);
  auto none = store->load_ended_jobs(0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreTest, LoadingAMissingJobGivesAnEmptyOptional) {
  auto store = open_store();
  ASSERT_TRUE(store);
  save(*store, {pending_job(1)});
  auto missing = store->load_job(2);
  ASSERT_TRUE(missing) << missing.error();
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTest, MaxJobIdIsZeroWhenEmptyThenTheHighestStored) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto empty = store->max_job_id();
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_EQ(*empty, 0u);
  save(*store, {pending_job(3), ended_job(41, JobState::completed), pending_job(17)});
  auto max = store->max_job_id();
  ASSERT_TRUE(max) << max.error();
  EXPECT_EQ(*max, 41u);
}

TEST_F(SqliteStoreTest, RollbackDiscardsUncommittedWrites) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->begin());
  EXPECT_TRUE(store->in_transaction());
  ASSERT_TRUE(store->save_job(pending_job(1)));
  store->rollback();
  EXPECT_FALSE(store->in_transaction());
  auto j = store->load_job(1);
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->has_value());
}

TEST_F(SqliteStoreTest, ClosingWithoutCommitLosesTheOpenTransaction) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    save(*store, {pending_job(1)});
    ASSERT_TRUE(store->begin());
    ASSERT_TRUE(store->save_job(pending_job(2)));
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  auto max = store->max_job_id();
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 1u);
}

TEST_F(SqliteStoreTest, ReopeningTheFileKeepsEverything) {
  Job running = running_job(2);
  Job ended = ended_job(1, JobState::failed);
  Node node = gpu_node("gpu-1");
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    save(*store, {ended, running, pending_job(3)}, {node});
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(ids(*active), (std::vector<JobId>{2, 3}));
  expect_same_job(running, (*active)[0]);
  auto old = store->load_ended_jobs(10);
  ASSERT_TRUE(old);
  ASSERT_EQ(old->size(), 1u);
  expect_same_job(ended, (*old)[0]);
  auto nodes = store->load_nodes();
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].labels, node.labels);
  EXPECT_EQ(*store->max_job_id(), 3u);
}

TEST_F(SqliteStoreTest, UsesWriteAheadLoggingAndRecordsTheSchemaVersion) {
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query("PRAGMA user_version"), std::to_string(SqliteStore::kSchemaVersion));
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerCadre) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version=99;", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find("newer"), std::string::npos) << store.error();
  EXPECT_NE(store.error().find("99"), std::string::npos) << store.error();
  EXPECT_NE(store.error().find(path_), std::string::npos) << store.error();
  // It was not migrated over.
  EXPECT_EQ(query("PRAGMA user_version"), "99");
  EXPECT_EQ(query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs'"), "0");
}

TEST_F(SqliteStoreTest, RefusesAFileOfGarbageAndLeavesItUntouched) {
  std::mt19937 rng(99);
  std::string garbage(64 * 1024, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  write_file(garbage);
  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find(path_), std::string::npos) << store.error();
  EXPECT_EQ(read_file(), garbage) << "the file was modified";
  // Nothing was created beside it either.
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
}

TEST_F(SqliteStoreTest, RefusesATextFileAndLeavesItUntouched) {
  const std::string text = "this is not a database, it is someone's notes\n";
  write_file(text);
  auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store);
  EXPECT_EQ(read_file(), text);
}

TEST_F(SqliteStoreTest, ADirectoryThatDoesNotExistIsAnError) {
  auto store = SqliteStore::open((dir_ / "missing" / "cadre.db").string());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find("cannot open database"), std::string::npos) << store.error();
}

// ---- batch jobs, GPU types, MASTER_PORT ----

Job batch_job(JobId id) {
  Job j = running_job(id);
  j.spec.gpu_type = "H100";
  j.spec.batch = true;
  j.spec.script = "#!/bin/bash\n#SBATCH --nodes=2 --job-name=\"ünï\"\n\tcadre run python train.py --lr 0.1\n";
  j.spec.error_pattern = "err-%j.log";
  j.master_port = 29777;
  j.spec.environment = {"PATH=/opt/conda/bin:/usr/bin", "MULTI=line one\nline \"two\"", "UNI=ünï"};
  j.spec.submit_host = "login-1";
  j.hold = Job::Hold::admin;
  j.spec.export_mode = "ALL,OMP_NUM_THREADS=4";
  j.run_s = 3725;
  j.run_at = 1'800'000'123;
  // Only the script runs; the other slots wait for its steps.
  j.tasks[0].state = TaskState::running;
  for (size_t r = 1; r < j.tasks.size(); ++r) j.tasks[r].state = TaskState::allocated;
  return j;
}

void expect_same_batch_fields(const Job& want, const Job& got) {
  EXPECT_EQ(got.spec.gpu_type, want.spec.gpu_type);
  EXPECT_EQ(got.spec.batch, want.spec.batch);
  EXPECT_EQ(got.spec.script, want.spec.script);
  EXPECT_EQ(got.spec.error_pattern, want.spec.error_pattern);
  EXPECT_EQ(got.master_port, want.master_port);
  EXPECT_EQ(got.run_s, want.run_s) << "the saved run time survives a restart";
  EXPECT_EQ(got.spec.environment, want.spec.environment) << "the exported environment survives a restart";
  EXPECT_EQ(got.spec.submit_host, want.spec.submit_host);
  EXPECT_EQ(got.spec.export_mode, want.spec.export_mode);
  EXPECT_EQ(got.hold, want.hold) << "a hold survives a restart";
  EXPECT_EQ(got.run_at, want.run_at);
}

TEST_F(SqliteStoreTest, BatchJobFieldsAndAllocatedSlotsRoundTrip) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = batch_job(11);
  save(*store, {j});
  auto loaded = store->load_job(11);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  expect_same_job(j, **loaded);
  expect_same_batch_fields(j, **loaded);
  EXPECT_EQ((*loaded)->tasks[3].state, TaskState::allocated);
}

TEST_F(SqliteStoreTest, AJobWithOnlyAllocatedSlotsLeftStaysActiveAcrossAReopen) {
  Job j = batch_job(12);
  // The script has exited but the master has not yet freed the other slots.
  j.tasks[0].state = TaskState::completed;
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    save(*store, {j});
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(ids(*active), (std::vector<JobId>{12}));
  expect_same_job(j, (*active)[0]);
  expect_same_batch_fields(j, (*active)[0]);
}

TEST_F(SqliteStoreTest, UnsetBatchFieldsLoadAsDefaults) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job batch = batch_job(13);
  save(*store, {batch});
  // Saved again as a plain job: no field of the batch job may linger.
  Job plain = running_job(13);
  save(*store, {plain});
  auto loaded = store->load_job(13);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  const Job& got = **loaded;
  EXPECT_EQ(got.spec.gpu_type, "");
  EXPECT_FALSE(got.spec.batch);
  EXPECT_EQ(got.spec.script, "");
  EXPECT_EQ(got.spec.error_pattern, "");
  EXPECT_EQ(got.master_port, 0);
  EXPECT_EQ(got.tasks[3].state, TaskState::launching);
}

TEST_F(SqliteStoreTest, ALargeScriptRoundTrips) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job j = batch_job(14);
  j.spec.script.clear();
  for (int line = 0; j.spec.script.size() < (size_t{1} << 20) - 64; ++line)
    j.spec.script += "echo line " + std::to_string(line) + " \"quoted\" \\ back\tslash ✓\n";
  save(*store, {j});
  auto loaded = store->load_job(14);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->spec.script.size(), j.spec.script.size());
  EXPECT_TRUE((*loaded)->spec.script == j.spec.script);
}

// ---- loading many jobs, the JSON columns, and the schema of version 3 ----

TEST_F(SqliteStoreTest, EachLoadedJobGetsItsOwnTasksInRankOrder) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Job a = running_job(3);
  Job b = running_job(7);
  b.tasks.resize(2);
  b.tasks[1].node = "gpu-09";
  std::swap(b.tasks[0], b.tasks[1]);  // in the job out of rank order: rank 1 (gpu-09), then rank 0
  Job c = running_job(9);
  save(*store, {pending_job(1), a, pending_job(5), b, ended_job(8, JobState::completed), c, pending_job(10)});
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(ids(*active), (std::vector<JobId>{1, 3, 5, 7, 9, 10}));
  EXPECT_TRUE((*active)[0].tasks.empty());
  expect_same_job(a, (*active)[1]);
  EXPECT_TRUE((*active)[2].tasks.empty());
  ASSERT_EQ((*active)[3].tasks.size(), 2u);
  EXPECT_EQ((*active)[3].tasks[0].rank, 0u);
  EXPECT_EQ((*active)[3].tasks[0].node, "gpu-01");
  EXPECT_EQ((*active)[3].tasks[1].rank, 1u);
  EXPECT_EQ((*active)[3].tasks[1].node, "gpu-09");
  expect_same_job(c, (*active)[4]);
  EXPECT_TRUE((*active)[5].tasks.empty());
  // The ended one keeps its own tasks too.
  auto ended = store->load_ended_jobs(10);
  ASSERT_TRUE(ended) << ended.error();
  ASSERT_EQ(ids(*ended), (std::vector<JobId>{8}));
  expect_same_job(ended_job(8, JobState::completed), (*ended)[0]);
}

TEST_F(SqliteStoreTest, JsonColumnsWithEscapesOrUnknownFieldsStillLoad) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    save(*store, {pending_job(1), pending_job(2), pending_job(3)});
  }
  // As another writer (or a newer cadre) might leave them: escapes,
  // spacing, a nested field nobody knows, a number past 32 bits.
  exec_sql(R"sql(UPDATE jobs SET argv = '[ "echo", "tab\tand \"quote\"", "\u00fc" ]',
                 sched = '{"partition": "gpu", "account": "a\\b", "future": {"x": [1, 2]}, "preemptions": 2,
                           "switches_wait_s": 9000000000, "batch": true, "master_port": 29501,
                           "run_s": 61, "run_at": 1800000000}' WHERE id = 1;
                 UPDATE jobs SET argv = '[]', sched = '{ }' WHERE id = 2;
                 UPDATE jobs SET sched = '{"partition":"cpu","max_switches":3,"newer":"field"}' WHERE id = 3;)sql");
  auto store = open_store();
  ASSERT_TRUE(store);
  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(active->size(), 3u);
  const Job& odd = (*active)[0];
  EXPECT_EQ(odd.spec.argv, (std::vector<std::string>{"echo", "tab\tand \"quote\"", "ü"}));
  EXPECT_EQ(odd.spec.partition, "gpu");
  EXPECT_EQ(odd.spec.account, "a\\b");
  EXPECT_EQ(odd.preemptions, 2u);
  EXPECT_EQ(odd.spec.switches_wait_s, int64_t{9000000000});
  EXPECT_TRUE(odd.spec.batch);
  EXPECT_EQ(odd.master_port, 29501);
  EXPECT_EQ(odd.run_s, 61);
  EXPECT_EQ(odd.run_at, 1800000000);
  EXPECT_TRUE((*active)[1].spec.argv.empty());
  EXPECT_EQ((*active)[1].spec.partition, "");
  EXPECT_EQ((*active)[2].spec.partition, "cpu");
  EXPECT_EQ((*active)[2].spec.max_switches, 3u);
  EXPECT_EQ((*active)[2].spec.argv, pending_job(3).spec.argv);
}

TEST_F(SqliteStoreTest, ACorruptJsonColumnIsRefusedNotGuessed) {
  for (const char* bad : {R"(argv = '["sleep", "1"')", R"(argv = '{"not": "a list"}')", R"(argv = '["a", 2]')",
                          R"(sched = '{"partition": "gpu",}')", R"(sched = '{"batch": "yes"}')"}) {
    SCOPED_TRACE(bad);
    {
      auto store = open_store();
      ASSERT_TRUE(store);
      save(*store, {pending_job(1)});
    }
    exec_sql(std::string("UPDATE jobs SET ") + bad + " WHERE id = 1");
    auto store = open_store();
    ASSERT_TRUE(store);
    auto active = store->load_active_jobs();
    ASSERT_FALSE(active);
    EXPECT_NE(active.error().find("corrupt job row"), std::string::npos) << active.error();
  }
}

// The schema a cadre of version 3 wrote, verbatim, with one live and one
// ended job: opening it must migrate it in place and keep every row.
constexpr const char* kSchemaVersion3 = R"sql(
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, argv TEXT NOT NULL, workdir TEXT NOT NULL, output TEXT NOT NULL,
  millicores INTEGER NOT NULL, memory_mb INTEGER NOT NULL, gpus INTEGER NOT NULL, nodes INTEGER NOT NULL,
  tasks_per_node INTEGER NOT NULL, ntasks INTEGER NOT NULL, time_limit_s INTEGER NOT NULL, priority INTEGER NOT NULL,
  user TEXT NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
  exit_code INTEGER NOT NULL, attempt INTEGER NOT NULL, submit_time INTEGER NOT NULL, start_time INTEGER NOT NULL,
  end_time INTEGER NOT NULL, active INTEGER NOT NULL, requeue INTEGER NOT NULL DEFAULT 1,
  sched TEXT NOT NULL DEFAULT '{}');
CREATE INDEX jobs_active ON jobs(active) WHERE active = 1;
CREATE TABLE tasks (job_id INTEGER NOT NULL, rank INTEGER NOT NULL, node TEXT NOT NULL, gpus TEXT NOT NULL,
  state TEXT NOT NULL, exit_code INTEGER NOT NULL, PRIMARY KEY (job_id, rank)) WITHOUT ROWID;
CREATE TABLE nodes (name TEXT PRIMARY KEY, address TEXT NOT NULL, state TEXT NOT NULL, millicores INTEGER NOT NULL,
  memory_mb INTEGER NOT NULL, gpus INTEGER NOT NULL, labels TEXT NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE fairshare (kind TEXT NOT NULL, name TEXT NOT NULL, usage REAL NOT NULL, as_of INTEGER NOT NULL,
  PRIMARY KEY (kind, name));
INSERT INTO jobs VALUES (1, 'old', '["sleep","1"]', '/tmp', 'cadre-%j-%t.out', 1000, 1024, 0, 0, 0, 1, 60, 0,
  'ada', 1000, 1000, 'COMPLETED', '', 0, 1, 1700000000, 1700000010, 1700000020, 0, 1,
  '{"account":"ada","partition":"default"}');
INSERT INTO tasks VALUES (1, 0, 'n1', '', 'COMPLETED', 0);
INSERT INTO jobs VALUES (2, 'live', '["sleep","2"]', '/tmp', 'cadre-%j-%t.out', 1000, 1024, 0, 0, 0, 1, 60, 0,
  'ada', 1000, 1000, 'PENDING', 'Priority', 0, 0, 1700000030, 0, 0, 1, 1, '{"account":"ada","partition":"default"}');
INSERT INTO fairshare VALUES ('user', 'ada', 12.5, 1700000040);
PRAGMA user_version = 3;
)sql";

TEST_F(SqliteStoreTest, ADatabaseOfSchemaVersion3MigratesAndKeepsItsJobs) {
  exec_sql(kSchemaVersion3);
  ASSERT_EQ(query("PRAGMA user_version"), "3");
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(query("PRAGMA user_version"), std::to_string(SqliteStore::kSchemaVersion));
  EXPECT_EQ(query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'jobs_by_active'"), "1");
  EXPECT_EQ(query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'jobs_active'"), "0");
  // The newest ended jobs are found through the index, not by walking
  // every row back from the newest id.
  const std::string plan =
      query("EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE active = 0 ORDER BY id DESC LIMIT 10", 3);
  EXPECT_NE(plan.find("jobs_by_active"), std::string::npos) << plan;

  auto active = store->load_active_jobs();
  ASSERT_TRUE(active) << active.error();
  ASSERT_EQ(ids(*active), (std::vector<JobId>{2}));
  EXPECT_EQ((*active)[0].reason, "Priority");
  auto ended = store->load_ended_jobs(10);
  ASSERT_TRUE(ended) << ended.error();
  ASSERT_EQ(ids(*ended), (std::vector<JobId>{1}));
  ASSERT_EQ((*ended)[0].tasks.size(), 1u);
  EXPECT_EQ((*ended)[0].tasks[0].node, "n1");
  EXPECT_EQ((*ended)[0].spec.account, "ada");
  auto usage = store->load_usage();
  ASSERT_TRUE(usage) << usage.error();
  EXPECT_DOUBLE_EQ(usage->users["ada"], 12.5);

  // It takes writes in the new schema, and reopens without migrating again.
  save(*store, {ended_job(3, JobState::failed)});
  store.reset();
  auto again = open_store();
  ASSERT_TRUE(again);
  EXPECT_EQ(ids(*again->load_ended_jobs(10)), (std::vector<JobId>{1, 3}));
  auto none = again->load_reservations();
  ASSERT_TRUE(none) << none.error();
  EXPECT_TRUE(none->empty()) << "migrated to the reservations table too";
}

TEST_F(SqliteStoreTest, ReservationsAreSavedDeletedAndLoadedBack) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Reservation r{"maint", {"n1", "n2"}, 1000, 2000, {"ada"}, {"physics"}};
  Reservation other{"course", {"n3"}, 1500, 5000, {}, {"teaching"}};
  ASSERT_TRUE(store->begin());
  ASSERT_TRUE(store->save_reservation(r));
  ASSERT_TRUE(store->save_reservation(other));
  ASSERT_TRUE(store->commit());
  store.reset();
  auto again = open_store();
  auto loaded = again->load_reservations();
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ(loaded->at("maint"), r);
  EXPECT_EQ(loaded->at("course"), other);
  ASSERT_TRUE(again->begin());
  ASSERT_TRUE(again->delete_reservation("maint"));
  ASSERT_TRUE(again->commit());
  EXPECT_EQ(again->load_reservations()->count("maint"), 0u);
}

TEST_F(SqliteStoreTest, ADamagedReservationRowIsAnErrorThatNamesIt) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO reservations VALUES ('bad', '{\"nodes\": 7}')", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = open_store();
  auto loaded = store->load_reservations();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find("reservation bad"), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace cadre
