"""The README's shell block, pasted line by line as a newcomer would, in a fresh folder holding the repository's
configs: every line exits 0 and writes what it says.

Two lines are shortened, and only by options the README documents: training runs 2 updates (``--set episodes=2``)
instead of the demo's 25, and the grid (a whole study, hours on a CPU) is loaded, validated and listed
(``--dry-run``) instead of trained. Everything else runs exactly as written, the embedded model included.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHORTER = {"train": ["--set", "episodes=2"], "grid": ["--dry-run"]}


def readme_shell_lines() -> list[str]:
    """The commands of the README's "From the shell" block, without their comments."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"From the shell:\s*```bash\n(.*?)```", text, re.S)
    assert block, "the README lost its 'From the shell' block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_block_is_what_this_test_runs():
    commands = [shlex.split(line, comments=True)[:2] for line in readme_shell_lines()]
    assert [c[0] for c in commands] == ["matrix-games"] + ["llm-agents"] * (len(commands) - 1)
    assert {c[1] for c in commands} >= {"tournament", "play", "train", "evaluate", "analyse", "report", "grid"}


@pytest.mark.slow
def test_every_line_of_the_readme_shell_block_works(tmp_path):
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    for line in readme_shell_lines():
        words = shlex.split(line, comments=True)  # as the shell reads it: the comment goes
        words += SHORTER.get(words[1], [])
        if any("*" in word for word in words):  # the shell's glob, as a pasted line would get it
            words = words[:2] + [str(p) for w in words[2:] for p in (sorted(tmp_path.glob(w)) or [w])]
        result = subprocess.run(words, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, f"{line}\n{result.stderr[-2000:]}"
    runs = tmp_path / "runs"
    assert (runs / "mine" / "adapter" / "adapter_config.json").is_file() or any(
        (runs / "mine").rglob("adapter_config.json")
    )
    assert (runs / "eval_ad" / "summary.json").is_file()
    assert any((runs / "exact").iterdir()) and any((runs / "report").iterdir())
