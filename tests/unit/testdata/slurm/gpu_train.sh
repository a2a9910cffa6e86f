#!/bin/bash
#
# Fine-tune a model on one node with two GPUs.
#SBATCH -J train-resnet
#SBATCH -n 1
#SBATCH -c8
#SBATCH --gres=gpu:2
#SBATCH --mem 64G
#SBATCH -t 1-12:00:00
#SBATCH -o logs/%x-%j.out   # %x is the job name
#CADRE --gpu-type H100
#SBATCH --chdir="/scratch/ada/run 1"

source venv/bin/activate
python train.py --epochs "${1:-10}"
#SBATCH --mail-type=END
