"""One trial of a grid: train (fresh, resumed or started over, as its folder says), then evaluate; and its state.

A trial is the same ``train`` as ``llm-agents train`` with the trial's config, so its run folder (``rounds.jsonl``
byte for byte) is what a standalone run writes, and the same ``evaluate_run`` as ``llm-agents evaluate``. Its run
folder is its checkpoint: a trial started again after a failure, a lost worker or a killed grid resumes from the
folder's last complete checkpoint, and a finished step (``summary.json`` written) is never run again.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Literal

from llm_agents import threads
from llm_agents.grid.spec import Trial
from llm_agents.training import Tracker

TrialState = Literal["pending", "training", "trained", "done"]


def trial_state(trial: Trial, evaluates: bool) -> TrialState:
    """What the folders say: ``done`` (trained, and evaluated if the grid evaluates), ``trained``, ``training``
    (a run started), or ``pending``."""
    if (trial.train_dir / "summary.json").exists():
        if not evaluates or (trial.eval_dir / "summary.json").exists():
            return "done"
        return "trained"
    return "training" if (trial.train_dir / "config.yaml").exists() else "pending"


def run_trial(trial: Trial, observer: Tracker | None = None) -> dict:
    """Train and evaluate ``trial`` as far as it is not done yet; return its result row (see ``result_row``).

    Its torch runs with ``trial.threads`` threads (its ``cpus_per_trial``), set before anything heavy: Ray gives a
    trial that many CPUs, and torch's default (every core of the machine) would make concurrent trials fight for them.
    """
    threads.configure_threads(trial.threads)
    from llm_agents.evaluation.evaluate import evaluate_run
    from llm_agents.runs.folder import RunFolder, complete_checkpoints
    from llm_agents.training import config_from_dict, train

    evaluation = trial.evaluation
    if trial_state(trial, evaluation is not None) in ("pending", "training"):
        folder = RunFolder(trial.train_dir)
        settings = dict(trial.config)
        if folder.holds_a_run():  # a resume, or a start over when it died before its first checkpoint
            settings["resume" if complete_checkpoints(folder) else "overwrite"] = True
        train(config_from_dict(settings, warn=False), observer=observer)
    if evaluation is not None and not (trial.eval_dir / "summary.json").exists():
        trial.eval_dir.mkdir(parents=True, exist_ok=True)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            evaluate_run(evaluation.spec, evaluation.protocol, trial.eval_dir, exact=evaluation.exact)
        (trial.eval_dir / "evaluate.log").write_text(printed.getvalue(), encoding="utf-8")
    return result_row(trial)


def result_row(trial: Trial) -> dict:
    """The trial's line of the final table: episodes done, the learners' last cooperation and illegal rates, wall
    time of training, and the evaluation's mean cooperation over its games (when evaluated)."""
    row: dict = {"trial": trial.name, "episodes": trial.episodes}
    summary_file = trial.train_dir / "summary.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        last = summary.get("player_0", {}).get("last", {})
        row.update(
            cooperation=last.get("cooperation_rate"),
            illegal=last.get("illegal_rate"),
            wall_time_s=summary.get("wall_time_s"),
        )
    evaluation = trial.eval_dir / "summary.json"
    if evaluation.exists():
        games = json.loads(evaluation.read_text(encoding="utf-8"))["games"].values()
        rates = [game["cooperation_rate"] for game in games]
        row["test_cooperation"] = sum(rates) / len(rates)
    return row
