"""A run folder: where each file of a training run lives, its lock, its JSON-lines logs, and its readers.

Layout::

    output_dir/
      .lock                            held (an OS lock) by the process that writes the run; names it
      config.yaml                      the TrainConfig, as asked for
      rounds.jsonl                     one line per learner per round (matrix_games.records.RoundLog, codec.py)
      ppo.jsonl                        one line per PPO step: {"episode", "player", "reward_name", stats...}
      checkpoints/episode_00100/       see checkpoints.py
      adapters/player_0/               the final adapter(s)
      action_types.png, summary.json   written at the end

The lock is an exclusive ``flock`` on ``.lock``, taken before anything else is read or written, by fresh runs and
resumes alike: a second process on the same folder is refused at once, and the lock dies with its process, so a
killed run never leaves a stale one (docs/training.md, "What a run folder guarantees").
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matrix_games import codec
from matrix_games.games import get_game
from matrix_games.records import RoundLog

RUN_FILES = ("config.yaml", "rounds.jsonl", "ppo.jsonl", "summary.json", "action_types.png")
RUN_FOLDERS = ("checkpoints", "adapters", "tensorboard", "wandb")
"""What a run writes; ``--overwrite`` removes exactly these (nothing else in the folder)."""


class RunFolderLocked(ValueError):
    """Another process holds the run folder."""


class JsonlLog:
    """An append-only JSON-lines file; ``size()`` and ``rows()`` are what a checkpoint records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
        self._rows = count_lines(path)

    def write(self, record: dict[str, Any] | RoundLog) -> None:
        line = codec.dumps(record) if isinstance(record, RoundLog) else json.dumps(_finite(record), ensure_ascii=False)
        self._handle.write(line + "\n")
        self._rows += 1

    def flush(self) -> None:
        self._handle.flush()

    def size(self) -> int:
        self.flush()
        return self.path.stat().st_size

    def rows(self) -> int:
        return self._rows

    def close(self) -> None:
        self._handle.close()


def count_lines(path: Path, size: int | None = None) -> int:
    """How many newline-terminated lines the first ``size`` bytes of ``path`` hold (all of it by default)."""
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        data = handle.read() if size is None else handle.read(size)
    return data.count(b"\n")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON-lines file, in order."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _finite(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities become None (JSON has no such numbers)."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()}


@contextlib.contextmanager
def folder_lock(root: Path, lock_file: Path) -> Iterator[None]:
    """Hold an exclusive OS lock (``flock``) on ``lock_file`` for the block, writing the holder's pid and host into
    it; raise ``RunFolderLocked`` naming the holder if another process has it. The lock dies with its process."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    handle = open(lock_file, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunFolderLocked(
                f"{root} is in use by {holder}; wait for it to finish, or choose another output_dir."
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"process {os.getpid()} on {socket.gethostname()} (since {started})\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


class RunFolder:
    """The paths of one run folder (see the module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    config = property(lambda self: self.root / "config.yaml")
    rounds = property(lambda self: self.root / "rounds.jsonl")
    ppo = property(lambda self: self.root / "ppo.jsonl")
    plot = property(lambda self: self.root / "action_types.png")
    summary = property(lambda self: self.root / "summary.json")
    checkpoints = property(lambda self: self.root / "checkpoints")
    lock_file = property(lambda self: self.root / ".lock")

    def adapter(self, player: str) -> Path:
        """The final adapter of ``player``."""
        return self.root / "adapters" / player

    def checkpoint(self, episodes_done: int) -> Path:
        return self.checkpoints / f"episode_{episodes_done:05d}"

    def holds_a_run(self) -> bool:
        return self.config.exists() or self.rounds.exists()

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the folder's exclusive lock for the block; raise ``RunFolderLocked`` naming the holder if taken."""
        return folder_lock(self.root, self.lock_file)

    def clear(self) -> None:
        """Remove the files and folders a run writes (``RUN_FILES``, ``RUN_FOLDERS``), nothing else."""
        for name in RUN_FILES:
            (self.root / name).unlink(missing_ok=True)
        for name in RUN_FOLDERS:
            shutil.rmtree(self.root / name, ignore_errors=True)

    def read_config(self) -> dict[str, Any]:
        """The run's ``config.yaml`` as plain data (what the user asked for; older runs saved it resolved)."""
        from llm_agents.training.config_io import read_yaml

        return read_yaml(self.config)

    def read_rounds(self, config: dict[str, Any] | None = None) -> list[RoundLog]:
        """Every ``RoundLog`` of ``rounds.jsonl``, also from runs written by version 0.1 (whose rows lack the
        payoffs: they are recomputed from the game in ``config``, by default the run's ``config.yaml``)."""
        return codec.read_jsonl(self.rounds, legacy=_legacy_context(config or self.read_config()))


def _legacy_context(config: dict[str, Any]) -> codec.Legacy:
    from matrix_games.registration import env_id, game_of

    game = str(config.get("game", "IPD-v0"))
    labels = config.get("labels")  # version 0.1 runs had one pair (a pool's rounds are never legacy)
    pair = tuple(labels) if isinstance(labels, list) and all(isinstance(x, str) for x in labels) else None
    return codec.Legacy(
        game=get_game(game_of(game)),
        env=env_id(game),
        illegal_reward=float(config.get("illegal_reward", -6.0)),
        labels=pair or ("action1", "action2"),  # type: ignore[arg-type]
    )
