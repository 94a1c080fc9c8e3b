#!/usr/bin/env bash
# The paper's full-size Fig. 4 run (docs/reproduction.md, "The full-size run"): Gemma-2-2b-it in 4-bit with LoRA r=64,
# 1000 PPO updates of one 5-round game against tit-for-tat, the paper's five seeds, each model tested with the
# paper's protocol (new labels action3/action4, random opponent, 10 x 5 rounds per game, seed 100, xi 4).
# Needs a CUDA GPU, the [qlora] extra and google/gemma-2-2b-it in the local Hugging Face cache (or MODEL=a folder).
# 30 training runs and 35 evaluations in all; the paper ran on one A100 or V100 GPU (docs/paper.md).
#
#   bash examples/reproduce/run_paper_gpu.sh                  # everything, one job at a time
#   SEEDS="1" CONFIGS="utilitarian" bash examples/reproduce/run_paper_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-runs/paper}"
SEEDS="${SEEDS:-1 2 3 5 6}"
MODEL="${MODEL:-google/gemma-2-2b-it}"
CONFIGS="${CONFIGS:-game deontological utilitarian game_deontological game_then_deontological game_then_utilitarian}"

for seed in $SEEDS; do
  for name in $CONFIGS; do
    run="$OUT/train/$name/seed$seed"
    if [ ! -f "$run/summary.json" ]; then
      resume=()
      [ -f "$run/config.yaml" ] && resume=(--resume)
      llm-agents train --config "configs/paper/${name}_vs_tit_for_tat.yaml" --model "$MODEL" --seed "$seed" \
        --output-dir "$run" "${resume[@]}"
    fi
    [ -f "$OUT/eval/$name/seed$seed/summary.json" ] ||
      llm-agents evaluate --model "$MODEL" --adapter "$run" --device cuda --quantization 4bit --policy-seed "$seed" \
        --out "$OUT/eval/$name/seed$seed"
  done
  # the paper's "no fine-tuning": the base model, same protocol
  [ -f "$OUT/eval/no_fine_tuning/seed$seed/summary.json" ] ||
    llm-agents evaluate --model "$MODEL" --device cuda --quantization 4bit --policy-seed "$seed" --label "No fine-tuning" \
      --out "$OUT/eval/no_fine_tuning/seed$seed"
done
llm-agents report "$OUT"/train/*/seed* "$OUT"/eval/*/seed* --out "$OUT/report"
echo "report: $OUT/report/report.md"
