#!/usr/bin/env bash
# The public goods experiment (docs/public_goods.md): the embedded model trained in a 4-player public goods game
# against conditional cooperators with the deontological and the utilitarian reward, three seeds each, every model
# tested on the paper's five games and the public goods game; then one report beside the IPD-trained models of
# examples/reproduce/run_all.sh (if they are there).
#
#   bash examples/public_goods/run_all.sh            # everything, two jobs at a time on one thread each
#   JOBS=1 SEEDS="1" bash examples/public_goods/run_all.sh
#
# Rerunning skips what is finished and resumes an interrupted training run from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OUT="${OUT:-runs/public_goods}"
REPRODUCE="${REPRODUCE:-runs/reproduce}"
SEEDS="${SEEDS:-1 2 3}"
JOBS="${JOBS:-2}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PATH="$PWD/.venv/bin:$PATH"
source examples/reproduce/models.sh  # TEST_MODEL_FLAGS: how every model is loaded for testing
# the test games: the paper's five and the 4-player public goods game
export TEST_GAMES=IPD-v0,StagHunt-v0,Chicken-v0,BachOrStravinsky-v0,DefectiveCoordination-v0,PublicGoods-v0

one_run() {  # one_run REWARD SEED: train (or resume) and evaluate one model
  local reward="$1" seed="$2"
  local run="$OUT/train/$reward/seed$seed" eval_dir="$OUT/eval/$reward/seed$seed"
  local log="$OUT/logs/$reward-seed$seed.log"
  mkdir -p "$OUT/logs"
  if [ ! -f "$run/summary.json" ]; then
    local resume=()
    [ -f "$run/config.yaml" ] && resume=(--resume)
    echo "$(date +%T) train $reward seed $seed"
    llm-agents train --config configs/public_goods/cpu.yaml --reward "$reward" --seed "$seed" --output-dir "$run" \
      --no-progress "${resume[@]}" >>"$log" 2>&1
  fi
  if [ ! -f "$eval_dir/summary.json" ]; then
    echo "$(date +%T) evaluate $reward seed $seed"
    llm-agents evaluate --adapter "$run" "${TEST_MODEL_FLAGS[@]}" --labels C,D --games "$TEST_GAMES" \
      --other-prompts none --policy-seed "$seed" --out "$eval_dir" >>"$log" 2>&1
  fi
  echo "$(date +%T) done $reward seed $seed"
}
export -f one_run

for seed in $SEEDS; do for reward in deontological utilitarian; do echo "$reward $seed"; done; done |
  xargs -P "$JOBS" -L 1 bash -c 'source examples/reproduce/models.sh; one_run "$0" "$1"'
ipd=()
[ -d "$REPRODUCE/eval" ] && ipd=("$REPRODUCE"/train/*/seed* "$REPRODUCE"/eval/*/seed*)
llm-agents report "$OUT"/train/*/seed* "$OUT"/eval/*/seed* "${ipd[@]}" --out "$OUT/report"
echo "report: $OUT/report/report.md"
