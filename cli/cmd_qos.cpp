// cadre qos: the QOS the master defines ([[qos]] in its config), what
// sacctmgr show qos lists on a Slurm site, so users can pick a --qos.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "common/flags.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

std::string joined(capnp::List<capnp::Text>::Reader names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ",") + std::string(n.cStr());
  return out;
}

std::string limit_or_dash(int64_t n) { return n > 0 ? std::to_string(n) : "-"; }

}  // namespace

int cmd_qos(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--json");
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initListPartitions(); });
  if (!reply) return fail(reply.error());
  auto list = (*reply)->envelope().getPartitionsReply().getQos();
  if (f.has("--json")) {
    nlohmann::json out = {{"qos", nlohmann::json::array()}};
    for (auto q : list) {
      nlohmann::json users = nlohmann::json::array(), accounts = nlohmann::json::array();
      for (auto u : q.getUsers()) users.push_back(u.cStr());
      for (auto a : q.getAccounts()) accounts.push_back(a.cStr());
      out["qos"].push_back({{"name", q.getName().cStr()},
                            {"default", q.getIsDefault()},
                            {"priority", q.getPriority()},
                            {"tier", q.getHasTier() ? nlohmann::json(q.getTier()) : nlohmann::json(nullptr)},
                            {"preemptible", q.getPreemptible()},
                            {"max_time_s", q.getMaxTimeSec()},
                            {"max_running_jobs_per_user", q.getMaxRunningJobsPerUser()},
                            {"max_gpus_per_user", q.getMaxGpusPerUser()},
                            {"users", users},
                            {"accounts", accounts}});
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  if (list.size() == 0) {
    std::cout << "No QOS is defined on this cluster: any --qos is recorded with the job and nothing is enforced.\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "PRIORITY", "TIER", "PREEMPTIBLE", "MAXWALL", "MAXJOBSPU", "MAXGPUSPU", "USERS", "ACCOUNTS"}};
  for (auto q : list) {
    const auto max_time = static_cast<int64_t>(q.getMaxTimeSec());
    rows.push_back({std::string(q.getName().cStr()) + (q.getIsDefault() ? "*" : ""), std::to_string(q.getPriority()),
                    q.getHasTier() ? std::to_string(q.getTier()) : "-", q.getPreemptible() ? "yes" : "no",
                    max_time > 0 ? format_duration_s(max_time) : "-", limit_or_dash(q.getMaxRunningJobsPerUser()),
                    limit_or_dash(q.getMaxGpusPerUser()), q.getUsers().size() ? joined(q.getUsers()) : "all",
                    q.getAccounts().size() ? joined(q.getAccounts()) : "-"});
  }
  std::cout << render_table(rows);
  return 0;
}

}  // namespace cadre::cli
