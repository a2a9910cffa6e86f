#!/bin/bash
#SBATCH --job-name=mpi-hello
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --partition=compute
#SBATCH --account=physics
#SBATCH --output=mpi-%j.out
#SBATCH --error=mpi-%j.err

# A typical MPI job: 2 nodes x 4 ranks, 2 cores and 4G per rank.
module load openmpi
export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK
srun ./hello_mpi "$@"
