#!/bin/bash
# Multi-node data-parallel training with torchrun: one torchrun per node
# (srun starts it), each forking one worker per GPU of its node.
#
#   sbatch torchrun_ddp.sh          # on cadre: cadre submit torchrun_ddp.sh
#
#SBATCH --job-name=ddp-train
#SBATCH -N 2
#SBATCH --ntasks-per-node=1        # one torchrun per node; it starts the workers
#SBATCH --gpus-per-node=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=00:30:00
#SBATCH -o %x-%j.out

set -euo pipefail

# The rendezvous lives on the first node of the allocation.
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
# A port derived from the job id, so that two jobs whose first node is the
# same one do not collide.
MASTER_PORT=$((20000 + SLURM_JOB_ID % 10000))
export MASTER_ADDR MASTER_PORT
GPUS_PER_NODE=$SLURM_GPUS_ON_NODE     # 2, from --gpus-per-node
export OMP_NUM_THREADS=$((SLURM_CPUS_PER_TASK / GPUS_PER_NODE))

echo "job $SLURM_JOB_ID ($SLURM_JOB_NAME): $SLURM_NNODES nodes $SLURM_JOB_NODELIST," \
     "rendezvous $MASTER_ADDR:$MASTER_PORT, $GPUS_PER_NODE workers per node"
echo "batch script on $SLURMD_NODENAME sees CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"

# With PyTorch installed, this is
#   srun torchrun --nnodes=... (the same options) train.py --epochs 1
# torchrun_standin.py takes torchrun's options and starts the workers with
# torchrun's environment; each worker checks its rank, GPU and rendezvous
# instead of training, so the example runs without PyTorch.
srun python3 torchrun_standin.py \
    --nnodes="$SLURM_NNODES" \
    --nproc-per-node="$GPUS_PER_NODE" \
    --rdzv-id="$SLURM_JOB_ID" \
    --rdzv-backend=c10d \
    --rdzv-endpoint="$MASTER_ADDR:$MASTER_PORT" \
    train.py --epochs 1

echo "training done"
