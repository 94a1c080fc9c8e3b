#!/usr/bin/env bash
# After run_all.sh: the paper's transfer tests on the models of one seed (docs/reproduction.md, "New labels and other
# prompts"): the five games with the paper's unseen test labels action3/action4, and the six other prompts with the
# training labels C/D. Writes $OUT/transfer/{action34,other_prompts}/NAME and a report of each, $OUT/transfer/report_*.
#
#   bash examples/reproduce/transfer.sh          # seed 1
#   SEED=2 bash examples/reproduce/transfer.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-runs/reproduce}"
SEED="${SEED:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export PATH="$PWD/.venv/bin:$PATH"
source examples/reproduce/models.sh

names=(no_fine_tuning)
for entry in "${MODELS[@]}"; do names+=("${entry%% *}"); done

for name in "${names[@]}"; do
  agent=()
  [ "$name" = no_fine_tuning ] || agent=(--adapter "$OUT/train/$name/seed$SEED")
  common=("${agent[@]}" "${TEST_MODEL_FLAGS[@]}" --policy-seed "$SEED"
    --label "$(model_label "$name")" --no-figures)
  [ -f "$OUT/transfer/action34/$name/summary.json" ] ||
    llm-agents evaluate "${common[@]}" --labels action3,action4 --other-prompts none --out "$OUT/transfer/action34/$name"
  [ -f "$OUT/transfer/other_prompts/$name/summary.json" ] ||
    llm-agents evaluate "${common[@]}" --labels C,D --games IPD-v0 --out "$OUT/transfer/other_prompts/$name"
done
for test in action34 other_prompts; do
  llm-agents report "$OUT/transfer/$test" --out "$OUT/transfer/report_$test"
done
