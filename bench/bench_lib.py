"""Helpers for bench/run and bench/compare-slurm: the machine header,
statistics, the start-time stamp program, and the table. Standard library
only."""

import os
import platform
import shutil
import statistics
import subprocess
import threading
import time

# ---------------------------------------------------------------- machine


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


def memory_gib():
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1024 * 1024)
    return None


def os_release():
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "unknown OS"


def load_average():
    parts = _read("/proc/loadavg").split()
    return " ".join(parts[:3]) if parts else "unknown"


def git_commit(repo):
    try:
        r = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty"], capture_output=True, text=True,
                           timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def library_versions():
    """Debian package versions of the libraries cadre links (libzmq, Cap'n
    Proto, SQLite), when dpkg-query is there; an empty dict otherwise."""
    if not shutil.which("dpkg-query"):
        return {}
    try:
        r = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n",
             "libzmq5", "libcapnp-[0-9]*", "libsqlite3-0"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    out = {}
    for line in r.stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[2].startswith("ii"):
            out[words[0]] = words[1]
    return out


def filesystem_of(path):
    """'ext4' or the like: the filesystem holding path (where the masters'
    SQLite files go, so it sets the cost of an fsync)."""
    try:
        r = subprocess.run(["df", "-T", path], capture_output=True, text=True, timeout=10)
        lines = r.stdout.splitlines()
        if r.returncode == 0 and len(lines) >= 2:
            words = lines[1].split()
            return "%s (%s)" % (words[1], words[0])
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return "unknown"


def machine(repo, tmpdir):
    mem = memory_gib()
    return {
        "commit": git_commit(repo),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(mem, 1) if mem else None,
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "os": os_release(),
        "libraries": library_versions(),
        "python": platform.python_version(),
        "tmp_filesystem": filesystem_of(tmpdir),
        "load_average_before": load_average(),
    }


# ------------------------------------------------------------- statistics


def submit_in_parallel(submit_one, n, threads, what):
    """Calls submit_one() n times from `threads` threads (the calls split as
    evenly as they go) and returns (ids, seconds): the ids it returned, all
    distinct, and the wall time from the first call to the last return.
    Raises the first error a thread met."""
    shares = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    ids, errors = [], []
    lock = threading.Lock()

    def submitter(count):
        mine = []
        try:
            for _ in range(count):
                mine.append(submit_one())
        except Exception as e:  # reported by the calling thread
            errors.append(e)
        with lock:
            ids.extend(mine)

    workers = [threading.Thread(target=submitter, args=(s,), daemon=True) for s in shares]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        while w.is_alive():
            w.join(timeout=1)
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    if len(set(ids)) != n:
        raise RuntimeError("%d %s gave %d distinct job ids" % (n, what, len(set(ids))))
    return ids, elapsed


# Submit-to-start and gang start measure an idle cluster: after each job
# ends, this long passes before the next submit, so the last job's cleanup
# (exit reports, acknowledgements, folders removed) is not timed into the
# next one. The same pause for cadre and Slurm.
SETTLE_S = 0.1


def percentile(values, p):
    """The p-th percentile (0-100) of values, interpolating linearly between
    the two nearest ranks (as numpy's default does)."""
    s = sorted(values)
    if not s:
        raise ValueError("percentile of nothing")
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(x):
    """Three significant digits, never in exponent form."""
    if x is None:
        return "-"
    ax = abs(x)
    if ax >= 100:
        return "%.0f" % x
    if ax >= 10:
        return "%.1f" % x
    return "%.2f" % x


# ------------------------------------------------------------ stamp program

STAMP_C = r"""
/* bench/run's start stamp: the first thing it does is read CLOCK_REALTIME;
 * it then writes it, in ns, to ARGV1.RANK (RANK from $CADRE_RANK, else from
 * $SLURM_PROCID for bench/compare-slurm's Slurm jobs, else 0),
 * through a temporary file and rename() so a reader never sees half of it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (argc < 2) return 2;
  const char *rank = getenv("CADRE_RANK");
  if (!rank || !*rank) rank = getenv("SLURM_PROCID");
  char path[4096], tmp[4200], buf[32];
  snprintf(path, sizeof path, "%s.%s", argv[1], rank && *rank ? rank : "0");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int n = snprintf(buf, sizeof buf, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 1;
  if (write(fd, buf, n) != n) return 1;
  if (close(fd) != 0) return 1;
  return rename(tmp, path) == 0 ? 0 : 1;
}
"""

# The fallback when no C compiler is there: the same through sh and date
# (slower to start, so the latencies it gives are a little higher).
STAMP_SH = 'f="$1.${CADRE_RANK:-${SLURM_PROCID:-0}}"; date +%s%N > "$f.tmp" && mv "$f.tmp" "$f"'


def build_stamp(workdir):
    """Returns (argv prefix, description): the command a job runs to record
    its start time, given a path prefix as its last argument."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc:
        src = os.path.join(workdir, "stamp.c")
        exe = os.path.join(workdir, "stamp")
        with open(src, "w") as f:
            f.write(STAMP_C)
        # Static first: no dynamic loader between exec and the clock read.
        for flags, what in ((["-static"], "static C program"), ([], "C program")):
            r = subprocess.run([cc, "-O2", *flags, "-o", exe, src], capture_output=True, text=True, timeout=120)
            if r.returncode == 0:
                return [exe], "%s (%s)" % (what, os.path.basename(cc))
    return ["sh", "-c", STAMP_SH, "sh"], "sh -c 'date +%s%N' (no C compiler)"


# ------------------------------------------------------------------ table


def render_table(rows, headers=("workload", "median", "spread (min-max)", "unit")):
    """rows: lists of 4 strings. Left-aligned first column, the rest
    right-aligned except the unit."""
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(len(headers))]
    def line(cells):
        return "  ".join([cells[0].ljust(widths[0]), cells[1].rjust(widths[1]), cells[2].rjust(widths[2]),
                          cells[3].ljust(widths[3])]).rstrip()
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)
