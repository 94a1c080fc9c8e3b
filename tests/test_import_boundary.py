"""``import matrix_games`` stays light: no torch, no transformers (they take seconds and are an extra)."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> None:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and fail with its stderr if it fails."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_matrix_games_does_not_import_the_llm_stack():
    code = (
        "import sys, gymnasium, matrix_games\n"
        "gymnasium.make('matrix_games/IPD-v0').reset(seed=0)\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    run_python(code)


def test_gymnasium_make_imports_the_package_itself():
    code = "import gymnasium; env = gymnasium.make('matrix_games:matrix_games/StagHunt-v0'); env.reset(seed=0)"
    run_python(code)


def test_llm_agents_loads_torch_only_when_a_torch_name_is_used():
    code = (
        "import sys, llm_agents\n"
        "assert 'torch' not in sys.modules\n"
        "llm_agents.parse_action('action1', ('action1', 'action2'))\n"
        "assert 'torch' not in sys.modules\n"
        "assert llm_agents.PPOConfig().learning_rate == 1.41e-5 and callable(llm_agents.train)\n"
        "assert 'torch' in sys.modules\n"
    )
    run_python(code)


def test_the_command_line_parser_imports_no_torch():
    code = (
        "import sys\n"
        "from llm_agents.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'peft', 'matplotlib') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    run_python(code)
