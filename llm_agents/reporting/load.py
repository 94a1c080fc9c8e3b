"""Find the runs a report covers and group them into models.

Two kinds of folder are read:

- an *evaluation* folder (written by ``llm-agents evaluate``): ``summary.json`` with ``games`` and ``protocol``;
  its model is ``summary["policy"]["label"]``;
- a *training run* folder (written by ``llm-agents train``): ``config.yaml`` and ``rounds.jsonl``; its model is
  named from the training reward and opponent (``runs.naming.model_label``).

Both are read with their writers' readers (``evaluation.folder``, ``runs.folder``), into ``RoundLog``s and
plain summaries: reporting depends on the records, not on how they were produced.

Folders with the same model name are the seeds (runs) of that model. A path that is neither is searched for both
kinds below it, so ``llm-agents report results/`` finds everything.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_agents.evaluation.folder import is_evaluation, read_summary
from llm_agents.runs.folder import RunFolder
from llm_agents.runs.naming import PAPER_MODEL_ORDER, model_label
from matrix_games.core.records import RoundLog


@dataclass(frozen=True)
class Evaluation:
    """One evaluation folder: its path, model name and ``summary.json`` content."""

    path: Path
    label: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class TrainingRun:
    """One training run folder: its path, model name, config (as saved) and round logs."""

    path: Path
    label: str
    config: dict[str, Any]
    logs: list[RoundLog] = field(repr=False)

    @property
    def episodes(self) -> int:
        """The run's planned episodes: its config's, else its schedule's total, else the episodes logged."""
        from llm_agents.training import config_from_dict

        planned = self.config.get("episodes")
        if planned:
            return int(planned)
        try:
            return config_from_dict(self.config, warn=False).num_episodes
        except ValueError:
            return 1 + max((log.episode for log in self.logs), default=-1)


def is_training_run(folder: Path) -> bool:
    return RunFolder(folder).holds_a_run() and RunFolder(folder).rounds.is_file() and RunFolder(folder).config.is_file()


def read_evaluation(folder: Path) -> Evaluation:
    summary = read_summary(folder)
    policy = summary.get("policy", {})
    return Evaluation(folder, str(policy.get("label") or policy.get("name") or folder.name), summary)


def read_training_run(folder: Path) -> TrainingRun:
    """A training run folder read back; a config that does not name its reward and opponent is refused (a report
    would not know which model the run is)."""
    run = RunFolder(folder)
    config = run.read_config()
    missing = [key for key in ("reward", "opponent") if key not in config]
    if missing:
        raise ValueError(f"{run.config} does not say the run's {' and '.join(missing)}")
    return TrainingRun(folder, model_label(config), config, run.read_rounds(config))


def discover(paths: Iterable[str | Path], *, strict: bool = False) -> tuple[list[Evaluation], list[TrainingRun]]:
    """Every evaluation and training run at or below ``paths``, each folder once, in path order.

    A folder whose files cannot be read (a damaged ``summary.json``, ``config.yaml`` or ``rounds.jsonl``) is left
    out with a warning on stderr that names the file; with ``strict`` it stops the report instead.
    """
    evaluations: dict[Path, Evaluation] = {}
    runs: dict[Path, TrainingRun] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist; give evaluation folders, training run folders or a parent."
            )
        candidates = [path] if path.is_file() else [path, *sorted(p for p in path.rglob("*") if p.is_dir())]
        found = False
        for folder in candidates:
            kind = _kind(folder) if folder.is_dir() else None
            if kind is None or folder.resolve() in evaluations or folder.resolve() in runs:
                continue
            found = True
            try:
                if kind == "evaluation":
                    evaluations[folder.resolve()] = read_evaluation(folder)
                else:
                    runs[folder.resolve()] = read_training_run(folder)
            except (ValueError, KeyError, TypeError) as error:
                if strict:
                    raise ValueError(f"Cannot read {folder}: {error}") from None
                print(f"llm-agents report: skipping {folder}: {error}", file=sys.stderr)
        if not found and path.resolve() not in evaluations and path.resolve() not in runs:
            raise ValueError(
                f"No evaluation (summary.json + rounds.csv) or training run (config.yaml + rounds.jsonl) at or below "
                f"{path}."
            )
    return list(evaluations.values()), list(runs.values())


def _kind(folder: Path) -> str | None:
    if is_evaluation(folder):
        return "evaluation"
    return "training run" if is_training_run(folder) else None


def group_by_label(items: Sequence[Evaluation] | Sequence[TrainingRun]) -> dict[str, list]:
    """Items by model name, models in the paper's Fig. 4 order first, then in order of appearance."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.label, []).append(item)
    return {label: groups[label] for label in sorted(groups, key=lambda label: _order_key(label, list(groups)))}


def _order_key(label: str, seen: list[str]) -> tuple[int, int]:
    for rank, name in enumerate(PAPER_MODEL_ORDER):
        if label == name or label.startswith(f"{name} (") or label.startswith(f"{name},"):
            # "Game payoffs, then ..." must not sort with "Game payoffs": prefer the longest match.
            longer = [i for i, other in enumerate(PAPER_MODEL_ORDER) if other != name and label.startswith(other)]
            return (max([rank, *longer]), seen.index(label))
    return (len(PAPER_MODEL_ORDER), seen.index(label))
