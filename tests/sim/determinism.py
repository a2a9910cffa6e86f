#!/usr/bin/env python3
"""sim_determinism: cadre-sim must give the same figures twice in a row
(the wall time aside), and EASY backfill must not make jobs wait longer on
average than FCFS on the same trace.

usage: determinism.py CADRE_SIM TRACE
"""
import json
import subprocess
import sys


def replay(binary, trace):
    args = [binary, "--trace", trace, "--nodes", "100", "--cpus-per-node", "1",
            "--policy", "fcfs,easy,conservative", "--json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"cadre-sim failed ({done.returncode}): {done.stderr.strip()}")
    result = json.loads(done.stdout)
    # The replay's wall time is the one figure that may differ.
    for figures in result["policies"].values():
        figures.pop("replay_s")
    return result


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    first = replay(sys.argv[1], sys.argv[2])
    second = replay(sys.argv[1], sys.argv[2])
    if first != second:
        sys.exit("two replays differ:\n" + json.dumps(first, indent=1) + "\n" + json.dumps(second, indent=1))
    if first["jobs"] == 0:
        sys.exit("no jobs were replayed")
    easy = first["policies"]["easy"]["mean_wait_s"]
    fcfs = first["policies"]["fcfs"]["mean_wait_s"]
    if easy > fcfs:
        sys.exit(f"EASY waits longer on average than FCFS: {easy} s > {fcfs} s")
    print(f"ok: {first['jobs']} jobs, identical twice; mean wait easy {easy:.0f} s <= fcfs {fcfs:.0f} s")


if __name__ == "__main__":
    main()
