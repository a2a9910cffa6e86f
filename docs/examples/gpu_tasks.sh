#!/bin/bash
# Batch inference over four GPUs, one task per GPU: Slurm's GPU-centred
# options ask for GPUs for the whole job and size everything else by them.
#
#   sbatch gpu_tasks.sh
#
#SBATCH --job-name=gpu-infer
#SBATCH -G 4                   # --gpus=4: four GPUs for the job, wherever they fit
#SBATCH --ntasks-per-gpu=1     # a task per GPU: four tasks
#SBATCH --cpus-per-gpu=2       # two cpus for each task's GPU
#SBATCH --mem-per-gpu=3G
#SBATCH --time=15:00
#SBATCH --output=gpu-%j.out
#SBATCH --gpu-bind=single:1

set -eu

echo "job $SLURM_JOB_ID: $SLURM_NTASKS tasks on $SLURM_JOB_NODELIST"

# Each task takes the shard of the input that matches its rank and works on
# the GPU it was given (a real job runs e.g. python infer.py --shard ...).
srun bash -c 'echo "task $SLURM_PROCID on $SLURMD_NODENAME:" \
    "shard $SLURM_PROCID/$SLURM_NTASKS CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES" \
    "cpus $SLURM_CPUS_PER_TASK"'
