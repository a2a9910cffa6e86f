// Specification of cli/batch_script and of `cadre submit SCRIPT`: batch
// scripts with #CADRE and #SBATCH directives, read as sbatch reads them.
#include "cli/batch_script.hpp"
#include "common/job_mail.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "cli/submit_options.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

const std::string kSlurmDir = std::string(CADRE_SOURCE_DIR) + "/tests/unit/testdata/slurm";

SubmitOptions submit_ok(Args args, const std::string& cwd = kSlurmDir) {
  auto r = parse_submit(args, cwd);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : SubmitOptions{};
}

std::string submit_error(Args args, const std::string& cwd = kSlurmDir) {
  auto r = parse_submit(args, cwd);
  EXPECT_FALSE(r) << "accepted";
  return r ? "" : r.error();
}

Args args_of(std::string_view script) {
  auto r = directive_args(script, "job.sh");
  EXPECT_TRUE(r) << r.error();
  return r ? *r : Args{};
}

std::string directive_error(std::string_view script) {
  auto r = directive_args(script, "job.sh");
  EXPECT_FALSE(r) << "accepted";
  return r ? "" : r.error();
}

// A scratch directory for scripts a test writes, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() : path_(fs::temp_directory_path() / ("cadre-batch-" + std::to_string(getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Parses a script given as text, with `flags` before it on the command line.
Result<SubmitOptions> parse_script_text(const std::string& text, Args flags = {}) {
  static ScratchDir dir;
  flags.push_back(dir.write("job.sh", text));
  return parse_submit(flags, dir.str());
}

SubmitOptions parse_text(const std::string& text, Args flags = {}) {
  auto r = parse_script_text(text, std::move(flags));
  EXPECT_TRUE(r) << r.error();
  return r ? *r : SubmitOptions{};
}

constexpr const char* kSupported =
    "(supported: -N/--nodes, -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task, --mem, --mem-per-cpu, "
    "--gres=gpu[:TYPE]:N, -G/--gpus, --gpus-per-node, --gpus-per-task, --cpus-per-gpu, --mem-per-gpu, "
    "--ntasks-per-gpu, -t/--time, -J/--job-name, -o/--output, -e/--error, -p/--partition, -A/--account, -q/--qos, --reservation, -D/--chdir, --export, --export-file, --requeue, --no-requeue, "
    "-H/--hold, -a/--array, -d/--dependency, --kill-on-invalid-dep, -w/--nodelist, -x/--exclude, --exclusive, --signal, -b/--begin, --deadline, -C/--constraint, --open-mode, --mail-type, --mail-user, --switches; recorded as hints: --hint, --gpu-bind, "
    "--cpu-bind, -m/--distribution, --comment, --acctg-freq, --profile, --cpu-freq, --spread-job, --wckey, --mem-bind, "
    "--gpu-freq, --tres-bind, --threads-per-core, --ntasks-per-core, --ntasks-per-socket, --cores-per-socket, "
    "--sockets-per-node, -B/--extra-node-info, --prefer, --gres-flags, --wait-all-nodes, -Q/--quiet, -v/--verbose, "
    "--get-user-env, --propagate, --use-min-nodes, --contiguous)";

// --- Sample Slurm scripts, submitted as users would ---

TEST(BatchScript, ATypicalMpiScriptGetsTheShapeSlurmWouldAllocate) {
  SubmitOptions o = submit_ok({"mpi.sh"});
  EXPECT_TRUE(o.batch);
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 8u);
  EXPECT_EQ(o.per_task, (Resources{2000, 4096, 0})) << "--mem 16G is per node: 4 tasks share it";
  EXPECT_EQ(o.time_limit_s, 7200);
  EXPECT_TRUE(o.time_limit_given);
  EXPECT_EQ(o.name, "mpi-hello");
  EXPECT_EQ(o.output_pattern, "mpi-%j.out");
  EXPECT_EQ(o.error_pattern, "mpi-%j.err");
  EXPECT_EQ(o.partition, "compute");
  EXPECT_EQ(o.account, "physics");
  EXPECT_EQ(o.gpu_type, "");
  EXPECT_EQ(o.workdir, kSlurmDir);
  EXPECT_EQ(o.argv, (Args{kSlurmDir + "/mpi.sh"}));
  EXPECT_TRUE(o.script.starts_with("#!/bin/bash\n#SBATCH --job-name=mpi-hello\n"));
  EXPECT_TRUE(o.script.ends_with("srun ./hello_mpi \"$@\"\n"));
}

TEST(BatchScript, AGpuTrainingScriptGetsItsGpusMemoryAndModel) {
  SubmitOptions o = submit_ok({"gpu_train.sh", "20"});
  EXPECT_EQ(o.nodes, 0u);
  EXPECT_EQ(o.ntasks, 1u);
  EXPECT_EQ(o.per_task, (Resources{8000, 65536, 2})) << "-c8, --mem 64G, --gres=gpu:2 for the one task";
  EXPECT_EQ(o.gpu_type, "H100") << "from #CADRE --gpu-type";
  EXPECT_EQ(o.time_limit_s, 36 * 3600);
  EXPECT_EQ(o.name, "train-resnet");
  EXPECT_EQ(o.output_pattern, "logs/%x-%j.out") << "Slurm's patterns pass through; the comment is dropped";
  EXPECT_EQ(o.error_pattern, "");
  EXPECT_EQ(o.workdir, "/scratch/ada/run 1") << "quoted directive value";
  EXPECT_EQ(o.argv, (Args{kSlurmDir + "/gpu_train.sh", "20"}));
}

TEST(BatchScript, AMultiNodeGpuScriptSplitsGresOverTheTasksOfANode) {
  SubmitOptions o = submit_ok({"ddp.sh"});
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 8u);
  EXPECT_EQ(o.per_task, (Resources{4000, 4 * 6144, 1})) << "gpu:a100:4 per node over 4 tasks; 6G x 4 cpus";
  EXPECT_EQ(o.gpu_type, "a100");
  EXPECT_EQ(o.time_limit_s, 8 * 3600);
  EXPECT_EQ(o.name, "ddp.sh") << "no -J: the script's file name";
  EXPECT_EQ(o.output_pattern, "cadre-%j.out") << "a batch script runs once: one output file";
}

TEST(BatchScript, AnUnsupportedDirectiveIsRefusedNamingItAndItsLine) {
  EXPECT_EQ(submit_error({"unsupported.sh"}),
            std::string("unsupported.sh line 5: #SBATCH --thread-spec is not supported by cadre ") + kSupported);
}

TEST(BatchScript, JobArraysAreReadAsSbatchMeansThem) {
  SubmitOptions o = submit_ok({"array.sh"});
  EXPECT_EQ(o.array, "1-10%2");
  EXPECT_EQ(o.output_pattern, "sweep-%A_%a.out");
  // Without --output each task gets its own file, as sbatch's slurm-%A_%a.out.
  SubmitOptions plain = submit_ok({"-a", "0-3", "--", "true"});
  EXPECT_EQ(plain.array, "0-3");
  EXPECT_EQ(plain.output_pattern, "cadre-%A_%a.out");
  EXPECT_EQ(to_job_spec(plain).array, "0-3");
  // A bad index set is named with what is wrong and the grammar.
  const std::string bad = submit_error({"--array=9-3", "--", "true"});
  EXPECT_EQ(bad.rfind("--array=9-3: '9-3': the range ends before it starts", 0), 0u) << bad;
  EXPECT_NE(submit_error({"--array=1-3", "--wait", "--", "true"}).find("--wait with --array"), std::string::npos);
}

// --- The command line and the script ---

TEST(BatchScript, WordsAfterTheScriptAreItsArgumentsNotFlags) {
  SubmitOptions o = submit_ok({"-N", "1", "mpi.sh", "--nodes", "3", "-N", "--", "x"});
  EXPECT_EQ(o.argv, (Args{kSlurmDir + "/mpi.sh", "--nodes", "3", "-N", "--", "x"}));
  EXPECT_EQ(o.nodes, 1u) << "the command line's -N overrides the script's --nodes=2";
}

TEST(BatchScript, CommandLineFlagsOverrideDirectives) {
  SubmitOptions o = submit_ok({"-J", "mine", "--time=30", "-o", "out.txt", "--ntasks-per-node", "2", "mpi.sh"});
  EXPECT_EQ(o.name, "mine");
  EXPECT_EQ(o.time_limit_s, 1800);
  EXPECT_EQ(o.output_pattern, "out.txt");
  EXPECT_EQ(o.error_pattern, "mpi-%j.err");
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 2u);
  EXPECT_EQ(o.per_task.memory_mb, 8192) << "the script's --mem 16G now over 2 tasks per node";
}

TEST(BatchScript, AMemoryOrGpuFlagOnTheCommandLineReplacesTheScriptsAlternative) {
  SubmitOptions o = submit_ok({"--mem-per-cpu", "1G", "mpi.sh"});
  EXPECT_EQ(o.per_task.memory_mb, 2048) << "replaces the script's --mem, does not contradict it";
  SubmitOptions g = submit_ok({"--gpus-per-task", "2", "ddp.sh"});
  EXPECT_EQ(g.per_task.gpus, 2);
  EXPECT_EQ(g.gpu_type, "") << "the script's gres type went with its gres";
  SubmitOptions t = submit_ok({"--gres", "gpu:h100:8", "ddp.sh"});
  EXPECT_EQ(t.per_task.gpus, 2);
  EXPECT_EQ(t.gpu_type, "h100");
  SubmitOptions total = submit_ok({"-G", "16", "--mem-per-gpu", "10G", "ddp.sh"});
  EXPECT_EQ(total.per_task.gpus, 2) << "-G replaces the script's --gres: 16 over 2 nodes of 4 tasks";
  EXPECT_EQ(total.per_task.memory_mb, 2 * 10 * 1024) << "--mem-per-gpu replaces the script's --mem-per-cpu";
}

TEST(BatchScript, ARelativeScriptIsFoundFromTheCurrentDirectory) {
  SubmitOptions o = submit_ok({"slurm/mpi.sh", "a b"}, kSlurmDir + "/..");
  EXPECT_EQ(o.argv, (Args{kSlurmDir + "/mpi.sh", "a b"}));
  EXPECT_EQ(o.workdir, std::string(CADRE_SOURCE_DIR) + "/tests/unit/testdata");
  SubmitOptions abs = submit_ok({kSlurmDir + "/mpi.sh"}, "/tmp");
  EXPECT_EQ(abs.workdir, "/tmp");
  EXPECT_EQ(abs.name, "mpi-hello");
}

TEST(BatchScript, DoubleDashStillRunsACommandNotAScript) {
  SubmitOptions o = submit_ok({"-N", "2", "--", "mpi.sh"});
  EXPECT_FALSE(o.batch);
  EXPECT_EQ(o.script, "");
  EXPECT_EQ(o.argv, (Args{"mpi.sh"}));
  EXPECT_EQ(o.nodes, 2u) << "no directives read";
  EXPECT_EQ(o.output_pattern, "cadre-%j.out");
}

TEST(BatchScript, ABadDirectiveValueNamesItsLine) {
  ScratchDir dir;
  dir.write("bad.sh", "#!/bin/bash\n#SBATCH -N 2\n#SBATCH --time=soon\nhostname\n");
  std::string e = submit_error({"bad.sh"}, dir.str());
  EXPECT_TRUE(e.starts_with("bad.sh line 3: --time: invalid time 'soon'")) << e;
  dir.write("range.sh", "#!/bin/bash\n#SBATCH -N 2-4\n");
  EXPECT_EQ(submit_error({"range.sh"}, dir.str()),
            "range.sh line 2: --nodes: cadre runs a job on an exact number of nodes, not a range ('2-4'); "
            "give one count, e.g. --nodes 2");
}

TEST(BatchScript, ScriptsThatAreNotScriptsAreRefused) {
  ScratchDir dir;
  dir.write("empty.sh", "");
  dir.write("noshebang.sh", "#SBATCH -N 2\nhostname\n");
  dir.write("binary", std::string("#!/x\0\1\2", 7));
  dir.write("dos.sh", "#!/bin/bash\r\nhostname\r\n");
  dir.write("huge.sh", "#!/bin/bash\n" + std::string(limits::kMaxScriptBytes, '#'));
  fs::create_directory(dir.str() + "/folder");
  const std::string d = dir.str();
  EXPECT_EQ(submit_error({"empty.sh"}, d), d + "/empty.sh is empty");
  EXPECT_EQ(submit_error({"noshebang.sh"}, d),
            d + "/noshebang.sh: batch scripts must start with #! (e.g. #!/bin/bash)");
  EXPECT_EQ(submit_error({"binary"}, d),
            "batch script " + d + "/binary contains a NUL byte at offset 4: it is binary, not a script");
  EXPECT_TRUE(submit_error({"dos.sh"}, d).starts_with(d + "/dos.sh has DOS line breaks"));
  EXPECT_EQ(submit_error({"huge.sh"}, d), "batch script " + d + "/huge.sh is " +
                                              std::to_string(limits::kMaxScriptBytes + 12) +
                                              " bytes, over the limit of " + std::to_string(limits::kMaxScriptBytes) +
                                              " bytes");
  EXPECT_EQ(submit_error({"folder"}, d), "batch script " + d +
                                             "/folder is not a regular file (a FIFO, device or directory cannot "
                                             "be submitted)");
  EXPECT_EQ(submit_error({"-N", "2", "missing.sh"}, d),
            "no batch script 'missing.sh' (" + d +
                "/missing.sh does not exist); to run a command instead, put it after '--', e.g. cadre submit -- "
                "missing.sh");
}

TEST(BatchScript, AnUnreadableScriptIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  ScratchDir dir;
  std::string path = dir.write("secret.sh", "#!/bin/bash\n");
  fs::permissions(path, fs::perms::none);
  EXPECT_EQ(submit_error({"secret.sh"}, dir.str()), "cannot open batch script " + path + ": Permission denied");
}

TEST(BatchScript, AFifoIsRefusedAtOnceInsteadOfHangingSubmit) {
  ScratchDir dir;
  const std::string path = dir.str() + "/pipe.sh";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // No writer ever opens the FIFO: a blocking open would never return.
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(submit_error({"pipe.sh"}, dir.str()),
            "batch script " + path + " is not a regular file (a FIFO, device or directory cannot be submitted)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(BatchScript, ADeviceIsRefusedNotReadForever) {
  auto r = load_batch_script("/dev/zero");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "batch script /dev/zero is not a regular file (a FIFO, device or directory cannot be submitted)");
}

TEST(BatchScript, AScriptOfExactlyTheLimitIsAccepted) {
  ScratchDir dir;
  std::string head = "#!/bin/bash\n";
  std::string path = dir.write("full.sh", head + std::string(limits::kMaxScriptBytes - head.size(), '#'));
  auto r = load_batch_script(path);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->size(), limits::kMaxScriptBytes);
}

// --- Directive rules ---

TEST(BatchScript, DirectivesAreReadOnlyUntilTheFirstCommand) {
  EXPECT_EQ(args_of("#!/bin/bash\n\n# setup\n#SBATCH -N 2\n   \n#SBATCH -n 4\necho hi\n#SBATCH -t 5\n"),
            (Args{"--nodes", "2", "--ntasks", "4"}));
  EXPECT_EQ(args_of("#!/bin/bash\nset -e\n#SBATCH -N 2\n"), Args{});
}

TEST(BatchScript, OnlyExactDirectiveTagsCount) {
  EXPECT_EQ(args_of("#!/bin/bash\n##SBATCH -N 9\n #SBATCH -N 9\n#SBATCH--nodes=9\n#sbatch -N 9\n#SBATCH\n"
                    "#SBATCH\t-N 3\n"),
            (Args{"--nodes", "3"}));
}

TEST(BatchScript, SbatchOptionsTakeEverySpelling) {
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -N 2 -N2 --nodes 2 --nodes=2\n"),
            (Args{"--nodes", "2", "--nodes", "2", "--nodes", "2", "--nodes", "2"}));
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -J a -n1 -c 2 -t 5 -o o -e e -p gpu -A acct -D /x\n"),
            (Args{"--name", "a", "--ntasks", "1", "--cpus-per-task", "2", "--time", "5", "--output", "o", "--error",
                  "e", "--partition", "gpu", "--account", "acct", "--chdir", "/x"}));
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH --ntasks-per-node=4 --mem-per-cpu=2G --gpus-per-node=a100:2 "
                    "--gpus-per-task 1 --job-name=j --mem 4G --gres=gpu:1\n"),
            (Args{"--tasks-per-node", "4", "--mem-per-cpu", "2G", "--gpus-per-node", "a100:2", "--gpus-per-task", "1",
                  "--name", "j", "--mem", "4G", "--gres", "gpu:1"}));
}

TEST(BatchScript, DirectivesAreSplitLikeAShellLine) {
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -J 'my job' --output=\"out dir/%j.log\" # a comment\n"),
            (Args{"--name", "my job", "--output", "out dir/%j.log"}));
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -J a\\ b -o x#y -e \"q\\\"uote\"\n"),
            (Args{"--name", "a b", "--output", "x#y", "--error", "q\"uote"}));
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -J ''\n#SBATCH   # only a comment\n"), (Args{"--name", ""}));
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH -J 'oops\n"), "job.sh line 2: #SBATCH: unterminated ' quote");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE -J \"oops\n"), "job.sh line 2: #CADRE: unterminated \" quote");
}

TEST(BatchScript, SbatchDirectivesRefuseWhatCadreCannotHonour) {
  // Known sbatch options cadre lacks: refused with what to do instead.
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH -q high\n"), (Args{"--qos", "high"}));
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH --priority=5\n"),
            "job.sh line 2: #SBATCH --priority: not an sbatch option cadre maps: use #CADRE --priority N (admins may "
            "raise it above 0)");
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH --deadline=now+1hour\n"), (Args{"--deadline", "now+1hour"}));
  EXPECT_EQ(args_of("#!/bin/sh\n#SBATCH --reservation=maint\n"), (Args{"--reservation", "maint"}));
  for (const char* option : {"--wait", "--licenses=x"}) {
    const std::string e = directive_error(std::string("#!/bin/sh\n#SBATCH ") + option + "\n");
    EXPECT_EQ(e.find("is not supported by cadre"), std::string::npos) << option << ": a specific way out, not the list";
    EXPECT_TRUE(e.starts_with("job.sh line 2: #SBATCH -")) << e;
  }
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH --thread-spec=1\n"),
            std::string("job.sh line 2: #SBATCH --thread-spec is not supported by cadre ") + kSupported)
      << "an option cadre knows nothing about lists what it supports";
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH --nodes\n"), "job.sh line 2: #SBATCH --nodes needs a value");
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH hostname\n"),
            "job.sh line 2: #SBATCH: unexpected 'hostname' (directives take options only)");
}

TEST(BatchScript, PlacementOptionsAreRead) {
  SubmitOptions o = parse_text("#!/bin/sh\n#SBATCH -w node[1-2] --exclude=node7 --exclusive\n");
  EXPECT_EQ(o.nodelist, "node[1-2]");
  EXPECT_EQ(o.exclude, "node7");
  EXPECT_TRUE(o.exclusive);
  const JobSpec spec = to_job_spec(o);
  EXPECT_EQ(spec.nodelist, "node[1-2]");
  EXPECT_TRUE(spec.exclusive);
  EXPECT_NE(submit_error({"--exclusive=user", "--", "true"}).find("give --exclusive alone"), std::string::npos);
  EXPECT_NE(submit_error({"-w", "node[3-1]", "--", "true"}).find("-w/--nodelist"), std::string::npos);
}

TEST(BatchScript, TopologyAndChatterOptionsAreHintsToo) {
  SubmitOptions o = parse_text("#!/bin/sh\n#SBATCH --get-user-env=L -Q --threads-per-core=1 --wckey=proj7\n"
                               "#SBATCH --propagate=STACK --gres-flags=enforce-binding\n");
  EXPECT_EQ(o.hints, (Args{"--wckey=proj7", "--threads-per-core=1", "--gres-flags=enforce-binding", "--quiet",
                           "--get-user-env", "--propagate"}));
}

TEST(BatchScript, AdvisorySbatchOptionsAreRecordedAsHints) {
  SubmitOptions o = submit_ok({"gpu_train.sh"});
  EXPECT_TRUE(o.hints.empty()) << "a directive after the first command is ignored, as sbatch ignores it";
  o = parse_text("#!/bin/sh\n#SBATCH --hint=nomultithread --mail-type=END,FAIL --mail-user ada@x.org\n"
                 "#SBATCH -m block:cyclic --comment \"run 7\" --spread-job --open-mode=append\n");
  EXPECT_EQ(o.hints, (Args{"--hint=nomultithread", "--distribution=block:cyclic", "--comment=run 7", "--spread-job"}));
  EXPECT_EQ(o.mail_type, kMailEnd | kMailFail) << "mail is acted on, not a hint";
  EXPECT_EQ(o.mail_user, "ada@x.org");
  EXPECT_FALSE(o.open_truncate) << "--open-mode=append is cadre's way anyway";
  const JobSpec spec = to_job_spec(o);
  EXPECT_EQ(spec.hints, o.hints) << "hints travel with the job";
  EXPECT_TRUE(parse_text("#!/bin/sh\n#SBATCH --open-mode=truncate\n").open_truncate);
  auto bad = parse_script_text("#!/bin/sh\n#SBATCH --open-mode=overwrite\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--open-mode: expected append or truncate"), std::string::npos) << bad.error();
  EXPECT_EQ(directive_error("#!/bin/sh\n#SBATCH --spread-job=1\n"), "job.sh line 2: #SBATCH --spread-job takes no value");
}

TEST(BatchScript, RequeueDirectivesAndTheCommandLineOverrideEachOther) {
  EXPECT_FALSE(parse_text("#!/bin/sh\n#SBATCH --no-requeue\n").requeue);
  EXPECT_TRUE(parse_text("#!/bin/sh\n#SBATCH --requeue\n").requeue);
  EXPECT_TRUE(parse_text("#!/bin/sh\n#SBATCH --no-requeue\n", {"--requeue"}).requeue) << "the command line wins";
  EXPECT_FALSE(parse_text("#!/bin/sh\n#SBATCH --requeue\n", {"--no-requeue"}).requeue);
}

TEST(BatchScript, WrapMakesTheCommandLineABatchScript) {
  auto o = parse_submit({"--wrap", "python train.py --lr 0.1 && echo done", "-N", "2"}, "/home/ada");
  ASSERT_TRUE(o) << o.error();
  EXPECT_TRUE(o->batch);
  EXPECT_EQ(o->script, "#!/bin/sh\n# This script was written by cadre submit --wrap.\npython train.py --lr 0.1 && echo done\n");
  EXPECT_EQ(o->name, "wrap") << "sbatch names such jobs wrap";
  EXPECT_EQ(o->output_pattern, "cadre-%j.out");
  EXPECT_EQ(o->nodes, 2u);
  auto both = parse_submit({"--wrap", "hostname", "--", "true"}, "/home/ada");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().find("--wrap takes the whole command"), std::string::npos);
  EXPECT_FALSE(parse_submit({"--wrap", " "}, "/home/ada"));
}

TEST(BatchScript, CadreDirectivesTakeCadreSubmitFlags) {
  EXPECT_EQ(args_of("#!/bin/sh\n#CADRE --priority 5 --switches=1@5:00 --no-requeue -J x --gpu-type H100\n"),
            (Args{"--priority", "5", "--switches=1@5:00", "--no-requeue", "-J", "x", "--gpu-type", "H100"}));
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE --quality high\n"),
            "job.sh line 2: #CADRE: unknown option '--quality' (see cadre submit --help)");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE --wait\n"),
            "job.sh line 2: #CADRE --wait belongs on the command line, not in the script");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE --parsable\n"),
            "job.sh line 2: #CADRE --parsable belongs on the command line, not in the script");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE --no-requeue=1\n"), "job.sh line 2: #CADRE --no-requeue takes no value");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE -N\n"), "job.sh line 2: #CADRE -N needs a value");
  EXPECT_EQ(directive_error("#!/bin/sh\n#CADRE -- hostname\n"),
            "job.sh line 2: #CADRE: unexpected '--' (directives take options only)");
}

TEST(BatchScript, ReadDirectivesKeepsLineNumbers) {
  auto lines = read_directives("#!/bin/sh\n#SBATCH -N 2\n\n#CADRE --priority 3\n#SBATCH\n", "job.sh");
  ASSERT_TRUE(lines) << lines.error();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].line, 2);
  EXPECT_EQ((*lines)[1].line, 4);
  EXPECT_EQ((*lines)[1].args, (Args{"--priority", "3"}));
}

TEST(BatchScript, CheckBatchScriptWantsAnInterpreterLine) {
  EXPECT_TRUE(check_batch_script("#!/usr/bin/env python3\nprint(1)\n", "a.py"));
  EXPECT_EQ(check_batch_script("echo hi\n", "a.sh").error(), "a.sh: batch scripts must start with #! (e.g. #!/bin/bash)");
  EXPECT_EQ(check_batch_script("", "a.sh").error(), "a.sh is empty");
}

}  // namespace
}  // namespace cadre::cli
