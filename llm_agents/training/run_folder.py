"""A run folder: where each file of a training run lives, the JSONL logs, and checkpoints that a resume can trust.

Layout::

    output_dir/
      config.yaml                      the resolved TrainConfig
      rounds.jsonl                     one line per learner per round (matrix_games.records.RoundLog, codec.py)
      ppo.jsonl                        one line per PPO step: {"episode", "player", "reward_name", stats...}
      checkpoints/episode_00100/
        adapters/player_0/             the adapter in peft format (kept for every checkpoint)
        state/                         trainer state (PPOTrainer.state_dict: adapter, value head, Adam, KL, score
                                       stats, shuffling generator), sampling generators, episode counter, log sizes;
                                       kept in the latest complete checkpoint only (it is what a resume needs)
        COMPLETE                       written last: a checkpoint without it is ignored
      adapters/player_0/               the final adapter(s)
      action_types.png, summary.json   written at the end

A checkpoint records the byte size of each log when it was taken; resuming cuts the logs back to those sizes, so
the rounds and steps played after the checkpoint are replayed, never duplicated.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matrix_games import codec
from matrix_games.games import get_game
from matrix_games.records import RoundLog

CHECKPOINTS = "checkpoints"
COMPLETE_MARKER = "COMPLETE"
STATE_FILE = "state.pt"


class JsonlLog:
    """An append-only JSON-lines file; ``size()`` is the byte offset a checkpoint records, ``truncate`` cuts back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run

    def write(self, record: dict[str, Any] | RoundLog) -> None:
        line = codec.dumps(record) if isinstance(record, RoundLog) else json.dumps(_finite(record), ensure_ascii=False)
        self._handle.write(line + "\n")

    def flush(self) -> None:
        self._handle.flush()

    def size(self) -> int:
        self.flush()
        return self.path.stat().st_size

    def close(self) -> None:
        self._handle.close()

    @staticmethod
    def truncate(path: Path, size: int) -> None:
        """Cut ``path`` back to its first ``size`` bytes (a size a checkpoint recorded)."""
        if path.exists() and path.stat().st_size > size:
            os.truncate(path, size)


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON-lines file, in order."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _finite(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities become None (JSON has no such numbers)."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()}


class RunFolder:
    """The paths of one run folder (see the module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def rounds(self) -> Path:
        return self.root / "rounds.jsonl"

    @property
    def ppo(self) -> Path:
        return self.root / "ppo.jsonl"

    @property
    def plot(self) -> Path:
        return self.root / "action_types.png"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS

    def adapter(self, player: str) -> Path:
        """The final adapter of ``player``."""
        return self.root / "adapters" / player

    def checkpoint(self, episodes_done: int) -> Path:
        return self.checkpoints / f"episode_{episodes_done:05d}"

    def holds_a_run(self) -> bool:
        return self.config.exists() or self.rounds.exists()

    def read_config(self) -> dict[str, Any]:
        """The run's ``config.yaml`` as plain data (what the user asked for; older runs saved it resolved)."""
        import yaml

        data = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{self.config} is not a training config (expected a mapping, got {data!r}).")
        return data

    def read_rounds(self, config: dict[str, Any] | None = None) -> list[RoundLog]:
        """Every ``RoundLog`` of ``rounds.jsonl``, also from runs written by version 0.1 (whose rows lack the
        payoffs: they are recomputed from the game in ``config``, by default the run's ``config.yaml``)."""
        return codec.read_jsonl(self.rounds, legacy=_legacy_context(config or self.read_config()))

    def complete_checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        if not self.checkpoints.is_dir():
            return []
        return sorted(p for p in self.checkpoints.iterdir() if (p / COMPLETE_MARKER).is_file())

    def last_resumable_checkpoint(self) -> Path | None:
        """The newest complete checkpoint that still holds its training state."""
        for path in reversed(self.complete_checkpoints()):
            if (path / "state" / STATE_FILE).is_file():
                return path
        return None


def _legacy_context(config: dict[str, Any]) -> codec.Legacy:
    from matrix_games.registration import env_id, game_of

    game = str(config.get("game", "IPD-v0"))
    return codec.Legacy(
        game=get_game(game_of(game)),
        env=env_id(game),
        illegal_reward=float(config.get("illegal_reward", -6.0)),
        labels=tuple(config.get("labels") or ("action1", "action2")),  # type: ignore[arg-type]
    )


def write_checkpoint(
    folder: RunFolder,
    episodes_done: int,
    *,
    save_adapters: Any,
    trainer_states: dict[str, dict[str, Any]],
    run_state: dict[str, Any],
) -> Path:
    """Write ``checkpoints/episode_XXXXX`` and mark it complete; then drop the older checkpoints' training state.

    Args:
        folder: The run folder.
        episodes_done: Episodes finished (the checkpoint's name; a resume starts at this episode index).
        save_adapters: A callable ``save_adapters(directory)`` writing each adapter to ``directory / player``.
        trainer_states: ``PPOTrainer.state_dict()`` of each learner.
        run_state: Everything else a resume needs (generator states, log sizes, ...).
    """
    import torch

    target = folder.checkpoint(episodes_done)
    if target.exists():  # an incomplete leftover of an interrupted save
        shutil.rmtree(target)
    staging = target.with_name(target.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "state").mkdir(parents=True)
    save_adapters(staging / "adapters")
    for player, state in trainer_states.items():
        torch.save(state, staging / "state" / f"trainer_{player}.pt")
    torch.save({**run_state, "episodes_done": episodes_done}, staging / "state" / STATE_FILE)
    (staging / COMPLETE_MARKER).write_text(f"{episodes_done}\n")
    os.replace(staging, target)
    for older in folder.complete_checkpoints():
        if older != target:
            shutil.rmtree(older / "state", ignore_errors=True)
    return target


def read_checkpoint(path: Path, players: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The trainer states (by player) and the run state saved in a checkpoint."""
    import torch

    state_dir = path / "state"
    trainer_states = {}
    for player in players:
        file = state_dir / f"trainer_{player}.pt"
        if not file.is_file():
            raise FileNotFoundError(f"Checkpoint {path} has no trainer state for {player!r} ({file} is missing).")
        trainer_states[player] = torch.load(file, weights_only=False)
    run_state = torch.load(state_dir / STATE_FILE, weights_only=False)
    return trainer_states, run_state
