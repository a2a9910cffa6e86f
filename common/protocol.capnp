# cadre wire protocol: every message on every socket is one Envelope.
#
# Versioning: `version` is kProtocolVersion from common/codec.hpp. A peer that
# sees another version answers with an `error` and drops the message. New
# fields are only ever appended (Cap'n Proto keeps old readers working).
@0xc3a1f2e4b5d60718;

struct Resources {
  millicores @0 :Int64;   # 1000 = one cpu
  memoryMb   @1 :Int64;   # MiB
  gpus       @2 :Int32;
}

struct JobRequest {
  name          @0 :Text;
  argv          @1 :List(Text);
  workdir       @2 :Text;           # absolute; where ranks start and outputs go
  outputPattern @3 :Text;           # %j = job id, %t = rank
  perTask       @4 :Resources;
  nodes         @5 :UInt32;         # 0 = any number of nodes (ntasks mode)
  tasksPerNode  @6 :UInt32;         # with nodes > 0
  ntasks        @7 :UInt32;         # total ranks
  timeLimitSec  @8 :UInt64;         # 0 = no limit
  priority      @9 :Int32;
  user          @10 :Text;
  uid           @11 :UInt32;
  gid           @12 :UInt32;
  noRequeue     @13 :Bool;           # a node failure ends the job NODE_FAIL at once
  partition     @14 :Text;           # empty = the default partition
  account       @15 :Text;           # fair-share account; empty = the user's name
  maxSwitches   @16 :UInt32;         # 0 = no limit
  switchesWaitSec @17 :UInt64;       # relax maxSwitches after this long pending; 0 = never
  timeLimitGiven @18 :Bool;          # timeLimitSec was asked for (0 then means UNLIMITED, not "default")
  gpuType       @19 :Text;           # only nodes whose GPU model contains this (case-insensitive); empty = any
  batch         @20 :Bool;           # a batch job: `script` runs once, on the first node of the allocation
  script        @21 :Text;           # the batch script's contents (argv[0] is its path at submit)
  errorPattern  @22 :Text;           # stderr to its own file; empty = into the output file
  umask         @23 :Int32 = -1;     # the submitter's umask, given to the ranks (SLURM_UMASK); -1 = the agent's
  environment   @24 :List(Text);     # "NAME=value": what --export exports from the submitter's environment
  submitHost    @25 :Text;           # the host `cadre submit` ran on (SLURM_SUBMIT_HOST)
  exportMode    @26 :Text;           # --export as given ("" when not given; SLURM_EXPORT_ENV in the job)
  hints         @27 :List(Text);     # advisory options recorded, not acted on ("--hint=nomultithread")
  hold          @28 :Bool;           # --hold: queued held (JobHeldUser) until `cadre release`
  array         @29 :Text;           # --array as given ("0-99%10"); empty = not an array
  arrayJobId    @30 :UInt64;         # set by the master: the array's id (0 = not an array)
  arrayTaskId   @31 :Int64 = -1;     # set by the master: this task's index; -1 = the pending rest
  dependency    @32 :Text;           # --dependency as given ("afterok:12:13"); empty = none, or satisfied
  killOnInvalidDep @33 :Bool;        # --kill-on-invalid-dep=yes: cancel when the dependency can never hold
  nodelist      @34 :Text;           # -w: exactly these nodes (a host list, "n[1-4]"); empty = any
  exclude       @35 :Text;           # -x: never these nodes (a host list); empty = none
  exclusive     @36 :Bool;           # --exclusive: whole nodes no other job shares
  signal        @37 :Text;           # --signal as given ("B:USR1@90"); empty = none
  beginTime     @38 :Int64;          # --begin: not started before this unix time; 0 = none
  constraint    @39 :Text;           # -C: node features the job's nodes must have ("a100&ib"); empty = any
  openTruncate  @40 :Bool;           # --open-mode=truncate
  mailType      @41 :UInt32;         # --mail-type as bits (common/job_mail.hpp); 0 = none
  mailUser      @42 :Text;           # --mail-user; the master fills in the submitter when empty
  qos           @43 :Text;           # --qos; empty = the master's default QOS (it stores the one it chose)
  deadline      @44 :Int64;          # --deadline: removed (DEADLINE) once it cannot end by this unix time; 0 = none
  reservation   @45 :Text;           # --reservation: run inside this admin reservation; empty = none
}

# One GPU as the agent discovered it (NVML, else nvidia-smi).
struct GpuDevice {
  index       @0 :UInt32;
  uuid        @1 :Text;
  model       @2 :Text;
  memoryMb    @3 :Int64;
  nvlinkPeers @4 :List(UInt32);     # indices of GPUs on the same node joined by NVLink
}

struct TaskInfo {
  rank      @0 :UInt32;
  node      @1 :Text;
  gpus      @2 :List(UInt32);
  state     @3 :Text;
  exitCode  @4 :Int32;
}

struct JobInfo {
  id          @0 :UInt64;
  request     @1 :JobRequest;
  state       @2 :Text;
  reason      @3 :Text;
  exitCode    @4 :Int32;
  attempt     @5 :UInt32;
  submitTime  @6 :Int64;            # unix seconds
  startTime   @7 :Int64;            # 0 = not started
  endTime     @8 :Int64;            # 0 = not ended
  nodes       @9 :List(Text);
  tasks       @10 :List(TaskInfo);
  priority    @11 :Float64;         # the multifactor priority of the last pass (pending jobs)
  priorityExplained @12 :Text;      # "1234 = age 10 + size ..."
  expectedStart @13 :Int64;         # unix seconds of a reservation; 0 = unknown
  preemptions @14 :UInt32;          # times this job was preempted
  arrayLeft   @15 :Text;            # an array's pending record: the indices not started ("5-99")
}

struct PartitionInfo {
  name          @0 :Text;
  isDefault     @1 :Bool;
  nodes         @2 :List(Text);     # member nodes (registered ones)
  patterns      @3 :List(Text);     # as configured; empty = every node
  defaultTimeSec @4 :UInt64;
  maxTimeSec    @5 :UInt64;
  tier          @6 :Int32;
  preemptible   @7 :Bool;
  maxRunningJobsPerUser @8 :UInt32;
  maxGpusPerUser @9 :Int64;
  total         @10 :Resources;     # over member nodes that are UP
  free          @11 :Resources;
  pendingJobs   @12 :UInt32;
  runningJobs   @13 :UInt32;
}

struct Label {
  key   @0 :Text;
  value @1 :Text;
}

struct NodeInfo {
  name      @0 :Text;
  address   @1 :Text;
  state     @2 :Text;
  total     @3 :Resources;
  free      @4 :Resources;
  labels    @5 :List(Label);
  lastSeen  @6 :Int64;
  gpus      @7 :List(GpuDevice);
  isolation @8 :Text;               # how ranks are confined there: "cgroup v2 (cpu, memory, cpuset)" or why not
  reason    @9 :Text;               # why it is DRAIN or DOWN
  features  @10 :List(Text);        # what -C/--constraint matches
}

# A rank as an agent knows it; used in registration so a restarted master
# can adopt what is still running and learn how the others ended.
struct RunningTask {
  jobId        @0 :UInt64;
  rank         @1 :UInt32;
  attempt      @2 :UInt32;
  exited       @3 :Bool;       # ended; the master has not acknowledged it yet
  launchFailed @4 :Bool;
  exitCode     @5 :Int32;
  signal       @6 :Int32;
  message      @7 :Text;
  lost         @8 :Bool;       # ended because its supervisor vanished
  step         @9 :UInt32;     # 0: a rank of the job itself (or its batch script); n: of step n
  oomKilled    @10 :Bool;      # the kernel killed it for exceeding its memory limit
}

# ---- agent -> master ----
struct Register {
  name     @0 :Text;
  address  @1 :Text;                # where ranks on this node can be reached
  total    @2 :Resources;
  labels   @3 :List(Label);
  running  @4 :List(RunningTask);
  gpus     @5 :List(GpuDevice);
  isolation @6 :Text;
  features @7 :List(Text);          # --features: what -C/--constraint matches (common/constraint.hpp)
}

struct Heartbeat {
  name @0 :Text;
}

enum TaskEvent {
  started @0;
  exited @1;          # exitCode holds the status; signal is non-zero if killed
  launchFailed @2;    # message says why (bad workdir, exec failure, ...)
  lost @3;            # its supervisor vanished (node reboot, supervisor killed): a node failure
}

struct TaskStatus {
  node      @0 :Text;
  jobId     @1 :UInt64;
  rank      @2 :UInt32;
  attempt   @3 :UInt32;
  event     @4 :TaskEvent;
  exitCode  @5 :Int32;
  signal    @6 :Int32;
  message   @7 :Text;
  step      @8 :UInt32;
  oomKilled @9 :Bool;
}

# ---- master -> agent ----
struct RegisterReply {
  heartbeatIntervalMs @0 :UInt32;
}

struct Launch {
  jobId           @0 :UInt64;
  attempt         @1 :UInt32;
  rank            @2 :UInt32;
  worldSize       @3 :UInt32;
  localRank       @4 :UInt32;
  localWorldSize  @5 :UInt32;
  nodeRank        @6 :UInt32;
  nodelist        @7 :List(Text);   # one entry per node, in node-rank order
  tasksPerNode    @8 :List(UInt32); # parallel to nodelist
  gpus            @9 :List(UInt32);
  argv            @10 :List(Text);
  workdir         @11 :Text;
  outputPattern   @12 :Text;
  masterAddr      @13 :Text;
  masterPort      @14 :UInt16;
  user            @15 :Text;
  uid             @16 :UInt32;
  gid             @17 :UInt32;
  jobName         @18 :Text;
  step            @19 :UInt32;     # 0: the job's own rank; n: a rank of step n (`cadre run`, MPI launcher)
  perTask         @20 :Resources;  # the job's per-task request: this node's share is perTask x tasksPerNode[nodeRank]
  limits          @21 :Resources;  # what this process may use (its cgroup's limits)
  batch           @22 :Bool;       # run `script` (written to a file) instead of argv
  script          @23 :Text;
  errorPattern    @24 :Text;
  ntasks          @25 :UInt32;     # the job's total tasks (SLURM_NTASKS), also for a batch script
  cpusPerTask     @26 :UInt32;
  jobNodelist     @27 :List(Text); # the allocation's nodes (a step's nodelist may be fewer)
  jobTasksPerNode @28 :List(UInt32);
  umask           @29 :Int32 = -1;  # set before exec (and exported as SLURM_UMASK); -1 = leave the agent's
  environment     @30 :List(Text);  # "NAME=value" exported by the submitter (or by `cadre run` for a step)
  partition       @31 :Text;
  account         @32 :Text;
  submitHost      @33 :Text;
  exportMode      @34 :Text;        # --export as given, or ""
  arrayJobId      @35 :UInt64;      # an array task: the array's id (SLURM_ARRAY_JOB_ID); 0 = none
  arrayTaskId     @36 :Int64 = -1;  # its index (SLURM_ARRAY_TASK_ID)
  array           @37 :Text;        # the array's --array (for _COUNT, _MIN, _MAX, _STEP)
  truncateOutput  @38 :Bool;        # --open-mode=truncate: empty the output files on opening them
  qos             @39 :Text;        # the job's QOS (SLURM_JOB_QOS)
}

struct Kill {
  jobId   @0 :UInt64;
  attempt @1 :UInt32;
  rank    @2 :UInt32;
  step    @3 :UInt32;
  signal  @4 :Int32;                # not 0: send this signal (--signal) instead of stopping the rank
  leaderOnly @5 :Bool;              # with signal: to the rank's first process alone, not its group
}

# The master has durably recorded this rank's end; the agent may forget it.
struct TaskAck {
  jobId   @0 :UInt64;
  rank    @1 :UInt32;
  attempt @2 :UInt32;
  step    @3 :UInt32;
}

# Sent in answer to a heartbeat from a node the master does not know in this
# run (it restarted): the agent registers again with its running tasks.
struct PleaseRegister {}

# ---- client -> master ----
struct Submit {
  request @0 :JobRequest;
}

struct ListJobs {
  all     @0 :Bool;                 # include ended jobs
  afterId @1 :UInt64;               # only jobs with a larger id: the next page (0: from the first)
  limit   @2 :UInt32;               # at most this many; 0 or more than the master's page size: its page size
}

struct ShowJob {
  id @0 :UInt64;
}

struct Cancel {
  ids  @0 :List(UInt64);
  user @1 :Text;
  tasks @2 :List(Text);              # array tasks by index: "12_7" (12 alone is in ids: the whole array)
}

# `cadre hold` / `cadre release` (scontrol hold/release): pending jobs only;
# answered with cancelReply, one result per id. The same authorization as
# cancel; a hold by an admin is released by an admin only.
struct HoldJobs {
  ids     @0 :List(UInt64);
  release @1 :Bool;
  tasks   @2 :List(Text);            # array tasks by index, as in Cancel
}

# `cadre update` (scontrol update job): KEY=VALUE changes (common/job_update.hpp)
# to the jobs named, all or none per job; answered with cancelReply.
struct UpdateJob {
  ids     @0 :List(UInt64);
  tasks   @1 :List(Text);            # array tasks, "12_7"
  fields  @2 :List(Text);            # "TimeLimit=2:00:00", "JobName=x", ...
}

# `cadre requeue` (scontrol requeue / requeuehold): a running or ended job
# back to pending, as a new attempt; answered with cancelReply.
struct RequeueJobs {
  ids     @0 :List(UInt64);
  tasks   @1 :List(Text);
  hold    @2 :Bool;                  # requeuehold: pending and held
}

struct ListNodes {}

struct ListPartitions {}

# Starts a step inside a running job's allocation (`cadre run`, `cadre rsh`).
struct RunStep {
  jobId    @0 :UInt64;
  argv     @1 :List(Text);
  workdir  @2 :Text;
  ntasks   @3 :UInt32;              # 0 = every task of the allocation (on the chosen nodes)
  nnodes   @4 :UInt32;              # 0 = every node of the allocation
  hosts    @5 :List(Text);          # exact nodes, one rank each (the MPI launcher); overrides the above
  wholeNode @6 :Bool;               # each rank may use its node's whole share of the allocation
  uid      @7 :UInt32;
  environment @8 :List(Text);       # "NAME=value": the caller's environment, as srun exports it
}

# Admins only: DRAIN nodes (running jobs go on, nothing new starts) or
# bring DRAIN nodes back UP.
struct SetNodeState {
  names  @0 :List(Text);
  state  @1 :Text;                  # "DRAIN" or "UP"
  reason @2 :Text;
}

# Many jobs in one message (`cadre submit --from FILE`): each is accepted or
# refused on its own, all in one durable commit.
struct SubmitMany {
  requests @0 :List(JobRequest);
}

struct SubmitManyReply {
  ids    @0 :List(UInt64);          # parallel to the requests; 0 = refused
  errors @1 :List(Text);            # why each refused one was refused ("" when accepted)
}

struct ShowStep {
  jobId @0 :UInt64;
  step  @1 :UInt32;
}

struct StepRankInfo {
  rank     @0 :UInt32;
  node     @1 :Text;
  state    @2 :Text;
  exitCode @3 :Int32;
  message  @4 :Text;
}

# ---- master -> client ----
struct SubmitReply {
  id @0 :UInt64;
}

struct JobsReply {
  jobs @0 :List(JobInfo);
  more @1 :Bool;                    # listJobs stopped at its limit: ask again with afterId = the last id
  mails @2 :Bool;                   # the master has a mail program: --mail-type is acted on
}

struct CancelResult {
  id      @0 :UInt64;
  ok      @1 :Bool;
  message @2 :Text;
}

struct CancelReply {
  results @0 :List(CancelResult);
}

struct NodesReply {
  nodes @0 :List(NodeInfo);
}

# An admin reservation: nodes set aside from `start` to `end` for some
# users and accounts (scontrol create reservation). Jobs run inside it with
# --reservation; other jobs stay off its nodes for that window.
struct ReservationInfo {
  name     @0 :Text;
  nodes    @1 :List(Text);
  start    @2 :Int64;                # unix seconds
  end      @3 :Int64;
  users    @4 :List(Text);
  accounts @5 :List(Text);
}

struct CreateReservation {
  name      @0 :Text;
  nodes     @1 :Text;               # a host list ("node[1-4]"); empty: nodeCount nodes the master picks
  nodeCount @2 :UInt32;
  partition @3 :Text;               # with nodeCount: pick from this partition; empty: any node
  start     @4 :Int64;              # unix seconds; 0 = now
  end       @5 :Int64;
  users     @6 :List(Text);
  accounts  @7 :List(Text);
}

struct DeleteReservation {
  name @0 :Text;
}

struct ListReservations {}

struct ReservationsReply {
  reservations @0 :List(ReservationInfo);
}

struct PartitionsReply {
  partitions @0 :List(PartitionInfo);
  qos        @1 :List(QosInfo);     # the master's [[qos]]; empty: none defined (any --qos is recorded)
}

struct QosInfo {
  name          @0 :Text;
  isDefault     @1 :Bool;
  priority      @2 :Int32;
  hasTier       @3 :Bool;           # tier replaces the partition's tier for its jobs
  tier          @4 :Int32;
  preemptible   @5 :Bool;
  maxTimeSec    @6 :UInt64;         # 0 = none
  maxRunningJobsPerUser @7 :UInt32; # 0 = none
  maxGpusPerUser @8 :Int64;         # 0 = none
  users         @9 :List(Text);     # with accounts, both empty: everyone
  accounts      @10 :List(Text);
}

struct StepReply {
  jobId @0 :UInt64;
  step  @1 :UInt32;
  done  @2 :Bool;                   # every rank ended
  exitCode @3 :Int32;               # the worst exit code (0 when all succeeded)
  ranks @4 :List(StepRankInfo);
}

struct Error {
  message @0 :Text;
}

# What the master reports about itself (`cadre diag`, bench/scale_loadgen).
struct GetStats {}

struct StatsReply {
  uptimeSec          @0 :Int64;
  passes             @1 :UInt64;   # scheduling passes run (with pending jobs to consider)
  lastPassUs         @2 :Int64;    # wall time of the last pass, microseconds
  maxPassUs          @3 :Int64;
  totalPassUs        @4 :Int64;
  lastSnapshotUs     @5 :Int64;    # the last pass split: building the snapshot,
  lastDecideUs       @6 :Int64;    # decide() itself,
  lastApplyUs        @7 :Int64;    # applying its decisions (launches, wait reasons)
  jobsPending        @8 :UInt32;
  jobsRunning        @9 :UInt32;
  nodesRegistered    @10 :UInt32;
  nodesUp            @11 :UInt32;
  messagesHandled    @12 :UInt64;
  malformedMessages  @13 :UInt64;
  heartbeats         @14 :UInt64;
  lastCommitUs       @15 :Int64;   # wall time of the store's last commit (write + fsync)
  commits            @16 :UInt64;
  rssBytes           @17 :UInt64;  # the master's resident memory (/proc/self/statm)
  cpuUserUs          @18 :Int64;   # the master's CPU time so far (getrusage)
  cpuSystemUs        @19 :Int64;
  lastPassCpuUs      @20 :Int64;   # CPU time of the last pass (less than its wall time on a busy host)
  overLimitRequests  @21 :UInt64;  # requests refused for a bound of common/limits.hpp
  refusedMessages    @22 :UInt64;  # from a revoked key, a wrong routing id, or a peer outside its role
}

struct Envelope {
  version   @0 :UInt16;
  requestId @1 :UInt64;
  union {
    register       @2 :Register;
    registerReply  @3 :RegisterReply;
    heartbeat      @4 :Heartbeat;
    pleaseRegister @5 :PleaseRegister;
    launch         @6 :Launch;
    kill           @7 :Kill;
    taskStatus     @8 :TaskStatus;
    submit         @9 :Submit;
    submitReply    @10 :SubmitReply;
    listJobs       @11 :ListJobs;
    showJob        @12 :ShowJob;
    jobsReply      @13 :JobsReply;
    cancel         @14 :Cancel;
    cancelReply    @15 :CancelReply;
    listNodes      @16 :ListNodes;
    nodesReply     @17 :NodesReply;
    error          @18 :Error;
    taskAck        @19 :TaskAck;
    listPartitions @20 :ListPartitions;
    partitionsReply @21 :PartitionsReply;
    runStep        @22 :RunStep;
    showStep       @23 :ShowStep;
    stepReply      @24 :StepReply;
    setNodeState   @25 :SetNodeState;  # answered with nodesReply (the nodes named)
    submitMany     @26 :SubmitMany;
    submitManyReply @27 :SubmitManyReply;
    getStats       @28 :GetStats;
    statsReply     @29 :StatsReply;
    holdJobs       @30 :HoldJobs;      # answered with cancelReply
    updateJob      @31 :UpdateJob;     # answered with cancelReply
    requeueJobs    @32 :RequeueJobs;   # answered with cancelReply
    createReservation @33 :CreateReservation;  # admins; answered with reservationsReply (the new one)
    deleteReservation @34 :DeleteReservation;  # admins; answered with reservationsReply (what is left)
    listReservations  @35 :ListReservations;
    reservationsReply @36 :ReservationsReply;
  }
}
