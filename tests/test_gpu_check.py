"""benchmarks/gpu_check.py on a CPU with ``--tiny``: the same code a lent GPU runs (docs/gpu.md), so that the one
command given to a GPU is known to work before its minutes are spent.

The command runs once per session (about a minute on one core); the tests read its exit status, printed table and
JSON file.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
CHECKS = {
    "train+resume+evaluate[float32]",
    "train+resume+evaluate[bfloat16]",
    "tree=padded[llama]",
    "tree=padded[gemma2]",
    "qlora-4bit",
    "grpo",
    "exact-analysis",
}
NUMBERS = ("generation_s", "update_s", "episode_s", "peak_memory_gib", "projected_1000_h", "paper_1000_h")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check") / "table.json"
    command = [sys.executable, str(SCRIPT), "--device", "cpu", "--tiny", "--out", str(out)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, env=environment)
    return result, json.loads(out.read_text()) if out.is_file() else None


def test_the_tiny_run_passes_every_check_that_applies_on_a_cpu(tiny_run):
    result, table = tiny_run
    assert table is not None, result.stderr[-2000:]
    failed = {row["check"]: row["detail"] for row in table["checks"] if row["status"] != "PASS"}
    assert failed == {"qlora-4bit": failed.get("qlora-4bit")}, failed  # 4 bits need CUDA: SKIP
    assert {row["check"] for row in table["checks"]} == CHECKS
    assert [row["status"] for row in table["checks"] if row["check"] == "qlora-4bit"] == ["SKIP"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "PASS  tree=padded[llama]" in result.stdout


def test_the_json_table_has_a_finite_row_per_timing(tiny_run):
    _, table = tiny_run
    assert (table["device"], table["tiny"], table["failures"]) == ("cpu", True, 0)
    rows = table["timings"]
    assert {(row["model"], row["weights"], row["algorithm"]) for row in rows} == {
        (model, weights, algorithm)
        for model, weights in (
            ("tiny gemma-2-shaped", "nf4"),
            ("tiny gemma-2-shaped", "bfloat16"),
            ("tiny smollm2-shaped", "bfloat16"),
        )
        for algorithm in ("ppo", "grpo")
    }
    assert {row["batching"] for row in rows if row["model"] == "tiny smollm2-shaped"} == {"padded", "tree"}
    for row in rows:
        if row["weights"] == "nf4":
            assert row["status"] == "SKIP" and "CUDA" in row["detail"]
            continue
        assert row["status"] == "PASS", row
        assert all(isinstance(row[key], float) and math.isfinite(row[key]) and row[key] > 0 for key in NUMBERS), row
        assert row["episodes_timed"] == table["episodes"] == 2
        assert row["prompt_tokens"] > 50  # the paper's prompt, in the tiny tokenizer's words
        assert row["projected_1000_h"] == pytest.approx(1000 * row["episode_s"] / 3600)


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return gpu_check


def test_a_missing_package_stops_at_once_with_one_line(gpu_check, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gpu_check, "REQUIRED", (*gpu_check.REQUIRED, "no_such_package_for_gpu_check"))
    assert gpu_check.main(["--device", "cpu", "--tiny", "--out", str(tmp_path / "x.json")]) == 2
    assert "missing packages no_such_package_for_gpu_check" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
