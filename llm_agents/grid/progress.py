"""What a grid shows while it runs and when it ends: one line per trial as it trains, a manifest, a final table.

The manifest (``output_dir/grid.json``) lists every trial, its folders, its axis values and its state, rewritten
(atomically) whenever a state changes, so a person or a script can see where a grid stands without Ray.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llm_agents.grid.spec import GridSpec, Trial
from llm_agents.training import Tracker


class TrialLines(Tracker):
    """A tracker that turns a trial's logged values into its progress lines (``line_due``)."""

    def __init__(self, trial: Trial, emit: Callable[[str], None]) -> None:
        self.trial, self.emit = trial, emit
        self.total = trial.episodes

    def log(self, values: dict[str, float], step: int) -> None:
        if "player_0/env/cooperation_rate" not in values:
            return  # the PPO statistics; the rates come in their own call
        if line_due(step + 1, self.total):
            self.emit(progress_line(self.trial.name, step + 1, self.total, values))


def line_due(done: int, total: int) -> bool:
    """Whether a trial that has done ``done`` of ``total`` episodes prints a line: every tenth of it, and the last."""
    return done % max(1, total // 10) == 0 or done == total


def progress_line(name: str, done: int, total: int, values: dict[str, float]) -> str:
    cooperation = values.get("player_0/env/cooperation_rate", float("nan"))
    illegal = values.get("player_0/env/illegal_rate", float("nan"))
    return f"{name}: {done}/{total} episodes, cooperation {cooperation:.2f}, illegal {illegal:.2f}"


class Manifest:
    """``output_dir/grid.json``: the grid's trials and their states."""

    def __init__(self, spec: GridSpec) -> None:
        self.path = spec.output_dir / "grid.json"
        self.spec = spec
        self.states: dict[str, dict[str, Any]] = {
            trial.name: {"state": "pending", "attempts": 0} for trial in spec.trials
        }

    def set(self, name: str, state: str, **extra: Any) -> None:
        self.states[name].update(state=state, **extra)
        self.write()

    def write(self) -> None:
        data = {
            "grid": str(self.spec.path),
            "updated": time.strftime("%Y-%m-%d %H:%M:%S"),
            "trials": [
                {
                    "name": trial.name,
                    "values": trial.values,
                    "train_dir": str(trial.train_dir),
                    "eval_dir": str(trial.eval_dir) if trial.evaluation is not None else None,
                    **self.states[trial.name],
                }
                for trial in self.spec.trials
            ],
        }
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


def final_table(rows: Sequence[dict[str, Any]], states: dict[str, dict[str, Any]]) -> str:
    """The table printed when a grid ends: one line per trial."""
    header = f"{'trial':<40}{'state':>9}{'episodes':>10}{'coop':>7}{'illegal':>9}{'test coop':>11}{'train s':>9}"
    lines = [header]
    for row in rows:

        def number(key: str, digits: int = 2, row: dict = row) -> str:
            value = row.get(key)
            return "-" if value is None else f"{value:.{digits}f}"

        state = states.get(row["trial"], {}).get("state", "?")
        lines.append(
            f"{row['trial']:<40}{state:>9}{row['episodes']:>10}{number('cooperation'):>7}{number('illegal'):>9}"
            f"{number('test_cooperation'):>11}{number('wall_time_s', 0):>9}"
        )
    return "\n".join(lines)


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
