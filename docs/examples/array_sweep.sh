#!/bin/bash
# A parameter sweep as a job array: six tasks, at most two running at once.
# Task N reads line N of array_params.txt and writes results/sweep_N.txt.
#
#   mkdir -p logs results        # Slurm does not create the output folder
#   sbatch array_sweep.sh
#
#SBATCH --job-name=sweep
#SBATCH --array=0-5%2
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=1G
#SBATCH --time=0-00:10:00
#SBATCH --output=logs/%x_%A_%a.out
#SBATCH --error=logs/%x_%A_%a.err

set -euo pipefail

PARAMS=array_params.txt
# Skip the comment lines, then take this task's line (indices start at 0).
mapfile -t lines < <(grep -v '^#' "$PARAMS")
if [ "${#lines[@]}" -ne "$SLURM_ARRAY_TASK_COUNT" ]; then
    echo "$PARAMS has ${#lines[@]} lines for $SLURM_ARRAY_TASK_COUNT tasks" >&2
    exit 1
fi
read -r lr batch <<< "${lines[$SLURM_ARRAY_TASK_ID]}"

echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT" \
     "(array $SLURM_ARRAY_JOB_ID, job $SLURM_JOB_ID, indices $SLURM_ARRAY_TASK_MIN-$SLURM_ARRAY_TASK_MAX)" \
     "on $SLURMD_NODENAME: lr=$lr batch=$batch"

# Stand-in for the training run.
sleep 1
mkdir -p results
echo "$SLURM_ARRAY_TASK_ID $lr $batch loss=$(awk -v lr="$lr" -v b="$batch" 'BEGIN { printf "%.4f", lr * 100 / b }')" \
    > "results/sweep_${SLURM_ARRAY_TASK_ID}.txt"
