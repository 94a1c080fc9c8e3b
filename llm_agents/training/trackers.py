"""Live views of a run: its progress bar, and optional trackers (TensorBoard, Weights & Biases) imported only when
asked for.

The run folder's JSONL logs are always written; a tracker is a second, live view of the same numbers. Credentials
are the tracker's own business (``WANDB_API_KEY`` etc. in the environment); nothing here reads or stores them.
"""

from __future__ import annotations

import importlib
import math
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matrix_games.core.records import RoundLog
from matrix_games.metrics import rates


class Tracker:
    """Logs scalar dictionaries by step; this base class does nothing (``tracker="none"``)."""

    def log(self, values: dict[str, float], step: int) -> None:
        """Record ``values`` at ``step`` (non-finite values are skipped)."""

    def close(self) -> None:
        """Flush and release the tracker."""


class TensorBoardTracker(Tracker):
    """Writes TensorBoard event files to ``<run folder>/tensorboard``."""

    def __init__(self, log_dir: Path) -> None:
        module = _import("torch.utils.tensorboard", "tensorboard", "pip install tensorboard")
        self._writer = module.SummaryWriter(log_dir=str(log_dir))

    def log(self, values: dict[str, float], step: int) -> None:
        for key, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._writer.add_scalar(key, value, step)

    def close(self) -> None:
        self._writer.close()


class WandbTracker(Tracker):
    """Logs to a Weights & Biases run (project ``moral-matrix-games``, named after the run folder)."""

    def __init__(self, run_dir: Path, config: dict[str, Any], *, resume: bool) -> None:
        self._wandb = _import("wandb", "wandb", "pip install wandb")
        self._run = self._wandb.init(
            project="moral-matrix-games",
            name=run_dir.name,
            dir=str(run_dir),
            config=config,
            resume="allow" if resume else None,
        )

    def log(self, values: dict[str, float], step: int) -> None:
        finite = {k: v for k, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}
        self._run.log(finite, step=step)

    def close(self) -> None:
        self._run.finish()


class Trackers(Tracker):
    """Several trackers as one: each gets every value."""

    def __init__(self, *trackers: Tracker) -> None:
        self.trackers = trackers

    def log(self, values: dict[str, float], step: int) -> None:
        for tracker in self.trackers:
            tracker.log(values, step)

    def close(self) -> None:
        for tracker in self.trackers:
            tracker.close()


def make_tracker(name: str, run_dir: Path, config: dict[str, Any], *, resume: bool = False) -> Tracker:
    """The tracker called ``name`` ("none", "tensorboard" or "wandb")."""
    if name == "none":
        return Tracker()
    if name == "tensorboard":
        return TensorBoardTracker(run_dir / "tensorboard")
    if name == "wandb":
        return WandbTracker(run_dir, config, resume=resume)
    raise ValueError(f"Unknown tracker {name!r}: expected 'none', 'tensorboard' or 'wandb'.")


def _import(module: str, package: str, install: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"tracker={package!r} needs the {package!r} package, which is not installed: run `{install}`, "
            "or use tracker='none' (the run folder's JSONL logs are always written)."
        ) from error


class ProgressBar:
    """A tqdm bar over episodes with each learner's cooperation and illegal rates over recent episodes.

    ``update`` also returns the episode's rates (``matrix_games.metrics.rates``), for a tracker.
    """

    def __init__(self, players: Sequence[str], episodes: int, start: int, *, enabled: bool = True) -> None:
        from tqdm.auto import tqdm

        self.players = tuple(players)
        self.window = max(1, min(50, round(episodes * 0.1)))
        self.recent: dict[str, deque[list[RoundLog]]] = {p: deque(maxlen=self.window) for p in self.players}
        self.bar = tqdm(total=episodes, initial=start, desc="train", unit="ep", disable=not enabled)

    def update(self, logs: Sequence[RoundLog]) -> dict[str, float]:
        values: dict[str, float] = {}
        postfix = {}
        for player in self.players:
            own = [log for log in logs if log.player == player]
            self.recent[player].append(own)
            recent = rates(log for episode in self.recent[player] for log in episode)
            suffix = "" if len(self.players) == 1 else player[-1]
            postfix[f"coop{suffix}"] = f"{recent['cooperation_rate']:.2f}"
            postfix[f"illegal{suffix}"] = f"{recent['illegal_rate']:.2f}"
            now = rates(own)
            for key in ("cooperation_rate", "illegal_rate", "mean_training_reward"):
                values[f"{player}/env/{key}"] = now[key]
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)
        return values

    def close(self) -> None:
        self.bar.close()
