#!/bin/bash
#SBATCH --nodes 2
#SBATCH --ntasks-per-node 4
#SBATCH --gres=gpu:a100:4
#SBATCH --mem-per-cpu=6G
#SBATCH -c 4
#SBATCH --time 8:00:00

srun python -m torch.distributed.run train.py
