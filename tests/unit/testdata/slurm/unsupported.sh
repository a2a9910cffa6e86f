#!/bin/bash
#SBATCH --job-name=notify
#SBATCH --nodes=1
#SBATCH --time=10
#SBATCH --mail-type=END,FAIL
#SBATCH --mail-user=ada@example.org

hostname
