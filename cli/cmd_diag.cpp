// cadre diag: the master's own figures (as Slurm's sdiag): scheduling passes
// and what they cost, messages, heartbeats, commits, memory and CPU.
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "common/flags.hpp"

namespace cadre::cli {
namespace {

nlohmann::json stats_json(StatsReply::Reader s) {
  const uint64_t passes = s.getPasses();
  return {
      {"uptime_s", s.getUptimeSec()},
      {"scheduler",
       {{"passes", passes},
        {"last_pass_us", s.getLastPassUs()},
        {"max_pass_us", s.getMaxPassUs()},
        {"mean_pass_us", passes ? s.getTotalPassUs() / static_cast<int64_t>(passes) : 0},
        {"total_pass_us", s.getTotalPassUs()},
        {"last_snapshot_us", s.getLastSnapshotUs()},
        {"last_decide_us", s.getLastDecideUs()},
        {"last_apply_us", s.getLastApplyUs()},
        {"last_pass_cpu_us", s.getLastPassCpuUs()}}},
      {"jobs", {{"pending", s.getJobsPending()}, {"running", s.getJobsRunning()}}},
      {"nodes", {{"registered", s.getNodesRegistered()}, {"up", s.getNodesUp()}}},
      {"messages",
       {{"handled", s.getMessagesHandled()},
        {"malformed", s.getMalformedMessages()},
        {"heartbeats", s.getHeartbeats()},
        {"over_limit", s.getOverLimitRequests()},
        {"refused", s.getRefusedMessages()}}},
      {"store", {{"commits", s.getCommits()}, {"last_commit_us", s.getLastCommitUs()}}},
      {"process",
       {{"rss_bytes", s.getRssBytes()}, {"cpu_user_us", s.getCpuUserUs()}, {"cpu_system_us", s.getCpuSystemUs()}}},
  };
}

std::string ms(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(us) / 1000.0);
  return buf;
}

void print_stats(StatsReply::Reader s) {
  const uint64_t passes = s.getPasses();
  std::cout << "Master uptime:          " << s.getUptimeSec() << " s\n"
            << "Scheduling passes:      " << passes << "\n"
            << "  last pass:            " << ms(s.getLastPassUs()) << " (snapshot " << ms(s.getLastSnapshotUs())
            << ", decide " << ms(s.getLastDecideUs()) << ", apply " << ms(s.getLastApplyUs()) << "; CPU "
            << ms(s.getLastPassCpuUs()) << ")\n"
            << "  max pass:             " << ms(s.getMaxPassUs()) << "\n"
            << "  mean pass:            " << ms(passes ? s.getTotalPassUs() / static_cast<int64_t>(passes) : 0)
            << "\n"
            << "Jobs pending/running:   " << s.getJobsPending() << " / " << s.getJobsRunning() << "\n"
            << "Nodes registered/up:    " << s.getNodesRegistered() << " / " << s.getNodesUp() << "\n"
            << "Messages handled:       " << s.getMessagesHandled() << " (" << s.getMalformedMessages()
            << " malformed dropped, " << s.getHeartbeats() << " heartbeats)\n"
            << "Requests refused:       " << s.getOverLimitRequests() << " (invalid, or over a limit of docs/security.md)\n"
            << "Messages refused:       " << s.getRefusedMessages()
            << " (revoked keys, wrong routing ids, peers outside their role)\n"
            << "Store commits:          " << s.getCommits() << " (last took " << ms(s.getLastCommitUs()) << ")\n"
            << "Master RSS:             " << s.getRssBytes() / (1024 * 1024) << " MiB\n"
            << "Master CPU user/system: " << ms(s.getCpuUserUs()) << " / " << ms(s.getCpuSystemUs()) << "\n";
}

}  // namespace

int cmd_diag(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--json");
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initGetStats(); });
  if (!reply) return fail(reply.error());
  auto env = (*reply)->envelope();
  if (!env.isStatsReply()) return fail("the master answered getStats with another message kind (an older master?)");
  if (f.has("--json")) {
    std::cout << stats_json(env.getStatsReply()).dump(2) << std::endl;
  } else {
    print_stats(env.getStatsReply());
  }
  return 0;
}

}  // namespace cadre::cli
