#!/usr/bin/env bash
# Train (unless NAME is no_fine_tuning) and evaluate one model of the reproduction: one_model.sh NAME REWARD SEED.
# Called by run_all.sh; needs OUT. Skips a finished step; resumes an interrupted training run.
set -euo pipefail
name="$1" reward="$2" seed="$3"
run="$OUT/train/$name/seed$seed"
eval_dir="$OUT/eval/$name/seed$seed"
mkdir -p "$OUT/logs"
log="$OUT/logs/$name-seed$seed.log"

source examples/reproduce/models.sh
label="$(model_label "$name")"

agent=()
if [ "$name" != no_fine_tuning ]; then
  if [ ! -f "$run/summary.json" ]; then
    resume=()
    [ -f "$run/config.yaml" ] && resume=(--resume)
    echo "$(date +%T) train $name seed $seed"
    llm-agents train --config configs/reproduce/cpu.yaml --reward "$reward" --seed "$seed" --output-dir "$run" \
      --no-progress "${resume[@]}" >>"$log" 2>&1
  fi
  agent=(--adapter "$run")
fi

if [ ! -f "$eval_dir/summary.json" ]; then
  echo "$(date +%T) evaluate $name seed $seed"
  # the test protocol: the paper's (random opponent, 10 episodes x 5 rounds per game, seed 100, xi 4) with the
  # training labels C/D, since SmolLM2-135M answers no unseen label legally, and without the "other prompts"
  # section, which would double its time (docs/reproduction.md)
  llm-agents evaluate "${agent[@]}" "${TEST_MODEL_FLAGS[@]}" --labels C,D \
    --other-prompts none --policy-seed "$seed" --label "$label" --out "$eval_dir" >>"$log" 2>&1
fi
echo "$(date +%T) done $name seed $seed"
