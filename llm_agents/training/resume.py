"""Starting a run in its folder: a fresh start, an explicit overwrite, or a resume checked against the saved config.

A resume must be the same run: only the settings of ``RESUME_MAY_CHANGE`` may differ from the saved ``config.yaml``
(the derived values compared as the run uses them, so a config written by version 0.1, which saved them resolved,
resumes too). Where the run writes is the folder it was asked to resume, never a path remembered inside it.

Everything a resume checks (the config, the checkpoint, every log up to it, the episode count) is checked here,
before the model loads; a resume of a finished run (``finished_run``) writes nothing at all.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from llm_agents.runs.folder import RUN_FILES, RUN_FOLDERS, TRACKER_FOLDERS, RunFolder
from llm_agents.training.checkpoints import ResumePoint, resume_point
from llm_agents.training.config import TrainConfig
from llm_agents.training.config_io import config_from_dict, config_to_dict

logger = logging.getLogger(__name__)

RESUME_MAY_CHANGE = (
    "episodes",
    "resume",
    "overwrite",
    "progress",
    "tracker",
    "checkpoint_every",
    "output_dir",
    "threads",  # how fast, not what: other counts only round floats differently (a few 1e-8)
)
"""Settings a resumed run may change; every other one must match the saved config."""


def prepare_folder(folder: RunFolder, config: TrainConfig) -> ResumePoint | None:
    """Check the folder against ``config``; return the checkpoint to resume from (None: start afresh).

    A fresh start refuses a folder holding a run (unless ``overwrite``, which removes only what a run wrote and
    refuses a folder holding anything else) or holding a file or folder a run would write; the run's manifest is
    written before anything else.
    """
    point = _resume_point(folder, config) if config.resume else None
    if point is not None:
        _check_episodes(point, config)
        if finished_run(folder, config, point):
            return point  # nothing to do, and nothing is written
    if point is None:
        if folder.holds_a_run() and not config.resume:
            if not config.overwrite:
                raise ValueError(
                    f"{folder.root} already holds a run (config.yaml or rounds.jsonl); pass resume=True (--resume) "
                    "to continue it, overwrite=True (--overwrite) to start it over, or choose another output_dir."
                )
            folder.clear()
        elif config.overwrite and folder.root.is_dir():
            folder.clear()  # refuses a folder holding anything no run wrote
        _check_nothing_in_the_way(folder)
    folder.write_manifest(config.tracker, config.algorithm)
    return point


def _resume_point(folder: RunFolder, config: TrainConfig) -> ResumePoint | None:
    if not folder.config.exists():
        if folder.rounds.exists() or folder.checkpoints.exists():
            raise ValueError(
                f"Cannot resume {folder.root}: it holds logs or checkpoints but no config.yaml. Start over with "
                "--overwrite, or choose another output_dir."
            )
        return None  # the run died before it saved anything (or never started): nothing to lose, start afresh
    saved, wanted = _comparable(config_from_dict(folder.read_config(), warn=False)), _comparable(config)
    differing = sorted(key for key in set(saved) | set(wanted) if saved.get(key) != wanted.get(key))
    if differing:
        raise ValueError(
            f"Cannot resume {folder.root} with a different config: {differing} differ from its config.yaml. "
            f"Only {list(RESUME_MAY_CHANGE)} may change; pass the saved config (--config {folder.config})."
        )
    return resume_point(folder, config.learners)


def finished_run(folder: RunFolder, config: TrainConfig, point: ResumePoint) -> bool:
    """Whether the run resumed at ``point`` is finished: its checkpoint is after the last episode and the end-of-run
    files are whole (``summary.json``, written last, reads; each learner's final adapter and the plot exist). A run
    killed while writing them is not: its resume writes them again."""
    if point.episodes_done != config.num_episodes or not folder.plot.is_file():
        return False
    for player in config.learners:
        if not (folder.adapter(player) / "adapter_config.json").is_file():
            return False
    try:
        return isinstance(json.loads(folder.summary.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def _check_episodes(checkpoint: ResumePoint, config: TrainConfig) -> None:
    if checkpoint.episodes_done > config.num_episodes:
        raise ValueError(
            f"{config.output_dir} has a checkpoint after episode {checkpoint.episodes_done}, beyond episodes="
            f"{config.num_episodes}; resume with at least that many episodes."
        )


def _check_nothing_in_the_way(folder: RunFolder) -> None:
    """A fresh run writes its files and folders itself: one of those names already taken by something no run of
    this folder wrote (a stray ``adapters/`` or ``summary.json``) is refused rather than mixed into or replaced."""
    if not folder.root.is_dir() or folder.manifest.is_file():
        return
    taken = sorted(
        name for name in (*RUN_FILES, *RUN_FOLDERS, *TRACKER_FOLDERS.values()) if (folder.root / name).exists()
    )
    if taken:
        raise ValueError(
            f"{folder.root} already holds {', '.join(taken)}, which a run writes, but no run of ours: move "
            "them away, or choose another output_dir."
        )


def _comparable(config: TrainConfig) -> dict[str, Any]:
    """A config as the values a run uses (derived ones resolved), without what a resume may change or the cache."""
    data = config_to_dict(config)
    data["rounds_per_episode"] = config.num_rounds
    data["ppo"] = config_to_dict(config.ppo_for(0))
    data["model"] = {k: v for k, v in data["model"].items() if k != "cache_dir"}
    return {k: _normalise(v) for k, v in data.items() if k not in RESUME_MAY_CHANGE}


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def restore(checkpoint: ResumePoint | None, trainers: dict, agents: dict, config: TrainConfig) -> int:
    """Load the checkpoint into the trainers and sampling agents (its logs were checked and cut back); return the
    episode to start at."""
    if checkpoint is None:
        folder = RunFolder(config.output_dir)
        for path in (folder.rounds, folder.statistics(config.algorithm), folder.analysis):
            path.unlink(missing_ok=True)  # a run that never reached a checkpoint left nothing to keep
        return 0
    _check_episodes(checkpoint, config)
    for player in config.learners:
        trainers[player].load_state_dict(checkpoint.trainer_states[player])
        agents[player].generator.set_state(checkpoint.run_state["sampling_generators"][player])
    logger.info("Resuming %s at episode %d from %s", config.output_dir, checkpoint.episodes_done, checkpoint.path)
    return checkpoint.episodes_done
