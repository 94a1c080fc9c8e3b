"""Time training episodes end to end, split into their parts: the plain padded path against the distinct-sequence
(tree) path, in one process on the same machine.

usage: python benchmarks/train_episode.py [--config configs/demo.yaml] [--episodes 5] [--compare] [--set KEY=VALUE]

Runs ``llm_agents.training.train`` for a few episodes of the given config (the demo's by default: the embedded
SmolLM2 on CPU) in a temporary folder and prints, per episode (the median of the episodes after the first, a
warm-up): generation (the rollout, ``time/rollout``), old log-probs (and values), reference log-probs, and the
update's epochs (the trainer's ``time/ppo/*``, or ``time/grpo/*`` with ``--set algorithm=grpo``), with the tokens the
passes computed. ``--compare`` runs the same episodes
(same seed, so the same games) with ``batching=padded`` and then ``batching=tree``, prints both side by side with
the peak resident memory of each, and ends with ``speedup: X.XX`` (plain episode time / tree episode time).

Peak memory is sampled every 10 ms while each path runs, after handing freed memory back to the system between
them (``malloc_trim``); it includes the model. Timings move with the machine and its load: quote them with the
machine, as ratios measured in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch

from llm_agents.agent.models import dtype_choice
from llm_agents.runs.config_files import parse_override
from llm_agents.training import load_config, train

ROOT = Path(__file__).resolve().parent.parent
PARTS = (
    ("generation (rollout of every round)", "time/rollout"),
    ("old log-probs (and PPO's values)", "time/{algorithm}/old_forward_pass"),
    ("reference log-probs", "time/{algorithm}/ref_forward_pass"),
    ("update epochs", "time/{algorithm}/optimize_step"),
)
"""Each part's title and log key; the trainer's keys carry the run's algorithm (``ppo`` or ``grpo``)."""


def resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


class PeakMemory:
    """The highest resident memory seen while the block runs (sampled every 10 ms)."""

    def __enter__(self) -> PeakMemory:
        self.peak, self._running = resident_bytes(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, resident_bytes())
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()


def run(config_path: Path, overrides: dict, episodes: int, batching: str) -> tuple[list[dict], int]:
    """Train ``episodes`` episodes with ``batching``; return each episode's PPO log line and the peak memory."""
    with contextlib.suppress(OSError):  # glibc only: hand freed memory back so the next path's peak is its own
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with tempfile.TemporaryDirectory() as folder:
        settings = dict(overrides, output_dir=folder, episodes=episodes, checkpoint_every=0, progress=False)
        config = load_config(config_path, {**settings, "batching": batching})
        with PeakMemory() as memory:
            train(config)
        log = Path(folder) / f"{config.algorithm}.jsonl"  # each algorithm logs its steps under its own name
        steps = [json.loads(line) for line in log.read_text().splitlines()]
    return steps, memory.peak


def median(steps: list[dict], key: str) -> float:
    later = steps[1:] or steps
    return statistics.median(step.get(key, 0.0) for step in later)


def episode_time(steps: list[dict], algorithm: str) -> float:
    return median(steps, "time/rollout") + median(steps, f"time/{algorithm}/total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "demo.yaml")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="the padded path, then the tree path")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    overrides = dict(parse_override(text) for text in args.settings)
    config = load_config(args.config, overrides)
    paths = ("padded", "tree") if args.compare else (config.batching,)
    results = {path: run(args.config, overrides, args.episodes, path) for path in paths}

    algorithm = config.algorithm
    epochs = config.grpo.epochs if algorithm == "grpo" else config.ppo.ppo_epochs
    print(
        f"{config.model.name} ({dtype_choice(config.model).name}), LoRA r={config.model.lora.r}: {args.episodes} "
        f"episodes of {config.games_per_update} game(s) x {config.num_rounds} rounds (batch "
        f"{config.samples_per_update}), {algorithm} epochs {epochs}; torch threads {torch.get_num_threads()}"
    )
    print(f"per episode, median of episodes 2..{args.episodes} (seconds)\n")
    print(f"{'':44}" + "".join(f"{path:>12}" for path in paths))
    for title, key in PARTS:
        key = key.format(algorithm=algorithm)
        print(f"{title:44}" + "".join(f"{median(results[p][0], key):12.2f}" for p in paths))
    print(f"{'episode total':44}" + "".join(f"{episode_time(results[p][0], algorithm):12.2f}" for p in paths))
    print(
        f"{'tokens per update pass (computed / in batch)':44}"
        + "".join(
            f"{median(results[p][0], 'batch/computed_tokens'):>6.0f}/{median(results[p][0], 'batch/tokens'):<5.0f}"
            for p in paths
        )
    )
    print(f"{'peak resident memory (GB)':44}" + "".join(f"{results[p][1] / 2**30:12.2f}" for p in paths))
    if args.compare:
        speedup = episode_time(results["padded"][0], algorithm) / episode_time(results["tree"][0], algorithm)
        print(f"speedup: {speedup:.2f}")


if __name__ == "__main__":
    main()
