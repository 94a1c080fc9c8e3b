"""Metrics as pure functions over recorded rounds: rates, action types, moral regrets, reciprocity, intervals.

A *round record* is a ``rounds.RoundOutcome`` or a ``records.RoundLog`` (which reads like its outcome): one round
from one player's point of view. Per-run values are averaged over the rounds of that run, as the paper does (the mean
over 10 episodes of 5 rounds is the mean over 50 rounds), and runs are summarised by ``mean_and_ci95``
(docs/metrics.md). This module is the one owner of every rate, action type, answer kind and their colours: the
training logs, the test bench and the reports all read them from here.

Conventions, written down once:

- A round whose player gave no legal answer (``action == ILLEGAL``) counts in every denominator; it is never "C".
- Conditioning on "the opponent's previous move" uses ``opponent_previous_action``: the opponent's state shown to the
  player before it moved (its last legal move; with more than two players, the others' majority state). In a classic
  first round it is None: such rounds have no action type and are left out of ``action_type_counts`` and
  ``reciprocity``.
- Deontological regret uses the paper's *test* settings by default, xi = 4 and illegal cost 6 (its inference
  script); it trained with xi = 3 (``rewards.DEFAULT_DEONTOLOGICAL_PENALTY``). Pass ``penalty=3.0`` to measure regret
  against the training norm.
"""

from matrix_games.metrics.actions import (
    ACTION_BANDS,
    ACTION_TYPE_COLORS,
    ACTION_TYPES,
    ANSWER_KIND_COLORS,
    ANSWER_KINDS,
    Reciprocity,
    RoundRecord,
    action_band,
    action_type,
    action_type_counts,
    action_type_fractions,
    answer_kind,
    band_shares_by_episode,
    cooperation_rate,
    rates,
    reciprocity,
)
from matrix_games.metrics.regret import (
    DEONTOLOGICAL_REGRET_ILLEGAL_COST,
    DEONTOLOGICAL_REGRET_PENALTY,
    RunMetrics,
    deontological_regret,
    mean_deontological_regret,
    mean_utilitarian_regret,
    summarize,
    utilitarian_regret,
)
from matrix_games.metrics.statistics import default_window, mean_and_ci95, smooth

__all__ = [
    "ACTION_BANDS",
    "ACTION_TYPES",
    "ACTION_TYPE_COLORS",
    "ANSWER_KINDS",
    "ANSWER_KIND_COLORS",
    "DEONTOLOGICAL_REGRET_ILLEGAL_COST",
    "DEONTOLOGICAL_REGRET_PENALTY",
    "Reciprocity",
    "RoundRecord",
    "RunMetrics",
    "action_band",
    "action_type",
    "action_type_counts",
    "action_type_fractions",
    "answer_kind",
    "band_shares_by_episode",
    "cooperation_rate",
    "default_window",
    "deontological_regret",
    "mean_and_ci95",
    "mean_deontological_regret",
    "mean_utilitarian_regret",
    "rates",
    "reciprocity",
    "smooth",
    "summarize",
    "utilitarian_regret",
]
