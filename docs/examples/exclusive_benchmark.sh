#!/bin/bash
# A benchmark that must have its node to itself, started a little later and
# kept off a node known to be slow.
#
#   sbatch exclusive_benchmark.sh
#
#SBATCH --job-name=bench
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --exclusive            # no other job on the node while this one runs
#SBATCH --exclude=node1        # the node with the slow disk
#SBATCH --begin=now+5          # not before five seconds from submission
#SBATCH --time=10
#SBATCH --output=bench-%j.out

set -eu

export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK
echo "benchmark job $SLURM_JOB_ID on $SLURMD_NODENAME with $OMP_NUM_THREADS threads"
echo "cpus on the node: $SLURM_CPUS_ON_NODE"
# Stand-in for the benchmark binary: a timed loop.
srun bash -c 'echo "timing loop on $SLURMD_NODENAME"
              start=$(date +%s%N)
              i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done
              echo "loop done in $(( ($(date +%s%N) - start) / 1000000 )) ms"'
