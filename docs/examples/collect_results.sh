#!/bin/bash
# The reduce step after array_sweep.sh: reads every task's result and
# reports the best one. submit_pipeline.sh submits it with
# --dependency=afterok:<array id>, so it starts once every task of the
# array has completed (and never, if one failed).
#
#SBATCH --job-name=collect
#SBATCH --ntasks=1
#SBATCH --mem=512M
#SBATCH --time=5
#SBATCH --output=collect-%j.out

set -euo pipefail

shopt -s nullglob
results=(results/sweep_*.txt)
echo "collect (job $SLURM_JOB_ID): ${#results[@]} results"
if [ "${#results[@]}" -eq 0 ]; then
    echo "no results: did the sweep run?" >&2
    exit 1
fi
# Lines read "INDEX LR BATCH loss=VALUE": the lowest loss wins.
best=$(sed 's/loss=//' "${results[@]}" | sort -g -k4 | head -n 1)
read -r index lr batch loss <<< "$best"
echo "best: task $index lr=$lr batch=$batch loss=$loss"
