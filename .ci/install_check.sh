#!/usr/bin/env bash
# Run the README's install lines (between <!-- install --> and <!-- /install -->) as written, in a fresh virtual
# environment, then check that both packages import and both console scripts answer. TORCH_SPEC (CI: the CPU build on
# this machine's disk) is installed first, so the README's torch range is already satisfied and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$PYTHON" -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
pip install --quiet "$TORCH_SPEC"
lines="$(sed -n '/<!-- install -->/,/<!-- \/install -->/p' README.md | grep '^pip install')"
[ -n "$lines" ] || { echo "install_check: no install lines found in README.md" >&2; exit 1; }
while IFS= read -r line; do
  echo "+ $line"
  eval "${line%%#*} --quiet"
done <<<"$lines"
python -c "import matrix_games, llm_agents, llm_agents.training; print('imports ok')"
llm-agents --help >/dev/null && matrix-games list >/dev/null && echo "console scripts ok"
