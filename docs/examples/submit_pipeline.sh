#!/bin/bash
# Run on the login node (not with sbatch): submits the sweep as a job array,
# then the step that collects its results, which waits for every task of the
# array to complete. sbatch --parsable prints just the job id.
#
#   ./submit_pipeline.sh
#
set -euo pipefail
cd "$(dirname "$0")"

mkdir -p logs results      # sbatch does not create the folders of --output

sweep=$(sbatch --parsable array_sweep.sh)
collect=$(sbatch --parsable --dependency=afterok:"$sweep" --kill-on-invalid-dep=yes collect_results.sh)

echo "sweep: array job $sweep"
echo "collect: job $collect (after the sweep completes)"
echo "watch with: squeue --me"
