#!/usr/bin/env bash
# Reproduce the paper's Fig. 4 at CPU scale (docs/reproduction.md): the base model ("no fine-tuning") and the six
# fine-tuned configurations against tit-for-tat, three seeds each, every model evaluated on all five games, then one
# report across them all. The fine-tuned ones are one grid, configs/grids/reproduce_cpu.yaml, on Ray Tune
# (docs/grids.md): two trials at a time on one CPU each, retried when a worker dies.
#
#   bash examples/reproduce/run_all.sh                  # everything; rerun it to resume after an interruption
#   BACKEND=local bash examples/reproduce/run_all.sh    # without Ray: the trials one after another
#
# Models: examples/reproduce/models.sh (and the grid's reward axis, kept equal by tests/test_reproduce_scripts.py);
# training: configs/reproduce/cpu.yaml; the base model's test protocol: one_model.sh, the grid's: its evaluate.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OUT=runs/reproduce  # the grid file's output_dir
SEEDS="1 2 3"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export PATH="$PWD/.venv/bin:$PATH"

# the base model, untrained, once per seed (two at a time); the grid's report includes these evaluations
printf '%s\n' $SEEDS | xargs -P 2 -I {} bash examples/reproduce/one_model.sh no_fine_tuning - {}
resume=()
[ -f "$OUT/grid.json" ] && resume=(--resume)
llm-agents grid configs/grids/reproduce_cpu.yaml --backend "${BACKEND:-ray}" "${resume[@]}"
