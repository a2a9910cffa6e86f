// The CLI's help texts: cadre's usage and each command's --help, kept
// apart from main.cpp's dispatch so the text can grow without hiding it.
#include "cli/help_text.hpp"

namespace cadre::cli {

const char* const kUsage = R"(usage: cadre [--master ENDPOINT] [--timeout SECONDS] COMMAND [ARGS]

Submit and watch jobs on a cadre cluster.

commands:
  submit   queue a gang job:           cadre submit --nodes 2 --gpus-per-task 1 -- python train.py
           or a batch script:          cadre submit job.sh   (#CADRE and #SBATCH directives)
  run      run and wait (srun):        cadre run -n 4 -- hostname   (inside a job: a step)
  queue    list pending and running:   cadre queue [--all] [--json] [--me -t PD -p gpu ...] [-o "%i %T"]
  show     one job in detail:          cadre show 42 [--json]
  acct     jobs as sacct shows them:   cadre acct -j 42 -X -o JobID,State,ExitCode,Elapsed
  cancel   cancel jobs:                cadre cancel 42 43   or   cadre cancel --me -t PENDING
  hold     keep pending jobs waiting:  cadre hold 42      (release: cadre release 42)
  update   change a queued job:        cadre update 42 TimeLimit=2:00:00 JobName=b
  requeue  run a job again:            cadre requeue 42   [--hold]
  nodes    list nodes and free space:  cadre nodes [--json] [-o "%N %c %m %G %T"]
  partitions  list partitions:         cadre partitions [--json] [-o "%P %D %C"]
  qos      list the QOS (--qos):       cadre qos [--json]
  reservation  set nodes aside:        cadre reservation create maint --nodes n[1-4] --duration 2:00:00 --users ada
  rsh      Open MPI's launcher:        set for you inside jobs; see 'cadre rsh --help'
  keygen   write a CURVE key pair:     cadre keygen ~/.cadre/key
  drain    stop placing on nodes:      cadre drain node7 --reason 'bad DIMM'   (admins)
  resume   bring DRAIN nodes back:     cadre resume node7                      (admins)
  diag     the master's own figures:   cadre diag [--json]

global options (also accepted after COMMAND):
  --master ENDPOINT   the master (default $CADRE_MASTER, else the master's local socket
                      /run/cadre/cadre.sock or /var/lib/cadre/cadre.sock when this host
                      has one, else tcp://127.0.0.1:7700). Over tcp, with CADRE_KEY and
                      CADRE_MASTER_KEY (or ~/.cadre/key and ~/.cadre/master.pub) set,
                      the connection is CURVE-encrypted (see cadre keygen)
  --timeout SECONDS   how long to wait for an answer (default $CADRE_TIMEOUT, else 10)
  -V, --version       print cadre's version and exit

Run 'cadre COMMAND --help' for a command's options.
)";

const std::map<std::string, std::string> kHelp = {
    {"submit", R"(usage: cadre submit [OPTIONS] -- CMD [ARGS...]
       cadre submit [OPTIONS] SCRIPT [ARGS...]
       cadre submit [OPTIONS] --wrap 'COMMAND LINE'
       cadre submit [--parsable] --from FILE

Queues a job whose every rank runs CMD. All ranks start together or none does.

With a SCRIPT (a file starting with #!, no '--'), queues a batch job, as sbatch
does: options come from the script's #CADRE lines (cadre's flags) and #SBATCH
lines (Slurm's sbatch options, the ones below and advisory ones kept as
hints; docs/user-guide.md has the table), read from the top of the file; flags on the
command line win. An sbatch option cadre lacks is refused with what to do instead. The script runs once, on the first node
of the allocation, with CADRE_* and SLURM_* variables describing it; inside,
'cadre run' starts steps and mpirun starts ranks through 'cadre rsh'.

  -J, --name NAME            job name (default: the command's file name)
  -N, --nodes N              spread the ranks over exactly N distinct nodes
      --tasks-per-node T     ranks on each of those nodes (default 1; N*T ranks)
  -n, --ntasks N             number of ranks; alone, they go wherever they fit
  -c, --cpus-per-task C      cpus per rank (default 1)
      --mem-per-task SIZE    memory per rank, e.g. 512M, 4G (default 1G)
      --mem SIZE             memory per node, as Slurm's --mem (split over its ranks)
      --mem-per-cpu SIZE     memory per cpu of each rank
      --gpus-per-task G      GPUs per rank, each with its own indices (default 0)
      --gpus-per-node G      GPUs per node, split evenly over its ranks (needs --nodes)
      --gres gpu[:TYPE]:N    N GPUs per node (of TYPE), as Slurm's --gres
      --gpu-type MODEL       only nodes whose GPU model contains MODEL, e.g. H100
  -t, --time TIME            time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
                             or UNLIMITED (default: none)
      --priority P           added to the job's priority, weighted (default 0)
  -p, --partition NAME[,NAME] partition to run in, or a list: the first that can
                             start it (default: the cluster's default)
  -A, --account NAME         fair-share account (default: your user name)
  -q, --qos NAME             quality of service (cadre qos lists them)
      --reservation NAME     run inside an admin reservation (cadre reservation list)
  -G, --gpus N               GPUs for the whole job; --cpus-per-gpu, --mem-per-gpu,
                             --ntasks-per-gpu as sbatch
  -C, --constraint EXPR      node features: a100, a100&ib, a|b, [rack1|rack2]
  -w, --nodelist HOSTLIST    exactly these nodes (node[1-4]); -x, --exclude: never these
      --exclusive            whole nodes no other job shares
  -d, --dependency LIST      afterok:12, afterany:12:13, afternotok, after, singleton
      --kill-on-invalid-dep=yes  cancel when the dependency can never hold
  -H, --hold                 queue it held until cadre release
  -b, --begin TIME           start no earlier (16:00, now+1hour, 2026-12-25T08:00)
      --deadline TIME        remove it (DEADLINE) once it cannot end by TIME
      --signal [B:]SIG[@SECS]  send SIG that long before the time limit
      --mail-type TYPES      BEGIN, END, FAIL, ALL, TIME_LIMIT_80, ... to --mail-user
      --open-mode MODE       append (default) or truncate the output files
      --switches N[@TIME]    at most N network switches for the whole gang; with
                             @TIME (or --switches-wait TIME) the limit is relaxed
                             after the job has waited that long
  -o, --output PATTERN       output file per rank, with sbatch's symbols: %j job id,
                             %t rank, %N node name, %n node index, %x job name,
                             %u user, %r restarts, %J job.step, %s step, %A %a %b
                             array, %% a literal %, %4j zero-padded
                             (default cadre-%j.out, one file all ranks append to; put %t
                             in it for one per rank; relative to
                             the working directory)
  -e, --error PATTERN        stderr to its own file (default: into the output file)
  -D, --chdir DIR            working directory of the ranks (default: the current one)
      --no-requeue           end the job NODE_FAIL when a node fails, instead of
                             requeueing the whole gang as a new attempt
      --requeue              requeue after a node failure (the default)
      --export=ALL|NONE|NAMES  which variables of this shell the job gets (default
                             ALL, or $SLURM_EXPORT_ENV); NAME=value sets one
      --export-file FILE     NUL-separated NAME=value definitions to add
      --wrap 'CMD'           run the command line CMD as a batch script
  -a, --array=INDICES[%N]    a job array: one job per index (0-99, 1,3,7, 0-15:4),
                             at most N running at once; each sees SLURM_ARRAY_TASK_ID
                             (default output cadre-%A_%a.out)
      --hint, --comment, --gpu-bind, --cpu-bind, -m/--distribution, ...
                             sbatch's advisory options: recorded and shown by
                             cadre show, not acted on
      --parsable             print only the job id
  -W, --wait                 wait for the job to end, print its state changes, and exit
                             with its exit code

Each rank sees CADRE_JOB_ID, CADRE_JOB_NAME, CADRE_ATTEMPT, CADRE_RANK,
CADRE_WORLD_SIZE, CADRE_LOCAL_RANK, CADRE_LOCAL_WORLD_SIZE, CADRE_NODE_RANK,
CADRE_NNODES, CADRE_NODE_NAME, CADRE_NODELIST, CADRE_HOSTFILE,
CADRE_STEP_ID, CADRE_NTASKS, CADRE_MASTER, CUDA_VISIBLE_DEVICES, RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and
MASTER_PORT (free per job), the SLURM_* names batch scripts read
(SLURM_JOB_ID, SLURM_NNODES, SLURM_NTASKS, SLURM_JOB_NODELIST, SLURM_PROCID,
...), and OMPI_MCA_plm_rsh_agent so that mpirun starts ranks through cadre.

With --from FILE (or - for stdin), submits many jobs in few messages: one job per
line, each line the words that would follow 'cadre submit'. Every line is
checked first; the jobs then go up to 10,000 per message, and each message is
all or nothing: a refused job is named by its line, and none of its message is
submitted.

examples:
  cadre submit --nodes 2 --tasks-per-node 4 --gpus-per-task 1 --time 2:00:00 -- python train.py
  cadre submit --ntasks 8 --wait -- ./mpi_program
  cadre submit --gpu-type H100 --gpus-per-task 8 -- python train.py
  cadre submit job.sbatch input.dat
  cadre submit --parsable --from jobs.txt
)"},
    {"run", R"(usage: cadre run [--ntasks N] [--nodes N] -- CMD [ARGS...]     (inside a job)
       cadre run [SUBMIT OPTIONS] -- CMD [ARGS...]          (outside a job)

Inside a job (a batch script, or any rank: CADRE_JOB_ID is set) runs CMD as
a step: N ranks over the job's nodes (default: every task of the job, laid
out as the job's own ranks), in what the job already holds. Waits for every
rank and exits with the worst exit code. Step ranks write to the job's output
file pattern, with %t their rank in the step.

Outside a job submits a job with the same options as 'cadre submit', waits
for it, prints its ranks' output as it appears (on a file system the ranks'
nodes share with this one) and exits with the job's exit code, as srun does.

examples:
  cadre run -- hostname                  (in a batch script: once per task)
  cadre run --ntasks 2 --nodes 2 -- ./check_node
  cadre run --nodes 2 --tasks-per-node 2 -- python3 train.py
)"},
    {"rsh", R"(usage: cadre rsh NODE COMMAND...

Open MPI's mpirun calls this instead of ssh to start its daemon on NODE: the
command runs as one rank of a step on NODE, inside the job (its cgroup, its
accounting), with the node's whole share of the job. Jobs get
OMPI_MCA_plm_rsh_agent="<path>/cadre rsh" in their environment, so plain
  mpirun --hostfile $CADRE_HOSTFILE ./prog
works in a batch script. Outside a job it refuses to run.
)"},
    {"keygen", R"(usage: cadre keygen PATH

Writes a new CURVE key pair (ZeroMQ's CurveZMQ): PATH holds the secret key
(mode 0600) and PATH.pub the public key, which an admin enrolls. Refuses to
overwrite either file. See docs/security.md.

example:
  cadre keygen ~/.cadre/key
)"},
    {"drain", R"(usage: cadre drain NODE... [--reason TEXT]

Admins only (root, or the master's [security] admin_group): sets nodes DRAIN.
Jobs running there go on; nothing new is placed there until 'cadre resume'.

example:
  cadre drain node7 node8 --reason 'firmware update'
)"},
    {"resume", R"(usage: cadre resume NODE...

Admins only: brings DRAIN nodes back UP. A DOWN node comes back by itself when
its agent registers again.

example:
  cadre resume node7 node8
)"},
    {"queue", R"(usage: cadre queue [--all] [--json | -o FORMAT | -O NAMES | --start] [-h] [FILTERS]

Lists pending and running jobs; --all adds jobs that ended. Filters, as
squeue's, list only some jobs: each takes a comma-separated list and a job
must match one value of every filter given. --json lists the same jobs.

  -o, --format FORMAT        squeue's field letters: "%[.][size]letter", '.'
                             right-justifies, other text is printed as is,
                             e.g. "%.10i %T %R" (letters: docs/user-guide.md)
  -O, --Format NAMES         squeue's field names, any case, comma-separated,
                             each NAME[:[.]size] (20 wide by default),
                             e.g. JobID,State,Reason
      --start                pending jobs and when they are expected to start
                             (squeue --start's columns), soonest first
  -h, --noheader             no header line (--help for this text)

  -a, --all                  also jobs that ended (the newest 10,000)
      --json                 print {"jobs": [...]}
  -u, --user USER[,USER...]  jobs of these users (names or uid numbers)
      --me                   your own jobs (as --user with your name)
  -t, --states STATE[,...]   jobs in these states, long or short, any case:
                             PENDING (PD), RUNNING (R), COMPLETED (CD),
                             FAILED (F), CANCELLED (CA), TIMEOUT (TO),
                             NODE_FAIL (NF), OUT_OF_MEMORY (OOM), or all.
                             Ended states include ended jobs without --all;
                             Slurm's other states (S, CG...) match no job
  -p, --partition P[,P...]   jobs in these partitions
  -j, --jobs ID[,ID...]      these jobs
  -n, --name NAME[,NAME...]  jobs with these names (any case)
  -A, --account A[,A...]     jobs charged to these accounts (any case)

examples:
  cadre queue
  cadre queue --all --json
  cadre queue --me -t PD
  cadre queue -u alice,bob -p gpu
  cadre queue -t CD,F,TO -n train --json
  cadre queue -j 42,43
  cadre queue --me -h -o %i
  cadre queue -O JobID,State,Reason
)"},
    {"acct", R"(usage: cadre acct [OPTIONS]   (also as sacct, inside jobs and out)

Lists jobs as Slurm's sacct does, ended ones included (those the master still
keeps: the newest 10,000), one line per job or array task: cadre has no step
lines (.batch, .0), so -X changes nothing. By default your own jobs eligible
since midnight; with -j the jobs named, whenever they ran.

  -j, --jobs ID[,ID...]      these jobs; 12 is a job or a whole array, 12_7 one
                             array task (no .step: steps are not listed)
  -u, --user USER[,...]      jobs of these users (names or uids); --me yours;
  -a, --allusers             everyone's (root sees everyone's by default)
  -s, --state STATE[,...]    in these states, long or short, any case (CD, F,
                             CA, TO, PD, R, NF, OOM, ...); the window is then
                             now unless -S or -E says otherwise
  -S, --starttime TIME       jobs still eligible or running at or after TIME
  -E, --endtime TIME         ... and eligible at or before TIME (default now).
                             TIME: YYYY-MM-DD[THH:MM[:SS]], MMDD[YY],
                             MM/DD[/YY], HH:MM[:SS], midnight, noon, today,
                             now[-COUNT[seconds|minutes|hours|days|weeks]]
  -r, --partition P[,...]    jobs in these partitions
  -A, --accounts A[,...]     jobs charged to these accounts
      --name NAME[,...]      jobs with these names
  -o, --format F[,F...]      sacct's field names, any case, each with an
                             optional width: JobName%30 (right), State%-12
                             (left); ALL is every field. Fields cadre does not
                             record (MaxRSS, TotalCPU, ...) print empty
  -e, --helpformat           list the field names
  -b, --brief                JobID,State,ExitCode
  -l, --long                 sacct's long list of fields
  -n, --noheader             no header lines
  -p, --parsable             values separated by '|', one at the end too
  -P, --parsable2            values separated by '|', none at the end
      --delimiter TEXT       instead of '|' with -p and -P
  -X, --allocations, --array, -D, -L, --local, --noconvert: accepted

examples:
  cadre acct
  cadre acct -j 42 -n -X -o State
  cadre acct -j 42 -P --format=JobID,JobName,Elapsed,State,ExitCode
  cadre acct -a -S now-1day -s F,TO,OOM
  sacct -u $USER --starttime=2026-12-01 -P
)"},
    {"show", R"(usage: cadre show JOB [--json]

Shows one job: its state, why it waits or ended, and where each rank runs.
A pending job shows its priority and what it is made of, the reason it waits
(Resources, Priority, Reservation, PartitionLimit, Topology, Preempting,
PartitionDown) and, with a reservation, when it is expected to start.

examples:
  cadre show 42
  cadre show 42 --json
)"},
    {"cancel", R"(usage: cadre cancel [FILTERS] [JOB...]

Cancels jobs: pending ones never start, running ones have every rank sent
SIGTERM, then SIGKILL after the agent's kill grace. Filters, as scancel's,
choose jobs: with job ids they cancel only those of the ids that match; alone
they cancel every pending or running job that matches all of them. You may
cancel only your own jobs (admins any): add --me to leave others' alone.
A job array's id cancels all its tasks; 12_7 one task, 12_[1-3,7] several.
Exit status 0 when every chosen job was cancelled, else 1.

  -u, --user USER            jobs of this user (a name or a uid number)
      --me                   your own jobs (as --user with your name)
  -t, --state STATE          PENDING (PD) or RUNNING (R), any case
  -n, --name NAME            jobs with this name (also --jobname)
  -p, --partition NAME       jobs in this partition
  -A, --account NAME         jobs charged to this account

scancel's -s/--signal is refused (cadre cannot send a chosen signal yet), as
is -i/--interactive (list with 'cadre queue' and the same filters first).

examples:
  cadre cancel 42 43
  cadre cancel --me
  cadre cancel --me -t PENDING -p gpu
  cadre cancel -n sweep -A physics --me
  cadre cancel -t R 42 43 44
)"},
    {"hold", R"(usage: cadre hold JOB...

Holds pending jobs (scontrol hold): they wait, with reason JobHeldUser (or
JobHeldAdmin when an admin held them), until 'cadre release'. Only a pending
job can be held; you may hold your own jobs, admins any. 'cadre submit --hold'
queues a job held. A job array's id holds all its pending tasks; 12_7 one
task, 12_[1-3,7] several (release takes the same).

example:
  cadre hold 42 43
)"},
    {"release", R"(usage: cadre release JOB...

Releases held jobs (scontrol release): they wait for their turn again. A job an
admin held is released by an admin only.

example:
  cadre release 42
)"},
    {"update", R"(usage: cadre update JOB... KEY=VALUE...

Changes queued jobs (scontrol update job). Keys, any case:
  TimeLimit=TIME       a new limit (TimeLimit+=30 and TimeLimit-=30 add or take off
                       minutes); on a running job users may only shorten it
  JobName=NAME         (also Name)
  NumNodes=N           the node count; the ranks per node stay
  NumTasks=N           the rank count
  Partition=NAME       must exist and allow the job's time limit
  Dependency=SPEC      as --dependency; "Dependency=" removes it
  Priority=N           admins only, as --priority
  Requeue=0|1          as --no-requeue / --requeue
  ArrayTaskThrottle=N  an array's %N (0: no limit)
  Account=NAME         as --account
A running job takes only TimeLimit, JobName and Requeue. JOB is an id, an array
task 12_7 or an array's id (every job of it); JobId=42 is also read. Each job is
changed entirely or not at all. You may change your own jobs, admins any.

examples:
  cadre update 42 TimeLimit=4:00:00 Partition=long
  cadre update 42 TimeLimit+=30
  cadre update 12 ArrayTaskThrottle=4
)"},
    {"requeue", R"(usage: cadre requeue [--hold] JOB...

Puts running or ended jobs back in the queue (scontrol requeue): a running job's
ranks are killed (SIGTERM, then SIGKILL), and the job starts again as a new attempt
(%r and CADRE_ATTEMPT tell them apart), with a new submit time. With --hold it
waits held until 'cadre release' (scontrol requeuehold). A requeue by hand does not
count against the node-failure retries. You may requeue your own jobs, admins any.

example:
  cadre requeue 42
)"},
    {"nodes", R"(usage: cadre nodes [--json | -o FORMAT | -O NAMES] [-h]

Lists nodes with their state (UP, DRAIN, DOWN), free and total resources, their GPU
models, how ranks are confined there (cgroup v2, or process groups and why, in
--json), and labels. With -o or -O, one line per node and partition in sinfo's
field letters or names (as sinfo -N), e.g. "%N %c %m %G %T"; -h leaves the
header out (--help for this text).

examples:
  cadre nodes
  cadre nodes --json
  cadre nodes -h -o "%N %c %m %G %T"
)"},
    {"diag", R"(usage: cadre diag [--json]

Shows the master's own figures, as Slurm's sdiag: scheduling passes run and
their wall time (last, max, mean; the last one split into building the
snapshot, decide() and applying its decisions), pending and running jobs,
registered and UP nodes, messages handled (malformed ones dropped,
heartbeats), the store's commits and how long the last one took, and the
master's resident memory and CPU time.

examples:
  cadre diag
  cadre diag --json | jq .scheduler.max_pass_us
)"},
    {"partitions", R"(usage: cadre partitions [--json | -o FORMAT | -O NAMES] [-h]

Lists partitions: member nodes, free and total GPUs and cpus on UP nodes, time
limits, priority tier, whether higher tiers may preempt its jobs, per-user
limits, and pending and running jobs. The default partition is marked '*'.
With -o or -O, sinfo's field letters or names, nodes of a partition grouped
by what is shown (as sinfo), e.g. "%P %a %l %D %t %N"; -h leaves the header
out (--help for this text).

examples:
  cadre partitions
  cadre partitions --json
  cadre partitions -o "%P %D %C"
)"},
    {"reservation", R"(usage: cadre reservation create NAME (--nodes HOSTLIST | --node-count N [--partition P])
                               [--start TIME] (--duration D | --end TIME)
                               (--users U[,U...] | --accounts A[,A...]) [--json]
       cadre reservation delete NAME
       cadre reservation list [--json]

Admins set nodes aside for a window of time (Slurm's scontrol create
reservation). Only the listed users and accounts run jobs there, with
--reservation NAME; other jobs stay off its nodes unless they end before it
starts. --node-count picks UP nodes free at the start. TIME takes --begin's
forms (16:00, now+1hour, 2026-12-25T08:00); --start defaults to now.
--duration is read as --time is (minutes, H:MM:SS, D-HH:MM:SS). A
reservation is deleted by itself when its window ends.

examples:
  cadre reservation create maint --nodes node[1-2] --start now+1hour --duration 2:00:00 --users root
  cadre reservation create course --node-count 4 -p gpu --duration 180 --accounts teaching
  cadre reservation list
  cadre reservation delete maint
)"},
    {"qos", R"(usage: cadre qos [--json]

Lists the QOS the master defines ([[qos]] in its config; what sacctmgr show qos
lists under Slurm): priority, preemption tier, whether its jobs may be
preempted, the longest --time (MAXWALL), the jobs and GPUs one user may run
under it at once, and who may use it. The default QOS is marked '*'. With
none defined, any --qos is recorded with the job and nothing is enforced.

examples:
  cadre qos
  cadre qos --json
)"},
};


}  // namespace cadre::cli
