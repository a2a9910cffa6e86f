// SqliteStore's reservations: one row per reservation, its fields as a
// JSON object, so a newer cadre can add fields without a migration.
#include <nlohmann/json.hpp>

#include "master/store/sqlite_stmt.hpp"
#include "master/store/sqlite_store.hpp"

namespace cadre {

using sqlite::sql_error;
using sqlite::Stmt;

Status SqliteStore::save_reservation(const Reservation& r) {
  Stmt up(db_, cached("INSERT OR REPLACE INTO reservations (name, body) VALUES (?,?)"));
  const nlohmann::json body = {{"nodes", r.nodes},       {"start", r.start},       {"end", r.end},
                               {"users", r.users},       {"accounts", r.accounts}};
  up.bind(1, r.name).bind(2, body.dump());
  if (up.step() != SQLITE_DONE) return sql_error(db_, "save reservation " + r.name);
  return {};
}

Status SqliteStore::delete_reservation(const std::string& name) {
  Stmt del(db_, cached("DELETE FROM reservations WHERE name = ?"));
  del.bind(1, name);
  if (del.step() != SQLITE_DONE) return sql_error(db_, "delete reservation " + name);
  return {};
}

Result<Reservations> SqliteStore::load_reservations() {
  Stmt q(db_, "SELECT name, body FROM reservations");
  if (!q.prepared()) return sql_error(db_, "load reservations");
  Reservations out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    Reservation r;
    r.name = q.text(0);
    // A row that does not read is a damaged database: said, never guessed.
    auto body = nlohmann::json::parse(q.view(1), nullptr, false);
    try {
      if (body.is_discarded() || !body.is_object()) throw std::runtime_error("not a JSON object");
      r.nodes = body.at("nodes").get<std::vector<std::string>>();
      r.start = body.at("start").get<int64_t>();
      r.end = body.at("end").get<int64_t>();
      r.users = body.value("users", std::vector<std::string>{});
      r.accounts = body.value("accounts", std::vector<std::string>{});
    } catch (const std::exception& e) {
      return make_error("reservation " + r.name + " in the database does not read: " + e.what());
    }
    out.emplace(r.name, std::move(r));
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "load reservations");
  return out;
}

}  // namespace cadre
