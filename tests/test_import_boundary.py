"""``import matrix_games`` stays light: no torch, no transformers (they take seconds and are an extra)."""

from __future__ import annotations

import subprocess
import sys


def test_matrix_games_does_not_import_the_llm_stack():
    code = (
        "import sys, gymnasium, matrix_games\n"
        "gymnasium.make('matrix_games/IPD-v0').reset(seed=0)\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_gymnasium_make_imports_the_package_itself():
    code = "import gymnasium; env = gymnasium.make('matrix_games:matrix_games/StagHunt-v0'); env.reset(seed=0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
