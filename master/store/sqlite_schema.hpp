// The SQLite schema of the master's store: version 1 as first created,
// and the migrations that take each version to the next (PRAGMA
// user_version counts them). Only ever appended to. Constants; thread-safe.
#pragma once

namespace cadre::sqlite_schema {

inline constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  argv          TEXT NOT NULL,      -- JSON array
  workdir       TEXT NOT NULL,
  output        TEXT NOT NULL,
  millicores    INTEGER NOT NULL,
  memory_mb     INTEGER NOT NULL,
  gpus          INTEGER NOT NULL,
  nodes         INTEGER NOT NULL,
  tasks_per_node INTEGER NOT NULL,
  ntasks        INTEGER NOT NULL,
  time_limit_s  INTEGER NOT NULL,
  priority      INTEGER NOT NULL,
  user          TEXT NOT NULL,
  uid           INTEGER NOT NULL,
  gid           INTEGER NOT NULL,
  state         TEXT NOT NULL,
  reason        TEXT NOT NULL,
  exit_code     INTEGER NOT NULL,
  attempt       INTEGER NOT NULL,
  submit_time   INTEGER NOT NULL,
  start_time    INTEGER NOT NULL,
  end_time      INTEGER NOT NULL,
  active        INTEGER NOT NULL    -- 1 while PENDING or RUNNING
);
CREATE INDEX jobs_active ON jobs(active) WHERE active = 1;
CREATE TABLE tasks (
  job_id    INTEGER NOT NULL,
  rank      INTEGER NOT NULL,
  node      TEXT NOT NULL,
  gpus      TEXT NOT NULL,          -- comma-separated indices
  state     TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  PRIMARY KEY (job_id, rank)
) WITHOUT ROWID;
CREATE TABLE nodes (
  name        TEXT PRIMARY KEY,
  address     TEXT NOT NULL,
  state       TEXT NOT NULL,
  millicores  INTEGER NOT NULL,
  memory_mb   INTEGER NOT NULL,
  gpus        INTEGER NOT NULL,
  labels      TEXT NOT NULL,        -- JSON object
  last_seen   INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Migrations, in order: kMigrations[i] takes schema version i+1 to i+2.
inline constexpr const char* kMigrations[] = {
    // 2: per-job choice to requeue on node failure.
    "ALTER TABLE jobs ADD COLUMN requeue INTEGER NOT NULL DEFAULT 1;",
    // 3: scheduling fields (partition, account, switches, preemptions) as
    // one JSON object, and fair-share usage.
    "ALTER TABLE jobs ADD COLUMN sched TEXT NOT NULL DEFAULT '{}';"
    "CREATE TABLE fairshare (kind TEXT NOT NULL, name TEXT NOT NULL, usage REAL NOT NULL, as_of INTEGER NOT NULL,"
    " PRIMARY KEY (kind, name));",
    // 4: every job in the index on `active`, not only the live ones: the
    // newest ended jobs (`cadre queue --all`) were found by walking the
    // whole table back from the newest id, a million live rows included.
    "DROP INDEX IF EXISTS jobs_active;"
    "CREATE INDEX jobs_by_active ON jobs(active);",
    // 5: node features (what -C/--constraint matches), comma-separated, so
    // a job is checked against them before the agents register again.
    "ALTER TABLE nodes ADD COLUMN features TEXT NOT NULL DEFAULT '';",
    // 6: admin reservations, one JSON object each (sqlite_reservations.cpp).
    "CREATE TABLE reservations (name TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;",
};

}  // namespace cadre::sqlite_schema
