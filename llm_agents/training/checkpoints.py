"""Checkpoints a resume can trust: written whole or not at all, checked when read, the last two kept whole.

Layout of one::

    checkpoints/episode_00100/
      adapters/player_0/     the adapter in peft format (kept for every checkpoint)
      state/                 trainer state (PPOTrainer.state_dict: adapter, value head, Adam, KL, score stats,
                             shuffling generator, reference memo), sampling generators, the episode counter, and
                             each log's size in bytes and in lines; kept in the newest KEEP_STATES checkpoints
      COMPLETE               written last: a checkpoint without it is ignored

A checkpoint is written in ``episode_X.partial`` and renamed into place, so a kill during the save leaves the
previous checkpoint as the newest complete one. Resuming reads the newest complete checkpoint; if one of its files
is damaged (truncated, empty, not a torch file) it says which and falls back to the one before. It then checks that
each log holds at least the lines the checkpoint recorded (refusing, with both counts, if a log was cut or deleted)
and cuts the logs back to the recorded size, so the rounds played after the checkpoint are replayed, never
duplicated.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_agents.runs.folder import COMPLETE_MARKER, RunFolder, complete_checkpoints, count_lines

STATE_FILE = "state.pt"
KEEP_STATES = 2
"""How many of the newest complete checkpoints keep their training state (the newest, and one to fall back on)."""

UPDATE_LOGS = ("ppo", "grpo")
"""The statistics logs an update may write (``<algorithm>.jsonl``)."""

DAMAGED = (EOFError, OSError, RuntimeError, ValueError, KeyError, AttributeError, pickle.UnpicklingError)
"""What ``torch.load`` raises for a truncated, empty or foreign file."""


@dataclass(frozen=True)
class ResumePoint:
    """A checkpoint read back: where it is, each learner's trainer state, and the run state."""

    path: Path
    trainer_states: dict[str, dict[str, Any]]
    run_state: dict[str, Any]

    @property
    def episodes_done(self) -> int:
        return int(self.run_state["episodes_done"])


def write_checkpoint(
    folder: RunFolder,
    episodes_done: int,
    *,
    save_adapters: Callable[[Path], None],
    trainer_states: dict[str, dict[str, Any]],
    run_state: dict[str, Any],
) -> Path:
    """Write ``checkpoints/episode_XXXXX`` and mark it complete; then drop the training state of all but the newest
    ``KEEP_STATES`` complete checkpoints.

    Args:
        folder: The run folder.
        episodes_done: Episodes finished (the checkpoint's name; a resume starts at this episode index).
        save_adapters: A callable ``save_adapters(directory)`` writing each adapter to ``directory / player``.
        trainer_states: ``PPOTrainer.state_dict()`` of each learner.
        run_state: Everything else a resume needs (generator states, ``log_sizes``, ``log_rows``, ...).
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
    _sync(staging / "state")
    (staging / COMPLETE_MARKER).write_text(f"{episodes_done}\n")
    os.replace(staging, target)
    for older in complete_checkpoints(folder)[:-KEEP_STATES]:
        shutil.rmtree(older / "state", ignore_errors=True)
    return target


def _sync(directory: Path) -> None:
    """Flush the files of ``directory`` to disk, so COMPLETE never lands before what it vouches for."""
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def read_checkpoint(path: Path, players: tuple[str, ...]) -> ResumePoint:
    """Read a checkpoint; a missing or damaged file raises a ValueError that names it."""
    import torch

    state_dir = path / "state"
    files = {player: state_dir / f"trainer_{player}.pt" for player in players} | {None: state_dir / STATE_FILE}
    loaded: dict[Any, Any] = {}
    for key, file in files.items():
        if not file.is_file():
            raise ValueError(f"checkpoint {path.name} is incomplete: {file} is missing")
        try:
            loaded[key] = torch.load(file, weights_only=False)
        except DAMAGED as error:
            raise ValueError(f"checkpoint {path.name} is damaged: {file} cannot be read ({error})") from None
    run_state = loaded.pop(None)
    if not isinstance(run_state, dict) or "episodes_done" not in run_state:
        raise ValueError(f"checkpoint {path.name} is damaged: {files[None]} holds no run state")
    return ResumePoint(path, loaded, run_state)


def resume_point(folder: RunFolder, players: tuple[str, ...]) -> ResumePoint | None:
    """The newest readable complete checkpoint, falling back past damaged ones (said on stderr); None for a folder
    with no log and no checkpoint (nothing was lost: the run starts afresh). A folder with logs but no usable
    checkpoint is refused: starting over must be asked for (``--overwrite``)."""
    problems = []
    for path in reversed(complete_checkpoints(folder)):
        if not (path / "state").is_dir():
            continue
        try:
            point = read_checkpoint(path, players)
        except ValueError as error:
            problems.append(str(error))
            print(f"llm_agents: {error}; trying the checkpoint before it", file=sys.stderr)
            continue
        check_logs(folder, point)
        return point
    rounds = count_lines(folder.rounds)
    updates = sum(count_lines(folder.root / f"{name}.jsonl") for name in UPDATE_LOGS)
    if not problems and not rounds and not updates:
        return None
    found = "; ".join(problems) if problems else f"{folder.checkpoints} holds no complete checkpoint with its state"
    raise ValueError(
        f"Cannot resume {folder.root}: its logs hold {rounds} round lines and {updates} update lines, but "
        f"{found}. Start over with --overwrite (it removes the run's files), or choose another output_dir."
    )


def check_logs(folder: RunFolder, point: ResumePoint) -> None:
    """Check each log the checkpoint recorded (``rounds``, the update statistics, ``analysis``: a checkpoint written
    before a log existed has no entry for it) against what it recorded, then cut it back to the recorded size.

    Raises:
        ValueError: when a log holds fewer complete lines (or bytes) than the checkpoint recorded.
    """
    sizes, rows = point.run_state["log_sizes"], point.run_state.get("log_rows", {})
    for name, recorded in sizes.items():
        path = folder.root / f"{name}.jsonl"
        size = int(recorded)
        actual = path.stat().st_size if path.exists() else 0
        expected = rows.get(name)
        lines = count_lines(path, size)
        if actual < size or (expected is not None and lines < int(expected)):
            raise ValueError(
                f"Cannot resume {folder.root}: {path.name} holds {count_lines(path)} lines ({actual} bytes) but "
                f"checkpoint {point.path.name} recorded {expected if expected is not None else '?'} lines ({size} "
                "bytes): the log was cut or deleted. Restore it, or start over with --overwrite."
            )
        if actual > size:
            os.truncate(path, size)
