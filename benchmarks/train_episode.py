"""Time training episodes end to end, split into their parts: the plain padded path against the distinct-sequence
(tree) path, in one process on the same machine.

usage: python benchmarks/train_episode.py [--config configs/demo.yaml] [--episodes 5] [--compare] [--concurrent N]
                                         [--set KEY=VALUE]

Runs ``llm_agents.training.train`` for a few episodes of the given config (the demo's by default: the embedded
SmolLM2 on CPU) in a temporary folder and prints, per episode (the median of the episodes after the first, a
warm-up): generation (the rollout, ``time/rollout``), old log-probs (and values), reference log-probs, and the
update's epochs (the trainer's ``time/ppo/*``, or ``time/grpo/*`` with ``--set algorithm=grpo``), with the tokens the
passes computed. ``--compare`` runs the same episodes
(same seed, so the same games) with ``batching=padded`` and then ``batching=tree``, prints both side by side with
the peak resident memory of each, the batch's tokens over its distinct tokens (what sharing work alone would give: the
padded path's waste in padding and its slower kernels come on top), and ends with ``speedup: X.XX`` (plain episode
time / tree episode time).

Each part is set against its FLOP floor: ``2 x parameters x distinct tokens`` per forward pass (the parameters
that multiply every token: all but the embedding table; the distinct tokens: the tree path's computed tokens), one
pass for generation, one for the old log-probs, one for the reference, two per epoch (the forward and the backward to
the activations; the frozen base needs no weight gradients), divided by this machine's matmul ceiling, measured
first by a short probe (the best of ~0.5 s of SmolLM2-MLP-sized matmuls in the run's dtype with its threads). The
ratio ``measured / floor`` says how far each part is from what the arithmetic needs.

``--concurrent N`` starts N copies of the same benchmark (tree path) at once, each as its own process with the
automatic thread rule (``llm_agents.threads``), after one alone, and prints each one's episode time and slowdown.

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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from llm_agents.agent.models import dtype_choice, load_model
from llm_agents.runs.config_files import parse_override
from llm_agents.threads import available_cores
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


def run(
    config_path: Path, overrides: dict, episodes: int, batching: str, threads: int | None
) -> tuple[list[dict], int]:
    """Train ``episodes`` episodes with ``batching``; return each episode's PPO log line and the peak memory."""
    with contextlib.suppress(OSError):  # glibc only: hand freed memory back so the next path's peak is its own
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with tempfile.TemporaryDirectory() as folder:
        settings = dict(overrides, output_dir=folder, episodes=episodes, checkpoint_every=0, progress=False)
        settings.setdefault("threads", threads)
        config = load_config(config_path, {**settings, "batching": batching})
        with PeakMemory() as memory:
            train(config)
        log = Path(folder) / f"{config.algorithm}.jsonl"  # each algorithm logs its steps under its own name
        steps = [json.loads(line) for line in log.read_text().splitlines()]
    return steps, memory.peak


def matmul_ceiling(dtype: torch.dtype, seconds: float = 0.5) -> float:
    """This machine's matmul throughput in GFLOP/s: the best of ``seconds`` of (1024 x 576) @ (576 x 1536) products
    (a batch of token positions through SmolLM2's MLP) in ``dtype`` with the current torch threads."""
    m, k, n = 1024, 576, 1536
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(m, k, generator=generator).to(dtype), torch.randn(k, n, generator=generator).to(dtype)
    for _ in range(3):
        a @ b
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def dense_parameters(config) -> int:
    """The parameters that multiply every token: the model's, less its embedding table (tied to the output head,
    which runs on the answer positions only)."""
    model, _ = load_model(config.model)
    embedding = model.get_input_embeddings().weight
    total = sum(p.numel() for p in model.parameters() if p.data_ptr() != embedding.data_ptr())
    del model
    return total


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
    parser.add_argument("--concurrent", type=int, default=0, metavar="N", help="N copies at once against one alone")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one line of results (for --concurrent)
    args = parser.parse_args()
    if args.concurrent:
        return concurrent(args)
    overrides = dict(parse_override(text) for text in args.settings)
    config = load_config(args.config, overrides)
    paths = ("padded", "tree") if args.compare else (config.batching,)
    # alone, every core of this process (the load average lags a minute behind a run that just ended); the copies of
    # --concurrent take the automatic rule, which is what they measure
    threads = None if args.json else available_cores()
    results = {path: run(args.config, overrides, args.episodes, path, threads) for path in paths}
    if args.json:
        steps = results[paths[-1]][0]
        print(json.dumps({"episode": episode_time(steps, config.algorithm), "threads": torch.get_num_threads()}))
        return None
    dtype = dtype_choice(config.model).dtype
    ceiling = matmul_ceiling(dtype)
    parameters = dense_parameters(config)

    algorithm = config.algorithm
    epochs = config.grpo.epochs if algorithm == "grpo" else config.ppo.ppo_epochs
    print(
        f"{config.model.name} ({dtype_choice(config.model).name}), LoRA r={config.model.lora.r}: {args.episodes} "
        f"episodes of {config.games_per_update} game(s) x {config.num_rounds} rounds (batch "
        f"{config.samples_per_update}), {algorithm} epochs {epochs}; torch threads {torch.get_num_threads()}"
    )
    distinct = min(median(results[p][0], "batch/computed_tokens") for p in paths)
    pass_floor = 2 * parameters * distinct / (ceiling * 1e9)
    passes = (1, 1, 1, 2 * epochs)  # generation, old, reference, epochs (forward and backward each)
    print(
        f"matmul ceiling {ceiling:.0f} GFLOP/s ({str(dtype).removeprefix('torch.')}, {torch.get_num_threads()} "
        f"threads); floor per pass: 2 x {parameters / 1e6:.1f}M parameters x {distinct:.0f} distinct tokens = "
        f"{pass_floor:.3f} s"
    )
    print(f"per episode, median of episodes 2..{args.episodes} (seconds; in brackets: x the FLOP floor)\n")
    print(f"{'':44}" + "".join(f"{path:>16}" for path in paths) + f"{'floor':>10}")
    for (title, key), count in zip(PARTS, passes, strict=True):
        key = key.format(algorithm=algorithm)
        floor = count * pass_floor
        cells = "".join(f"{median(results[p][0], key):9.2f} ({median(results[p][0], key) / floor:4.1f})" for p in paths)
        print(f"{title:44}{cells}{floor:10.2f}")
    floor = sum(passes) * pass_floor
    cells = "".join(
        f"{episode_time(results[p][0], algorithm):9.2f} ({episode_time(results[p][0], algorithm) / floor:4.1f})"
        for p in paths
    )
    print(f"{'episode total':44}{cells}{floor:10.2f}")
    print(
        f"{'tokens per update pass (computed / in batch)':44}"
        + "".join(
            f"{median(results[p][0], 'batch/computed_tokens'):>10.0f}/{median(results[p][0], 'batch/tokens'):<5.0f}"
            for p in paths
        )
    )
    print(f"{'peak resident memory (GB)':44}" + "".join(f"{results[p][1] / 2**30:16.2f}" for p in paths))
    if args.compare:
        speedup = episode_time(results["padded"][0], algorithm) / episode_time(results["tree"][0], algorithm)
        # what sharing alone can give: the padded path computes every token of the batch, the tree the distinct ones
        shared = median(results["tree"][0], "batch/tokens") / median(results["tree"][0], "batch/computed_tokens")
        print(f"tokens in the batch / distinct tokens (the speedup from sharing work alone): {shared:.2f}")
        print(f"speedup: {speedup:.2f}")

    return None


def concurrent(args: argparse.Namespace) -> None:
    """One copy alone, then ``args.concurrent`` copies at once; print each one's episode time and slowdown."""
    command = [sys.executable, __file__, "--json", "--config", str(args.config), "--episodes", str(args.episodes)]
    command += [f"--set={text}" for text in args.settings]

    def results(copies: int, extra: tuple[str, ...] = ()) -> list[dict]:
        processes = [subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, text=True) for _ in range(copies)]
        return [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in processes]

    alone = results(1, (f"--set=threads={available_cores()}",))[0]  # one alone takes every core
    print(f"alone: {alone['episode']:.2f} s per episode ({alone['threads']} threads)")
    for index, result in enumerate(results(args.concurrent)):
        print(
            f"copy {index + 1} of {args.concurrent}: {result['episode']:.2f} s per episode "
            f"({result['threads']} threads), {result['episode'] / alone['episode']:.2f}x slower than alone"
        )


if __name__ == "__main__":
    main()
