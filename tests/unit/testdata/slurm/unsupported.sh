#!/bin/bash
#SBATCH --job-name=notify
#SBATCH --nodes=1
#SBATCH --time=10
#SBATCH --thread-spec=2
#SBATCH --mail-user=ada@example.org

hostname
