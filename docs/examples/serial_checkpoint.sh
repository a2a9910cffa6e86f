#!/bin/bash
# A serial job that outlives its time limit by checkpointing and requeueing
# itself: Slurm sends USR1 to the batch shell (B:) 50 seconds before the
# limit; the handler saves the state and requeues the job, and the next run
# resumes from the checkpoint. --open-mode=append keeps every run's output
# in the one file.
#
#   export INPUT_LABEL=experiment-7     # reaches the job (--export=ALL)
#   sbatch serial_checkpoint.sh
#
#SBATCH --job-name=serial-ckpt
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:01:00
#SBATCH --signal=B:USR1@50
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=serial-%j.out
#SBATCH --export=ALL
#SBATCH --mail-type=END,FAIL
#SBATCH --mail-user=someone@example.org
#SBATCH --comment="checkpointed serial job"

CKPT=serial-$SLURM_JOB_ID.ckpt
TOTAL_STEPS=${TOTAL_STEPS:-15}
LABEL=${INPUT_LABEL:-unlabelled}

step=0
[ -f "$CKPT" ] && step=$(cat "$CKPT")
echo "run $((${SLURM_RESTART_COUNT:-0} + 1)) of job $SLURM_JOB_ID on $SLURMD_NODENAME:" \
     "label $LABEL, starting at step $step of $TOTAL_STEPS"

checkpoint_and_requeue() {
    echo "USR1 at step $step: checkpointing and requeueing"
    echo "$step" > "$CKPT"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
}
trap checkpoint_and_requeue USR1

while [ "$step" -lt "$TOTAL_STEPS" ]; do
    # The work runs in the background so that bash runs the trap at once,
    # not when the step ends.
    sleep 1 &
    wait $!
    step=$((step + 1))
done
echo "$step" > "$CKPT"
echo "finished $TOTAL_STEPS steps"
