// Writes the seed corpora in tests/fuzz/corpus/ (run once, commit the
// output; run again when the protocol grows a message):
//   fuzz_make_corpus tests/fuzz/corpus
// One encoded Envelope per kind in the union, with every field set, for
// fuzz_decode; typical strings for fuzz_parse; typical command lines for
// fuzz_submit_args; typical addresses and lists for fuzz_endpoint.
#include <capnp/message.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/codec.hpp"
#include "common/main_guard.hpp"

namespace {

namespace fs = std::filesystem;
using Fill = std::function<void(::Envelope::Builder)>;

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void set_texts(capnp::List<capnp::Text>::Builder list, std::vector<const char*> texts) {
  for (unsigned i = 0; i < texts.size(); ++i) list.set(i, texts[i]);
}

void set_resources(::Resources::Builder r, int64_t millicores, int64_t memory_mb, int32_t gpus) {
  r.setMillicores(millicores);
  r.setMemoryMb(memory_mb);
  r.setGpus(gpus);
}

void fill_request(::JobRequest::Builder req) {
  req.setName("train");
  set_texts(req.initArgv(3), {"python", "train.py", "--epochs=3"});
  req.setWorkdir("/home/ada");
  req.setOutputPattern("out-%j-%t.log");
  set_resources(req.initPerTask(), 4000, 16384, 2);
  req.setNodes(2);
  req.setTasksPerNode(4);
  req.setNtasks(8);
  req.setTimeLimitSec(3600);
  req.setPriority(-7);
  req.setUser("ada");
  req.setUid(1000);
  req.setGid(1001);
  req.setNoRequeue(true);
  req.setPartition("gpu");
  req.setAccount("physics");
  req.setMaxSwitches(1);
  req.setSwitchesWaitSec(600);
  req.setTimeLimitGiven(true);
  req.setGpuType("H100");
  req.setErrorPattern("err-%j.log");
  req.setUmask(022);
}

void fill_labels(capnp::List<::Label>::Builder labels) {
  labels[0].setKey("rack");
  labels[0].setValue("a1");
}

const std::vector<std::pair<const char*, Fill>> kEnvelopes = {
    {"register", [](auto env) {
       auto r = env.initRegister();
       r.setName("node1");
       r.setAddress("10.0.0.1");
       set_resources(r.initTotal(), 64000, 262144, 8);
       fill_labels(r.initLabels(1));
       auto t = r.initRunning(1)[0];
       t.setJobId(7);
       t.setRank(3);
       t.setAttempt(1);
       t.setExited(true);
       t.setLaunchFailed(false);
       t.setExitCode(1);
       t.setSignal(9);
       t.setMessage("killed");
     }},
    {"register_reply", [](auto env) { env.initRegisterReply().setHeartbeatIntervalMs(1000); }},
    {"heartbeat", [](auto env) { env.initHeartbeat().setName("node1"); }},
    {"please_register", [](auto env) { env.initPleaseRegister(); }},
    {"launch", [](auto env) {
       auto l = env.initLaunch();
       l.setJobId(7);
       l.setAttempt(1);
       l.setRank(5);
       l.setWorldSize(8);
       l.setLocalRank(1);
       l.setLocalWorldSize(4);
       l.setNodeRank(1);
       set_texts(l.initNodelist(2), {"node1", "node2"});
       auto tpn = l.initTasksPerNode(2);
       tpn.set(0, 4);
       tpn.set(1, 4);
       auto gpus = l.initGpus(2);
       gpus.set(0, 2);
       gpus.set(1, 3);
       set_texts(l.initArgv(2), {"hostname", "-f"});
       l.setWorkdir("/home/ada");
       l.setOutputPattern("cadre-%j-%t.out");
       l.setMasterAddr("node1");
       l.setMasterPort(29500);
       l.setUser("ada");
       l.setUid(1000);
       l.setGid(1001);
       l.setJobName("train");
     }},
    {"kill", [](auto env) {
       auto k = env.initKill();
       k.setJobId(7);
       k.setAttempt(1);
       k.setRank(2);
     }},
    {"task_status", [](auto env) {
       auto s = env.initTaskStatus();
       s.setNode("node1");
       s.setJobId(7);
       s.setRank(2);
       s.setAttempt(1);
       s.setEvent(::TaskEvent::LAUNCH_FAILED);
       s.setExitCode(127);
       s.setSignal(0);
       s.setMessage("exec failed");
     }},
    {"submit", [](auto env) { fill_request(env.initSubmit().initRequest()); }},
    {"submit_reply", [](auto env) { env.initSubmitReply().setId(7); }},
    {"list_jobs", [](auto env) { env.initListJobs().setAll(true); }},
    {"show_job", [](auto env) { env.initShowJob().setId(7); }},
    {"jobs_reply", [](auto env) {
       auto j = env.initJobsReply().initJobs(1)[0];
       j.setId(7);
       fill_request(j.initRequest());
       j.setState("RUNNING");
       j.setReason("None");
       j.setExitCode(0);
       j.setAttempt(1);
       j.setSubmitTime(1700000000);
       j.setStartTime(1700000005);
       j.setEndTime(0);
       set_texts(j.initNodes(2), {"node1", "node2"});
       auto t = j.initTasks(1)[0];
       t.setRank(0);
       t.setNode("node1");
       t.initGpus(1).set(0, 0);
       t.setState("RUNNING");
       t.setExitCode(0);
     }},
    {"cancel", [](auto env) {
       auto c = env.initCancel();
       auto ids = c.initIds(2);
       ids.set(0, 7);
       ids.set(1, 8);
       c.setUser("ada");
     }},
    {"cancel_reply", [](auto env) {
       auto r = env.initCancelReply().initResults(1)[0];
       r.setId(7);
       r.setOk(false);
       r.setMessage("job 7 has already ended");
     }},
    {"list_nodes", [](auto env) { env.initListNodes(); }},
    {"nodes_reply", [](auto env) {
       auto n = env.initNodesReply().initNodes(1)[0];
       n.setName("node1");
       n.setAddress("10.0.0.1");
       n.setState("IDLE");
       set_resources(n.initTotal(), 64000, 262144, 8);
       set_resources(n.initFree(), 32000, 131072, 4);
       fill_labels(n.initLabels(1));
       n.setLastSeen(1700000000);
     }},
    {"error", [](auto env) { env.initError().setMessage("unknown job 9"); }},
    {"task_ack", [](auto env) {
       auto a = env.initTaskAck();
       a.setJobId(7);
       a.setRank(2);
       a.setAttempt(1);
     }},
};

const std::vector<const char*> kParseSeeds = {"512M", "32G", "1T", "4096", "1024K", "2GiB", "30", "1:30:00",
                                              "2-03:04:05", "1-02", "UNLIMITED", "0"};

const std::vector<const char*> kEndpointSeeds = {
    "tcp://127.0.0.1:7700", "tcp://localhost:1", "tcp://node-1.example.org:65535", "tcp://[::1]:7700",
    "tcp://[fe80::1]:7700", "tcp://*:0", "tcp://*:7700", "ipc:///run/cadre/cadre.sock", "ipc://@abstract",
    "tcp://a:1,tcp://b:2", "tcp://m1:7700,ipc:///run/m2.sock,tcp://[::1]:7701", "tcp://node1.:80",
    "tcp://h:5;x", "tcp://[::1", "inproc://x", "tcp://127.0.0.1:99999"};

const std::vector<std::vector<std::string>> kSubmitSeeds = {
    {"--", "hostname"},
    {"--nodes", "2", "--tasks-per-node", "4", "--gpus-per-node=8", "--", "python", "train.py"},
    {"-n", "8", "-c", "2", "--mem-per-task", "4G", "-t", "1:00:00", "-J", "train", "--", "train.sh"},
    {"--priority=-5", "--output", "log-%j-%t", "-D", "run", "--parsable", "-W", "--no-requeue", "--gpus-per-task", "1",
     "--", "a"},
};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? std::string(1, '\0') : "") + words[i];
  return out;
}

}  // namespace

static int run_main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* dir : {"fuzz_decode", "fuzz_parse", "fuzz_submit_args", "fuzz_endpoint"})
    fs::create_directories(root / dir);

  uint64_t request_id = 1;
  for (const auto& [name, fill] : kEnvelopes) {
    capnp::MallocMessageBuilder message;
    fill(cadre::start_envelope(message, request_id++));
    write_file(root / "fuzz_decode" / (std::string(name) + ".bin"), cadre::encode(message));
  }
  for (size_t i = 0; i < kParseSeeds.size(); ++i)
    write_file(root / "fuzz_parse" / ("seed" + std::to_string(i)), kParseSeeds[i]);
  for (size_t i = 0; i < kSubmitSeeds.size(); ++i)
    write_file(root / "fuzz_submit_args" / ("seed" + std::to_string(i)), joined(kSubmitSeeds[i]));
  for (size_t i = 0; i < kEndpointSeeds.size(); ++i)
    write_file(root / "fuzz_endpoint" / ("seed" + std::to_string(i)), kEndpointSeeds[i]);
  return 0;
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("fuzz_make_corpus", [&] { return run_main(argc, argv); });
}
