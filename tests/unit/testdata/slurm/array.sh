#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --array=1-10%2
#SBATCH --output=sweep-%A_%a.out

python sweep.py --index "$SLURM_ARRAY_TASK_ID"
