"""Find the runs a report covers and group them into models.

Two kinds of folder are read:

- an *evaluation* folder (written by ``llm-agents evaluate``): ``summary.json`` with ``games`` and ``protocol``;
  its model is ``summary["policy"]["label"]``;
- a *training run* folder (written by ``llm-agents train``): ``config.yaml`` and ``rounds.jsonl``; its model is
  named from the training reward and opponent (``model_label``).

Folders with the same model name are the seeds (runs) of that model. A path that is neither is searched for both
kinds below it, so ``llm-agents report results/`` finds everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAPER_MODEL_NAMES = {
    "game": "Game payoffs",
    "deontological": "Deontological",
    "utilitarian": "Utilitarian",
    "game_deontological": "Game + Deontological",
}
"""The paper's names for the models trained on each reward (its Fig. 4 columns)."""

NO_FINE_TUNING = "No fine-tuning"

PAPER_MODEL_ORDER = (
    NO_FINE_TUNING,
    "Game payoffs",
    "Deontological",
    "Utilitarian",
    "Game + Deontological",
    "Game payoffs, then Deontological",
    "Game payoffs, then Utilitarian",
)
"""The order of the paper's Fig. 4 columns; a label starting with one of these sorts with it."""


def model_label(run_config: dict[str, Any]) -> str:
    """The model name of a training run: the paper's name of its reward (schedule), and its opponent.

    Example:
        >>> model_label({"reward": "game:500,deontological:500", "opponent": "tit_for_tat"})
        'Game payoffs, then Deontological (vs tit_for_tat)'
    """
    reward = str(run_config.get("reward", "?"))
    phases = [part.split(":")[0].strip() for part in reward.split(",")]
    name = ", then ".join(PAPER_MODEL_NAMES.get(phase, phase) for phase in phases)
    return f"{name} (vs {run_config.get('opponent', '?')})"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation folder: its path, model name and ``summary.json`` content."""

    path: Path
    label: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class TrainingRun:
    """One training run folder: its path, model name, resolved config and ``rounds.jsonl`` rows."""

    path: Path
    label: str
    config: dict[str, Any]
    rows: list[dict[str, Any]] = field(repr=False)

    @property
    def episodes(self) -> int:
        """The run's planned episodes (from the config), or the episodes logged if the config lacks them."""
        planned = self.config.get("episodes")
        return int(planned) if planned else 1 + max((row["episode"] for row in self.rows), default=-1)


def is_evaluation(folder: Path) -> bool:
    return (folder / "summary.json").is_file() and (folder / "rounds.csv").is_file()


def is_training_run(folder: Path) -> bool:
    return (folder / "config.yaml").is_file() and (folder / "rounds.jsonl").is_file()


def read_evaluation(folder: Path) -> Evaluation:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if "games" not in summary or "protocol" not in summary:
        raise ValueError(f"{folder / 'summary.json'} is not an evaluation summary (no 'games' or 'protocol').")
    policy = summary.get("policy", {})
    return Evaluation(folder, str(policy.get("label") or policy.get("name") or folder.name), summary)


def read_run_config(folder: Path) -> dict[str, Any]:
    """A training run's resolved ``config.yaml`` as plain data."""
    import yaml

    data = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{folder / 'config.yaml'} is not a training config (expected a mapping, got {data!r}).")
    return data


def read_training_run(folder: Path) -> TrainingRun:
    config = read_run_config(folder)
    rows = []
    with (folder / "rounds.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{folder / 'rounds.jsonl'} line {number} is not JSON: {error}.") from None
    return TrainingRun(folder, model_label(config), config, rows)


def discover(paths: Iterable[str | Path]) -> tuple[list[Evaluation], list[TrainingRun]]:
    """Every evaluation and training run at or below ``paths``, each folder once, in path order."""
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
            if folder.is_dir() and is_evaluation(folder) and folder.resolve() not in evaluations:
                evaluations[folder.resolve()] = read_evaluation(folder)
                found = True
            elif folder.is_dir() and is_training_run(folder) and folder.resolve() not in runs:
                runs[folder.resolve()] = read_training_run(folder)
                found = True
        if not found and path.resolve() not in evaluations and path.resolve() not in runs:
            raise ValueError(
                f"No evaluation (summary.json + rounds.csv) or training run (config.yaml + rounds.jsonl) at or below "
                f"{path}."
            )
    return list(evaluations.values()), list(runs.values())


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
