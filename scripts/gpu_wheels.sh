#!/usr/bin/env bash
# Fetch what a lent GPU machine (Python 3.12, x86_64, no network; torch, transformers, peft, accelerate, safetensors,
# numpy and pyyaml already there) lacks to run benchmarks/gpu_check.py and `llm-agents train`: the wheels below, with
# no dependencies, into gpu-wheels/ (ignored by git), plus SmolLM2's tokenizer (for the timings' prompt lengths) from
# the embedded model's cache when it is built. Prints each file's size and the total against the 64 MiB that may
# travel with the repository (docs/gpu.md).
#
# usage: scripts/gpu_wheels.sh [FOLDER]     (make gpu-wheels)
# PIP overrides the pip used (default .venv/bin/pip).
set -euo pipefail
cd "$(dirname "$0")/.."
FOLDER="${1:-gpu-wheels}"
PIP="${PIP:-.venv/bin/pip}"
LIMIT=$((64 * 1024 * 1024))
# gymnasium needs cloudpickle and farama-notifications; bitsandbytes is the 4-bit path (~43 MB). trl is only for
# llm_agents.integrations (its datasets/pyarrow do not fit; the check does not need it). matplotlib and its
# dependencies (~26 MB) do not fit either: the check runs without them (docs/gpu.md).
WHEELS=(
  gymnasium==1.4.0
  farama-notifications==0.0.6
  cloudpickle==3.1.3
  pettingzoo==1.27.0
  gguf==0.19.0
  bitsandbytes==0.50.2
  trl==1.16.0
)
mkdir -p "$FOLDER"
"$PIP" download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
  --abi abi3 --abi none --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_24_x86_64 --platform manylinux_2_28_x86_64 --platform any -d "$FOLDER" "${WHEELS[@]}"
CACHE="${MORAL_MATRIX_GAMES_CACHE:-$HOME/.cache/moral-matrix-games}/smollm2-135m-instruct-q4_1"
if [ -f "$CACHE/tokenizer.json" ]; then
  mkdir -p "$FOLDER/smollm2-tokenizer"
  cp "$CACHE"/tokenizer.json "$CACHE"/tokenizer_config.json "$FOLDER/smollm2-tokenizer/"
  [ -f "$CACHE/chat_template.jinja" ] && cp "$CACHE/chat_template.jinja" "$FOLDER/smollm2-tokenizer/"
else
  echo "no SmolLM2 cache at $CACHE (load the embedded model once to build it): the timings will use the tiny tokenizer"
fi
REPO=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -1 | cut -f1)
WHEEL_BYTES=$(du -cb "$FOLDER" | tail -1 | cut -f1)
( cd "$FOLDER" && find . -type f -printf '%10s  %P\n' | sort -k2 )
TOTAL=$((REPO + WHEEL_BYTES))
printf '%s: %.1f MiB; repository %.1f MiB; together %.1f MiB of %d MiB%s\n' "$FOLDER" \
  "$(echo "$WHEEL_BYTES / 1048576" | bc -l)" "$(echo "$REPO / 1048576" | bc -l)" "$(echo "$TOTAL / 1048576" | bc -l)" \
  $((LIMIT / 1048576)) "$([ "$TOTAL" -le "$LIMIT" ] && echo "" || echo ": OVER THE LIMIT")"
[ "$TOTAL" -le "$LIMIT" ]
