#!/bin/bash
# A long computation run as a chain of jobs that each fit the time limit:
# every stage resumes from the last checkpoint, does its share, and submits
# the next stage, which starts only once this one has COMPLETED (afterok).
# A failed stage breaks the chain instead of running on bad state.
#
#   sbatch chain.sh            # stage 1; stages 2 and 3 submit themselves
#
#SBATCH --job-name=chain
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=1G
#SBATCH --time=00:05:00
#SBATCH --output=chain-%j.out

set -euo pipefail

STAGE=${1:-1}
LAST_STAGE=3
CKPT=chain.ckpt

done_steps=0
[ -f "$CKPT" ] && done_steps=$(cat "$CKPT")
echo "stage $STAGE/$LAST_STAGE (job $SLURM_JOB_ID on $SLURMD_NODENAME): resuming at step $done_steps"

# Stand-in for the real work: ten steps a stage, checkpointed.
for ((i = 0; i < 10; i++)); do
    done_steps=$((done_steps + 1))
done
echo "$done_steps" > "$CKPT"
echo "stage $STAGE job $SLURM_JOB_ID steps $done_steps" >> chain.log

if [ "$STAGE" -lt "$LAST_STAGE" ]; then
    next=$(sbatch --parsable --dependency=afterok:"$SLURM_JOB_ID" \
           "$SLURM_SUBMIT_DIR/chain.sh" $((STAGE + 1)))
    echo "stage $((STAGE + 1)) is job $next"
else
    echo "chain finished after $done_steps steps"
fi
