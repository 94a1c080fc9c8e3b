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
is damaged (truncated, empty, not a torch file) it says which and falls back to the one before. It then reads each
log up to the size the checkpoint recorded and checks it whole before anything changes: the recorded number of
lines, each one JSON, their episodes consecutive from 0 up to the checkpoint's (refusing, with the file, the line and
the fix, if a log was cut, deleted, damaged or had a line inserted); only then are the logs cut back to the recorded
size, so the rounds played after the checkpoint are replayed, never duplicated.

A write that fails for a reason outside the program (a full disk, a read-only folder) raises ``WriteFailed`` with
the fix (``runs.folder.writing``); the checkpoint being written stays ``.partial``, so the one before stays the
newest complete checkpoint.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_agents.runs.folder import COMPLETE_MARKER, RunFolder, complete_checkpoints, count_lines, writing

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
    staging = target.with_name(target.name + ".partial")
    with writing(staging):
        if target.exists():  # an incomplete leftover of an interrupted save
            shutil.rmtree(target)
        if staging.exists():
            shutil.rmtree(staging)
        (staging / "state").mkdir(parents=True)
        save_adapters(staging / "adapters")
        files = {staging / "state" / f"trainer_{player}.pt": state for player, state in trainer_states.items()}
        files[staging / "state" / STATE_FILE] = {**run_state, "episodes_done": episodes_done}
        for file, content in files.items():
            with writing(file):
                torch.save(content, file)
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
    before a log existed has no entry for it) against what it recorded, all of them before any is changed; then cut
    each back to the recorded size.

    Raises:
        ValueError: when a log holds fewer complete lines (or bytes) than the checkpoint recorded, or its part before
            the checkpoint is not what the run wrote (``verify_log``); no log is changed then.
    """
    sizes, rows = point.run_state["log_sizes"], point.run_state.get("log_rows", {})
    cuts = []
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
        verify_log(path, size, None if expected is None else int(expected), point)
        if actual > size:
            cuts.append((path, size))
    for path, size in cuts:
        os.truncate(path, size)


def verify_log(path: Path, size: int, rows: int | None, point: ResumePoint) -> None:
    """Check the first ``size`` bytes of ``path`` (the part checkpoint ``point`` vouches for) whole: ``rows`` lines
    (when recorded), each a JSON record with an ``episode``, the episodes of the rounds and update logs consecutive
    from 0 to the checkpoint's last, those of ``analysis`` never decreasing and at most the checkpoint's.

    Raises:
        ValueError: naming the file, the first bad line and the fix, before anything is trained or cut.
    """
    done = point.episodes_done
    needed = f"its first {rows} lines" if rows is not None else f"its first {size} bytes"
    fix = (
        f"Restore {path.name} from a copy (checkpoint {point.path.name} needs {needed} as the run wrote them), or "
        "start over with --overwrite."
    )

    def refuse(line: int, problem: str) -> ValueError:
        return ValueError(f"Cannot resume {path.parent}: line {line} of {path} {problem}. {fix}")

    consecutive = path.stem != "analysis"  # rounds and updates: every episode; analysis: every analysis_every
    consumed, number, previous = 0, 0, None
    with open(path, "rb") as handle:
        while consumed < size:
            raw, number = handle.readline(), number + 1
            consumed += len(raw)
            if consumed > size or not raw.endswith(b"\n"):
                raise refuse(
                    number,
                    f"runs past the end checkpoint {point.path.name} recorded (byte {size}): a line before it was "
                    "inserted, removed or changed",
                )
            try:
                record = json.loads(raw)
            except ValueError:
                raise refuse(number, "is not a JSON record (damaged)") from None
            episode = record.get("episode") if isinstance(record, dict) else None
            if isinstance(episode, bool) or not isinstance(episode, int):
                raise refuse(number, "has no episode number (damaged)")
            if consecutive:
                allowed = (0,) if previous is None else (previous, previous + 1)
            else:
                allowed = tuple(range(previous or 0, done + 1))
            if episode not in allowed:
                expected = " or ".join(str(e) for e in allowed[:2]) + (" ..." if len(allowed) > 2 else "")
                raise refuse(number, f"is of episode {episode}, where episode {expected} was due")
            previous = episode
    if rows is not None and number != rows:
        raise refuse(
            number,
            f"ends the part checkpoint {point.path.name} recorded ({size} bytes), which held {rows} lines: a line "
            "before it was split or added",
        )
    if consecutive and number and previous != done - 1:
        raise refuse(number, f"is of episode {previous}, but checkpoint {point.path.name} is after episode {done}")
