#!/usr/bin/env bash
# The public goods experiment (docs/public_goods.md): the embedded model trained in a 4-player public goods game
# against conditional cooperators with the deontological and the utilitarian reward, three seeds each, every model
# tested on the paper's five games and the public goods game, then one report: the grid
# configs/grids/public_goods_cpu.yaml on Ray Tune (docs/grids.md), two trials at a time on one CPU each.
#
#   bash examples/public_goods/run_all.sh                  # everything; rerun it to resume after an interruption
#   BACKEND=local bash examples/public_goods/run_all.sh    # without Ray: the trials one after another
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PATH="$PWD/.venv/bin:$PATH"
resume=()
[ -f runs/public_goods/grid.json ] && resume=(--resume)
llm-agents grid configs/grids/public_goods_cpu.yaml --backend "${BACKEND:-ray}" "${resume[@]}"
