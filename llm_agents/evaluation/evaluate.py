"""``evaluate``: play the protocol with a policy and write the evaluation folder; ``evaluate_run``: the same for the
policy a ``PolicySpec`` names (the command line's and the grid's way in).

The folder holds ``rounds.csv`` (every round), ``summary.json`` (the metrics per game and per other prompt, what was
evaluated and how) and the figures of ``figures.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_agents.evaluation.folder import (
    ANALYSIS_FILE,
    ROUNDS_FILE,
    SUMMARY_FILE,
    check_out_folder,
    make_out_folder,
    write_analysis,
    write_rounds_csv,
)
from llm_agents.evaluation.policies import Policy
from llm_agents.evaluation.protocol import EvaluationConfig, play
from llm_agents.evaluation.request import PolicySpec, make_policy
from llm_agents.evaluation.summary import summarize_evaluation
from llm_agents.runs.folder import writing


def evaluate(
    policy: Policy,
    config: EvaluationConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    label: str | None = None,
    figures: bool = True,
    exact: bool = False,
) -> dict[str, Any]:
    """Play the test protocol with ``policy`` (or compute its expected results) and return the summary; with
    ``out_dir``, also write the folder.

    Args:
        policy: The agent under test (``StrategyPolicy``, ``LLMPolicy`` or any ``Policy``).
        config: The protocol (default: the paper's).
        out_dir: Where to write ``rounds.csv``, ``summary.json`` and the figures (created if needed).
        label: The name of the model in reports (runs with the same label are seeds of one model); default: the
            policy's own description.
        figures: Also draw the figures.
        exact: Compute each result's expectation instead of sampling (``exact.py``): the folder then holds
            ``summary.json`` (marked exact), the policy tables in ``analysis.json`` and the figures, no rounds.

    Example:
        >>> from llm_agents.evaluation import StrategyPolicy
        >>> config = EvaluationConfig(games=("IPD-v0",), other_prompts=())
        >>> summary = evaluate(StrategyPolicy("always_cooperate"), config)
        >>> summary["games"]["IPD-v0"]["deontological_regret"]
        0.0
        >>> evaluate(StrategyPolicy("tit_for_tat"), config, exact=True)["games"]["IPD-v0"]["cooperation_rate"]
        0.5
    """
    config = config or EvaluationConfig()
    if out_dir is not None:
        check_out_folder(out_dir)
    description = {**policy.describe(), "label": label or policy.describe().get("label") or policy.name}
    if exact:
        from llm_agents.evaluation.exact import evaluate_exactly

        summary, tables = evaluate_exactly(policy, config, description)
        records = None
    else:
        records = play(policy, config)
        summary = summarize_evaluation(records, config, description)
    if out_dir is not None:
        out_dir = make_out_folder(out_dir)
        with writing(out_dir):  # a full disk or a read-only folder: one line with the fix
            if records is not None:
                write_rounds_csv(records, out_dir / ROUNDS_FILE, config)
            else:
                write_analysis(out_dir / ANALYSIS_FILE, tables, summary)
            (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            if figures:
                from llm_agents.evaluation.figures import write_figures  # matplotlib only when drawing

                write_figures(summary, out_dir)
    return summary


def evaluate_run(
    spec: PolicySpec,
    config: EvaluationConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    exact: bool = False,
    figures: bool = True,
) -> dict[str, Any]:
    """Make the policy ``spec`` names and ``evaluate`` it: the one call behind ``llm-agents evaluate`` and a grid's
    evaluations. Returns the summary (also written to ``out_dir/summary.json``)."""
    if out_dir is not None:
        check_out_folder(out_dir)  # before the model loads
    policy = make_policy(spec, exact=exact)
    return evaluate(policy, config, out_dir, label=spec.label, figures=figures, exact=exact)
