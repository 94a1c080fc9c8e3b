"""A run killed with SIGKILL at random moments, and resumed each time, ends exactly as an uninterrupted run.

The tiny model trains 24 episodes (a reward switch half way) in a subprocess; the driver kills it at 10 random
moments from the end of its start-up to the end of its life (model loading, episodes, checkpoint writes, the
end-of-run files), resumes it each time (or starts it over explicitly when it died after logging but before its first
checkpoint, as the folder then asks), and finally compares the logs and the final adapter with a run that was never
interrupted.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from llm_agents.training.config_io import config_to_dict
from llm_agents.training.run_folder import read_jsonl

pytestmark = pytest.mark.slow

KILLS = 10


def tiny_config(model_dir: Path, output_dir: Path):
    from llm_agents.agent.config import GenerationConfig, LoRAConfig, ModelConfig
    from llm_agents.training import TrainConfig

    return TrainConfig(
        reward="game:12,utilitarian:12",
        episodes=24,
        rounds_per_episode=2,
        games_per_update=2,
        output_dir=output_dir,
        checkpoint_every=1,
        progress=False,
        model=ModelConfig(name=str(model_dir), device="cpu", dtype="float32", lora=LoRAConfig(r=2, alpha=4)),
        generation=GenerationConfig(max_new_tokens=2),
    )


def command(config_file: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "llm_agents", "train", "--config", str(config_file), *flags]


def run_to_completion(config_file: Path, output_dir: Path) -> subprocess.CompletedProcess:
    flags = ["--resume"] if (output_dir / "config.yaml").exists() else []
    result = subprocess.run(command(config_file, *flags), capture_output=True, text=True, env=ENV, check=False)
    if result.returncode == 2 and "--overwrite" in result.stderr:  # died before its first checkpoint
        result = subprocess.run(
            command(config_file, "--overwrite"), capture_output=True, text=True, env=ENV, check=False
        )
    return result


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(tiny_llama_dir, tmp_path):
    reference_file = tmp_path / "reference.yaml"
    reference_file.write_text(yaml.safe_dump(config_to_dict(tiny_config(tiny_llama_dir, tmp_path / "reference"))))
    started = time.perf_counter()
    reference_run = subprocess.Popen(command(reference_file), env=ENV, stderr=subprocess.DEVNULL)
    while not (tmp_path / "reference" / "rounds.jsonl").exists() and reference_run.poll() is None:
        time.sleep(0.05)
    startup = time.perf_counter() - started  # imports and model loading
    assert reference_run.wait() == 0
    lifetime = time.perf_counter() - started

    killed_dir = tmp_path / "killed"
    killed_file = tmp_path / "killed.yaml"
    killed_file.write_text(yaml.safe_dump(config_to_dict(tiny_config(tiny_llama_dir, killed_dir))))
    rng = random.Random(20261201)
    needs_overwrite, mid_run = True, 0
    for _ in range(KILLS):
        flags = ["--overwrite"] if needs_overwrite else ["--resume"]
        process = subprocess.Popen(command(killed_file, *flags), env=ENV, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.8 * startup, lifetime))
        mid_run += process.poll() is None and (killed_dir / "rounds.jsonl").exists()
        process.send_signal(signal.SIGKILL)
        process.wait()
        # A resume is refused when the run died before its first checkpoint: then the next start overwrites.
        needs_overwrite = process.returncode == 2 and "--overwrite" in (process.stderr.read() or "")
    assert mid_run >= 3, "too few kills landed while episodes were being played"
    final = run_to_completion(killed_file, killed_dir)
    assert final.returncode == 0, final.stderr

    reference, killed = tmp_path / "reference", killed_dir
    assert (killed / "rounds.jsonl").read_text() == (reference / "rounds.jsonl").read_text()

    def steps(folder: Path) -> list[dict]:
        return [{k: v for k, v in s.items() if not k.startswith("time/")} for s in read_jsonl(folder / "ppo.jsonl")]

    assert steps(killed) == steps(reference)
    expected = load_file(reference / "adapters" / "player_0" / "adapter_model.safetensors")
    got = load_file(killed / "adapters" / "player_0" / "adapter_model.safetensors")
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
