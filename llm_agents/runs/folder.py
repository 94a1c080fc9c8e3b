"""A run folder: where each file of a training run lives, its manifest, its lock, its JSON-lines logs, and its
readers. The one owner of the format: training writes it, and evaluation, reporting and the grid read it from here.

Layout::

    output_dir/
      .lock                            held (an OS lock) by the process that writes the run; names it
      config.yaml                      the TrainConfig, as asked for
      rounds.jsonl                     one line per learner per round (matrix_games.records.RoundLog, codec.py)
      ppo.jsonl (grpo.jsonl)           one line per update: {"episode", "player", "reward_name", stats...}
      analysis.jsonl                   every analysis_every updates: each learner's exact P(C) per state
      checkpoints/episode_00100/       see checkpoints.py
      adapters/player_0/               the final adapter(s)
      action_types.png, summary.json   written at the end
      manifest.json                    what this run writes (the entries ``--overwrite`` may remove)

The lock is an exclusive ``flock`` on ``.lock``, taken before anything else is read or written, by fresh runs and
resumes alike: a second process on the same folder is refused at once, and the lock dies with its process, so a
killed run never leaves a stale one (docs/training.md, "What a run folder guarantees").

A write that fails for a reason outside the program (a full disk, a read-only folder, a path too long; torch says
"unexpected pos 64 vs 0") becomes one ``WriteFailed`` naming the path and the fix (``writing``, ``write_failure``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matrix_games import codec
from matrix_games.games import get_game
from matrix_games.records import RoundLog

RUN_FILES = ("config.yaml", "rounds.jsonl", "analysis.jsonl", "summary.json", "action_types.png")
STATISTICS_FILES = ("ppo.jsonl", "grpo.jsonl")
"""Each algorithm's statistics log (``<algorithm>.jsonl``); a GRPO run of version 0.2 wrote ``ppo.jsonl``."""
RUN_FOLDERS = ("checkpoints", "adapters")
TRACKER_FOLDERS = {"tensorboard": "tensorboard", "wandb": "wandb"}
"""What a run writes: its files, its folders, and the folder of its tracker (if any)."""

COMPLETE_MARKER = "COMPLETE"
"""Written last into a checkpoint folder: a checkpoint without it was interrupted and is ignored."""

MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
_FOLDER_ENTRIES = {"checkpoints": re.compile(r"episode_\d+(\.partial)?"), "adapters": re.compile(r"player_\d+")}
"""What a run writes inside its own folders: anything else there was put by someone else."""


def check_output_folder(path: object, setting: str = "output_dir") -> Path:
    """``path`` as a ``Path``, refused when it is empty or is the current folder, the home folder or the root.

    A run folder is removed entry by entry on ``--overwrite``; an empty value (an unset shell variable, ``""`` in
    YAML) means the current folder, which holds other things. Every such value is refused with the fix.
    """
    if not isinstance(path, (str, Path)):
        raise ValueError(f"{setting} must be a folder path, got {path!r}; e.g. {setting}: runs/my_run.")
    text = str(path)
    if not text.strip():
        raise ValueError(
            f"{setting} is empty ({text!r}), which would mean the current folder; give the run a folder of its own, "
            f'e.g. {setting}: runs/my_run (an unset shell variable in --output-dir "$DIR" gives this).'
        )
    if "\0" in text:
        raise ValueError(f"{setting} {text!r} holds a NUL character; give a plain folder path, e.g. runs/my_run.")
    resolved = Path(text).expanduser().resolve()
    forbidden = {Path.cwd().resolve(): "the current folder", Path(resolved.anchor): "the filesystem root"}
    with contextlib.suppress(RuntimeError, KeyError):
        forbidden.setdefault(Path.home().resolve(), "your home folder")
    if resolved in forbidden:
        raise ValueError(
            f"{setting} {text!r} is {forbidden[resolved]} ({resolved}); a run needs a folder of its own, which "
            f"--overwrite may empty: e.g. {setting}: runs/my_run."
        )
    return Path(text)


RUN_FILES_MARGIN = 128
"""Bytes of path kept free below a run's ``output_dir`` for the files it writes inside (checkpoints/episode_.../...)."""


def check_creatable_folder(
    path: str | Path, setting: str = "output_dir", *, margin: int = 0, example: str = "runs/my_run"
) -> Path:
    """``path`` as a ``Path``, refused (a ValueError naming it, the limit and the fix) when no folder could be made
    there: it, or a folder above it, is a file, or a name or the whole path is longer than the filesystem allows
    (keeping ``margin`` bytes for what will be written below it). The one check of every folder we write into (a
    run's ``output_dir``, an evaluation's or a report's ``--out``), made before anything heavy loads.

    Only what exists is looked at; a folder that cannot be read stops the walk (it may be another user's or another
    machine's path, as in a copied run folder's ``config.yaml``), and the write itself reports what then fails.
    """
    path = Path(path)
    absolute = Path(os.path.abspath(path.expanduser()))
    existing, parts, walking = Path(absolute.anchor), absolute.parts[1:], True
    for part in parts:
        name_max = _pathconf(existing, "PC_NAME_MAX", 255)
        if len(os.fsencode(part)) > name_max:
            raise ValueError(
                f"{setting} {str(path)!r} has a folder name of {len(os.fsencode(part))} bytes ({part[:40]}...); "
                f"this filesystem allows at most {name_max}: shorten it."
            )
        if not walking:
            continue
        candidate = existing / part
        try:
            mode = candidate.stat().st_mode
        except OSError:  # missing (made by the write), or not ours to look at
            walking = False
            continue
        if not stat.S_ISDIR(mode):
            where = "is a file" if candidate == absolute else f"lies under {str(candidate)!r}, which is a file"
            raise ValueError(f"{setting} {str(path)!r} {where}, not a folder; give a folder, e.g. {example}.")
        existing = candidate
    path_max = _pathconf(existing, "PC_PATH_MAX", 4096)
    if len(os.fsencode(absolute)) + margin > path_max:
        kept = f"; with the {margin} bytes the files below it add," if margin else ","
        raise ValueError(
            f"{setting} is {len(os.fsencode(absolute))} bytes long as an absolute path{kept} that passes this "
            f"filesystem's limit of {path_max}: choose a shorter path."
        )
    return path


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (OSError, ValueError, AttributeError):  # no such limit here (Windows), or unknown
        return default


class RunFolderLocked(ValueError):
    """Another process holds the run folder."""


WRITE_ERRNOS = {
    errno.ENOSPC: "no space left on {path}: free space",
    errno.EDQUOT: "the disk quota is used up on {path}: free space (or raise the quota)",
    errno.EROFS: "{path} is read-only: make it writable, or copy the run folder to a writable place",
    errno.EACCES: "no permission to write {path}: make it writable for this user",
    errno.EPERM: "no permission to write {path}: make it writable for this user",
    errno.ENAMETOOLONG: "the path {path} is too long for this filesystem: choose a shorter output_dir",
    errno.ENOTDIR: "a part of {path} is a file, not a folder: move that file away, or choose another output_dir",
    errno.EEXIST: "{path} exists already and is in the way: move it away, or choose another output_dir",
}
"""The errors of a write that the program cannot fix, each with what the user can do."""

_TORCH_WRITE_FAILURES = ("unexpected pos", "basic_ios::clear", "file write failed", "PytorchStreamWriter")
"""What torch's file writer says when the disk fills under it (its error carries no errno)."""


class WriteFailed(ValueError):
    """Writing a run's file failed for a reason outside the program (a full disk, a read-only folder ...); ``path``
    is the file or folder being written. A ValueError, so the command line prints it as one line."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _errno_of(error: BaseException) -> int | None:
    """The errno behind ``error``: an OSError's own, or the one torch or safetensors name in their message."""
    if isinstance(error, OSError) and error.errno is not None:
        return error.errno
    text = str(error)
    found = re.search(r"os error (\d+)", text)  # safetensors: "... Permission denied (os error 13) at path ..."
    if found:
        return int(found.group(1))
    for number in WRITE_ERRNOS:
        if os.strerror(number) in text:  # torch: "open file failed with strerror: Permission denied"
            return number
    return None


def _filesystem_errno(path: Path) -> int | None:
    """Why a write under ``path`` fails, read from its filesystem: read-only, or (almost) full; None if neither."""
    folder = path
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if stats.f_bavail * stats.f_frsize < 2**20:
        return errno.ENOSPC
    return None


def write_failure(error: BaseException, path: str | Path) -> WriteFailed | None:
    """``error``, raised while writing ``path``, as one clear ``WriteFailed`` with the fix; None when it is not a
    failed write (a bug, which should keep its traceback).

    A failed write is an OSError of ``WRITE_ERRNOS``, or torch's or safetensors' error for one (torch says "unexpected
    pos 64 vs 0" or "basic_ios::clear" for a full disk: the filesystem then says why).
    """
    if not isinstance(error, (OSError, RuntimeError)) and type(error).__name__ != "SafetensorError":
        return None
    path = Path(getattr(error, "filename", None) or path)
    number = _errno_of(error)
    if number not in WRITE_ERRNOS:
        if isinstance(error, OSError) or not any(text in str(error) for text in _TORCH_WRITE_FAILURES):
            return None
        number = _filesystem_errno(path)
    if number is None:
        return WriteFailed(f"could not write {path} ({error}): check the disk and the folder's permissions", path)
    return WriteFailed(WRITE_ERRNOS[number].format(path=path), path)


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failed write inside the block (``write_failure``) into one ``WriteFailed`` naming ``path`` (or the
    file the error names) and the fix; any other error passes unchanged."""
    try:
        yield
    except WriteFailed:
        raise
    except Exception as error:
        failure = write_failure(error, path)
        if failure is None:
            raise
        raise failure from None


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


class HeldLock:
    """A held folder lock. ``leave_as_found()`` asks for the lock file's earlier text back when the block ends, so a
    call that changed nothing (``train --resume`` on a finished run) leaves the folder byte for byte as it was."""

    def __init__(self, previous: str) -> None:
        self.previous = previous
        self.restore = False

    def leave_as_found(self) -> None:
        self.restore = True


@contextlib.contextmanager
def folder_lock(root: Path, lock_file: Path) -> Iterator[HeldLock]:
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
        held = HeldLock(handle.read())
        handle.truncate(0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"process {os.getpid()} on {socket.gethostname()} (since {started})\n")
        handle.flush()
        try:
            yield held
        finally:
            if held.restore:
                with contextlib.suppress(OSError):  # a folder that went read-only keeps our line: harmless
                    handle.truncate(0)
                    handle.write(held.previous)
                    handle.flush()
    finally:
        handle.close()  # closing releases the lock


class RunFolder:
    """The paths of one run folder (see the module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    config = property(lambda self: self.root / "config.yaml")
    rounds = property(lambda self: self.root / "rounds.jsonl")
    ppo = property(lambda self: self.root / "ppo.jsonl")

    def statistics(self, algorithm: str) -> Path:
        """The statistics log of a run of ``algorithm`` (``grpo.jsonl``); a GRPO run begun by version 0.2 goes on in
        its ``ppo.jsonl``."""
        path = self.root / f"{algorithm}.jsonl"
        if not path.exists() and self.ppo.exists() and algorithm != "ppo" and not self._manifest_lists(path.name):
            return self.ppo
        return path

    def _manifest_lists(self, name: str) -> bool:
        return name in self.owned_entries()

    analysis = property(lambda self: self.root / "analysis.jsonl")
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

    def lock(self) -> contextlib.AbstractContextManager[HeldLock]:
        """Hold the folder's exclusive lock for the block; raise ``RunFolderLocked`` naming the holder if taken."""
        return folder_lock(self.root, self.lock_file)

    manifest = property(lambda self: self.root / MANIFEST_FILE)

    def write_manifest(self, tracker: str = "none", algorithm: str = "ppo") -> None:
        """Record what this run writes (``RUN_FILES``, its statistics log, ``RUN_FOLDERS`` and its tracker's
        folder)."""
        statistics = self.statistics(algorithm).name
        tracked = [TRACKER_FOLDERS[tracker]] if tracker in TRACKER_FOLDERS else []
        entries = [*RUN_FILES, statistics, *RUN_FOLDERS, *tracked]
        self.manifest.write_text(json.dumps({"format": 1, "entries": entries}, indent=1) + "\n", encoding="utf-8")

    def owned_entries(self) -> set[str]:
        """The top-level entries a run wrote here: its manifest's, or (a run of version 0.1 or 0.2, which wrote no
        manifest) the run files and folders and the tracker folder its ``config.yaml`` names."""
        entries: set[str] = set()
        if self.manifest.is_file():
            try:
                entries = set(json.loads(self.manifest.read_text(encoding="utf-8"))["entries"])
            except (ValueError, KeyError, TypeError):
                entries = set()
        if not entries and self.holds_a_run():
            entries = {*RUN_FILES, *STATISTICS_FILES, *RUN_FOLDERS}
            with contextlib.suppress(Exception):
                tracker = str(self.read_config().get("tracker", "none"))
                entries |= {TRACKER_FOLDERS[tracker]} if tracker in TRACKER_FOLDERS else set()
        return entries | {MANIFEST_FILE, LOCK_FILE}

    def foreign_entries(self) -> list[str]:
        """What in the folder no run wrote: top-level entries outside ``owned_entries``, and anything inside
        ``checkpoints/`` or ``adapters/`` that is not a checkpoint or a learner's adapter (paths relative to it)."""
        if not self.root.is_dir():
            return []
        owned = self.owned_entries()
        foreign = sorted(entry.name for entry in self.root.iterdir() if entry.name not in owned)
        for name, pattern in _FOLDER_ENTRIES.items():
            folder = self.root / name
            if name in owned and folder.is_dir():
                foreign += sorted(f"{name}/{e.name}" for e in folder.iterdir() if not pattern.fullmatch(e.name))
            elif name in owned and folder.exists():
                foreign.append(name)
        return sorted(foreign)

    def clear(self) -> None:
        """Remove what a run wrote here (``owned_entries``; the lock stays), after checking that nothing else is in
        the folder: a foreign entry anywhere is refused, with its name, and nothing is removed."""
        foreign = self.foreign_entries()
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ValueError(
                f"Cannot overwrite {self.root}: it holds {shown}, which no run wrote; --overwrite removes only a "
                "run's own files. Move those away, or choose another output_dir."
            )
        for name in sorted(self.owned_entries() - {LOCK_FILE}):
            path = self.root / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()

    def read_config(self) -> dict[str, Any]:
        """The run's ``config.yaml`` as plain data (what the user asked for; older runs saved it resolved)."""
        from llm_agents.runs.config_files import read_yaml

        return read_yaml(self.config)

    def read_rounds(self, config: dict[str, Any] | None = None) -> list[RoundLog]:
        """Every ``RoundLog`` of ``rounds.jsonl``, also from runs written by version 0.1 (whose rows lack the
        payoffs: they are recomputed from the game in ``config``, by default the run's ``config.yaml``)."""
        return codec.read_jsonl(self.rounds, legacy=_legacy_context(config or self.read_config()))


def complete_checkpoints(folder: RunFolder) -> list[Path]:
    """Complete checkpoints, oldest first."""
    if not folder.checkpoints.is_dir():
        return []
    return sorted(p for p in folder.checkpoints.iterdir() if (p / COMPLETE_MARKER).is_file())


def find_adapter(path: str | Path) -> Path:
    """The adapter folder ``path`` names: itself if it holds ``adapter_config.json``, else the latest one inside.

    In a training run folder, "latest" is the final adapter (``adapters/player_0``, or a folder called ``final``) if
    there is one, else the checkpoint with the highest number in its path (``checkpoints/episode_00500``), and the
    learner ``player_0`` before ``player_1``.
    """
    path = Path(path)
    if (path / "adapter_config.json").is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"Adapter folder {path} does not exist; give a LoRA adapter folder or a run folder.")
    found = [config.parent for config in path.rglob("adapter_config.json")]
    if not found:
        raise FileNotFoundError(
            f"No LoRA adapter (adapter_config.json) in {path}; give a folder written by save_adapter, or a training "
            "run folder with a saved checkpoint."
        )

    def rank(folder: Path) -> tuple:
        parts = folder.relative_to(path).parts
        numbers = [int(n) for n in re.findall(r"\d+", "/".join(p for p in parts if not p.startswith("player_")))]
        final = "final" in parts or parts[:1] == ("adapters",)
        return (final, max(numbers, default=-1), "player_1" not in parts, str(folder))

    return max(found, key=rank)


def run_folder_of(adapter: Path) -> Path | None:
    """The training run folder an adapter lies in (the nearest parent with a ``config.yaml``), if any."""
    for folder in (adapter, *adapter.parents):
        if (folder / "config.yaml").is_file():
            return folder
    return None


def adapter_and_run(path: str | Path) -> tuple[Path, dict[str, Any] | None]:
    """The adapter ``path`` names (``find_adapter``) and the config of the training run it lies in, if any."""
    adapter = find_adapter(path)
    run_folder = run_folder_of(adapter)
    return adapter, (RunFolder(run_folder).read_config() if run_folder is not None else None)


def run_labels(run_config: dict[str, Any] | None) -> tuple[str, str] | None:
    """The (C, D) labels a run trained with (a label pool's first pair), or None without a run."""
    if not run_config or "labels" not in run_config:
        return None
    from matrix_games.label_pools import as_labels

    labels = as_labels(run_config["labels"])
    return labels.members[0] if hasattr(labels, "members") else labels  # type: ignore[return-value]


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
