#!/bin/bash
# Queue the grading array and, after it, the merge. Run from the course folder:
#   bash templates/slurm/submit.sh            # 8 shards, as grade.sbatch says
#   SHARDS_N=32 bash templates/slurm/submit.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p logs
array=$(sbatch --parsable --array="1-${SHARDS_N:-8}" "$here/grade.sbatch")
sbatch --dependency="afterok:${array%%;*}" "$here/merge.sbatch"
