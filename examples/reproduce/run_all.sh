#!/usr/bin/env bash
# Reproduce the paper's Fig. 4 at CPU scale (docs/reproduction.md): the seven configurations against tit-for-tat,
# three seeds each, every model evaluated on all five games, then one report across them all.
#
#   bash examples/reproduce/run_all.sh            # everything, two jobs at a time on one thread each
#   JOBS=1 SEEDS="1" bash examples/reproduce/run_all.sh   # one seed, one job
#
# Rerunning skips what is finished and resumes an interrupted training run from its last checkpoint.
# Models: examples/reproduce/models.sh; training: configs/reproduce/cpu.yaml; test protocol: one_model.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OUT="${OUT:-runs/reproduce}"
SEEDS="${SEEDS:-1 2 3}"
JOBS="${JOBS:-2}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PATH="$PWD/.venv/bin:$PATH"

source examples/reproduce/models.sh

jobs_list() {
  for seed in $SEEDS; do
    echo "no_fine_tuning - $seed"
    for entry in "${MODELS[@]}"; do echo "$entry $seed"; done
  done
}

jobs_list | xargs -P "$JOBS" -L 1 bash examples/reproduce/one_model.sh
llm-agents report "$OUT"/train/*/seed* "$OUT"/eval/*/seed* --out "$OUT/report"
echo "report: $OUT/report/report.md"
