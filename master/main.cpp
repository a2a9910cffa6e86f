// cadre-master: the cluster's controller. See docs/operations.md.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/resources.hpp"
#include "master/service.hpp"
#include "master/store/sqlite_store.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-master [--listen ENDPOINT] [--state-dir DIR] [--node-timeout SECONDS]
                    [--log-level LEVEL]

The cadre controller: tracks nodes, keeps every job in SQLite, and places gangs.

  --listen ENDPOINT       ZeroMQ endpoint agents and clients connect to
                          (default tcp://*:7700)
  --state-dir DIR         folder for the database cadre.db (default /var/lib/cadre;
                          created if missing)
  --node-timeout SECONDS  a node silent this long is DOWN and its jobs NODE_FAIL
                          (default 30)
  --log-level LEVEL       debug, info, warning or error (default info)
  --help                  this text

example:
  cadre-master --listen tcp://*:7700 --state-dir /var/lib/cadre --node-timeout 30
)";

int fail(const std::string& message) {
  std::cerr << "cadre-master: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  cadre::log::set_program("cadre-master");
  cadre::Flags flags;
  flags.value("--listen").value("--state-dir").value("--node-timeout").value("--log-level").toggle("--help", {"-h"});
  if (cadre::Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc)); !s) return fail(s.error());
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }

  cadre::MasterOptions options;
  options.listen = flags.get_or("--listen", options.listen);
  options.state_dir = flags.get_or("--state-dir", "/var/lib/cadre");
  if (auto t = flags.get("--node-timeout")) {
    auto seconds = cadre::parse_count(*t, 86400);
    if (!seconds || *seconds == 0) return fail("--node-timeout: expected whole seconds from 1 to 86400, got '" + *t + "'");
    options.node_timeout_ms = *seconds * 1000;
  }
  if (auto l = flags.get("--log-level")) {
    cadre::log::Level level;
    if (!cadre::log::parse_level(*l, &level)) return fail("--log-level: expected debug, info, warning or error");
    cadre::log::set_level(level);
  }

  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) return fail("cannot create state folder " + options.state_dir + ": " + ec.message());
  auto store = cadre::SqliteStore::open(options.state_dir + "/cadre.db");
  if (!store) return fail(store.error());

  try {
    cadre::MasterService service(options, std::move(*store));
    service.start();
    return service.run();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
