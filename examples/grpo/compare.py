"""Compare training runs per update: cooperation, illegal answers and time, mean over seeds (docs/grpo.md).

Reads a grid's run folders, ``GRID/train/NAME/seedS`` (``configs/grids/grpo_vs_ppo.yaml``), groups them by NAME,
and prints one markdown table per NAME (the first update at which the seed mean reached 0.9 cooperation, the
cooperation and illegal rates at a few updates, seconds per update) and draws cooperation per update, one panel per
training reward, into ``GRID/compare.png``.

    python examples/grpo/compare.py runs/grpo_vs_ppo
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from llm_agents.runs.folder import RunFolder, read_jsonl
from matrix_games.core.actions import ILLEGAL, C


def per_update(run: Path) -> dict[str, np.ndarray]:
    """One run's cooperation and illegal rates per update (its played rounds) and seconds per update."""
    rounds = RunFolder(run).read_rounds()
    episodes = 1 + max(log.episode for log in rounds)
    actions = collections.defaultdict(list)
    for log in rounds:
        actions[log.episode].append(log.outcome.action)
    seconds: dict[int, float] = collections.defaultdict(float)
    rollout: dict[int, float] = {}
    log = next(run / name for name in ("grpo.jsonl", "ppo.jsonl") if (run / name).exists())
    for line in read_jsonl(log):  # one line per learner and update; the rollout is shared
        seconds[line["episode"]] += line.get("time/ppo/total", line.get("time/grpo/total", 0.0))
        rollout[line["episode"]] = line.get("time/rollout", 0.0)
    return {
        "cooperation": np.array([np.mean([a == C for a in actions[e]]) for e in range(episodes)]),
        "illegal": np.array([np.mean([a == ILLEGAL for a in actions[e]]) for e in range(episodes)]),
        "seconds": np.array([seconds[e] + rollout.get(e, 0.0) for e in range(episodes)]),
    }


def load(grid: Path) -> dict[str, list[dict[str, np.ndarray]]]:
    """Every run below ``grid/train``, by NAME (its seeds together)."""
    runs = collections.defaultdict(list)
    for config in sorted((grid / "train").glob("*/seed*/config.yaml")):
        runs[config.parent.parent.name].append(per_update(config.parent))
    if not runs:
        raise SystemExit(f"No runs in {grid}/train/NAME/seedS: pass a grid's output_dir, e.g. runs/grpo_vs_ppo.")
    return dict(runs)


def table(runs: dict[str, list[dict[str, np.ndarray]]], at: list[int]) -> str:
    """A markdown table: per NAME, seeds, first update with mean cooperation >= 0.9, rates at ``at``, s/update."""
    header = ["runs", "seeds", "coop >= 0.9 from", *(f"coop / illegal @{u}" for u in at), "s / update"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, seeds in runs.items():
        length = min(len(s["cooperation"]) for s in seeds)
        cooperation = np.mean([s["cooperation"][:length] for s in seeds], axis=0)
        illegal = np.mean([s["illegal"][:length] for s in seeds], axis=0)
        reached = np.flatnonzero(cooperation >= 0.9)
        first = str(int(reached[0]) + 1) if len(reached) else "never"
        cells = [f"{cooperation[u - 1]:.2f} / {illegal[u - 1]:.2f}" if u <= length else "-" for u in at]
        seconds = np.mean([s["seconds"].mean() for s in seeds])
        lines.append(f"| {name} | {len(seeds)} | {first} | " + " | ".join(cells) + f" | {seconds:.1f} |")
    return "\n".join(lines)


def plot(runs: dict[str, list[dict[str, np.ndarray]]], path: Path) -> Path:
    """Cooperation per update (seed mean, with each seed faint), one panel per training reward (NAME's last part)."""
    rewards = sorted({name.rsplit("_", 1)[-1] for name in runs})
    figure, axes = plt.subplots(1, len(rewards), figsize=(5 * len(rewards), 3.6), squeeze=False, sharey=True)
    for ax, reward in zip(axes[0], rewards, strict=True):
        for index, (name, seeds) in enumerate(item for item in runs.items() if item[0].endswith("_" + reward)):
            colour = f"C{index}"
            length = min(len(s["cooperation"]) for s in seeds)
            for seed in seeds:
                ax.plot(np.arange(1, length + 1), seed["cooperation"][:length], color=colour, alpha=0.25, lw=0.8)
            mean = np.mean([s["cooperation"][:length] for s in seeds], axis=0)
            ax.plot(np.arange(1, length + 1), mean, color=colour, lw=2, label=f"{name.rsplit('_', 1)[0]}")
        ax.set(title=f"{reward} reward", xlabel="update", ylim=(-0.03, 1.03))
        ax.legend(frameon=False, fontsize=8)
    axes[0][0].set_ylabel("cooperation (played rounds)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="a grid's output_dir (it holds train/NAME/seedS)")
    parser.add_argument("--at", default="5,10,15,20,25", help="updates to show rates at [5,10,15,20,25]")
    args = parser.parse_args(argv)
    runs = load(args.grid)
    print(table(runs, [int(u) for u in args.at.split(",")]))
    print(f"wrote {plot(runs, args.grid / 'compare.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
