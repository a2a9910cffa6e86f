#!/bin/bash
# An MPI-style job: 4 tasks on 2 nodes, started by srun (srun is the MPI
# launcher on most Slurm sites: PMIx wires the ranks up). Each task prints
# who it is, as an MPI hello world does with MPI_Comm_rank/MPI_Comm_size.
#
#   sbatch mpi_hello.sh
#
#SBATCH --job-name=mpi-hello
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=2          # 2 OpenMP threads per rank
#SBATCH --mem-per-cpu=512M
#SBATCH --time=10:00
#SBATCH --output=mpi-hello-%j.out
#SBATCH --hint=nomultithread
#SBATCH --distribution=block:block

# Hybrid MPI+OpenMP: each rank uses the cpus it was given.
export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK

echo "nodes: $SLURM_JOB_NODELIST ($SLURM_JOB_NUM_NODES), tasks: $SLURM_NTASKS ($SLURM_TASKS_PER_NODE)"

# Stage the input onto each node's local scratch first: one task per node.
srun --ntasks-per-node=1 bash -c \
    'mkdir -p "$TMPDIR/input" && echo "staged on $SLURMD_NODENAME"'

# The application: one rank per task of the allocation.
srun --mpi=pmix bash -c 'echo "hello from rank $SLURM_PROCID of $SLURM_NTASKS" \
    "(local $SLURM_LOCALID, node $SLURM_NODEID $SLURMD_NODENAME," \
    "threads $OMP_NUM_THREADS)"'

# A serial post-processing step on the first node.
srun -n 1 -N 1 bash -c 'echo "post-processing on $SLURMD_NODENAME"'
