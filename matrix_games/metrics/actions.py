"""What a player did, round by round: cooperation and other rates, action types, answer kinds, reciprocity.

The one owner of the action types ("D|C": D right after the opponent's C), the plot bands, the answer kinds and their
colours; training logs, the test bench and reports all take them from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import numpy as np

from matrix_games.core.actions import ILLEGAL, MOVE_NAMES, C, D

ACTION_TYPES: tuple[str, ...] = ("C|C", "C|D", "D|C", "D|D", "illegal|C", "illegal|D")
"""``"<my action>|<opponent's previous move>"``: "D|C" means I played D right after the opponent's C."""


ACTION_BANDS: tuple[str, ...] = ("C|C", "C|D", "D|C", "D|D", "illegal")
"""The bands of the paper's action-type plots, bottom to top: the four types, and every illegal answer as one."""


ACTION_TYPE_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "C|C": "#28641E",
        "C|D": "#B0DC82",
        "D|C": "#FBE6F1",
        "D|D": "#8E0B52",
        "illegal|C": "#A9A9A9",
        "illegal|D": "#D4D4D4",
        "illegal": "#A9A9A9",
    }
)
"""The paper's action-type colours (its plotting script): C|C dark green, C|D light green, D|C pale pink, D|D dark
purple; illegal answers grey (two greys where the two illegal types are told apart)."""


ANSWER_KINDS: tuple[str, ...] = ("C label", "D label", "other")
"""What an answer was: the C label, the D label, or anything else (the other-prompt tables)."""


ANSWER_KIND_COLORS: Mapping[str, str] = MappingProxyType(
    {"C label": "#28641E", "D label": "#8E0B52", "other": "#A9A9A9"}
)


class RoundRecord(Protocol):
    """The fields of one recorded round that the metrics read (``RoundOutcome`` and ``RoundLog`` have them all)."""

    @property
    def action(self) -> int: ...
    @property
    def opponent_previous_action(self) -> int | None: ...
    @property
    def payoff(self) -> float: ...
    @property
    def joint_payoff(self) -> float: ...
    @property
    def game_reward(self) -> float: ...


def nonempty(rounds: Iterable[RoundRecord]) -> Sequence[RoundRecord]:
    records = list(rounds)
    if not records:
        raise ValueError("Metrics need at least one recorded round; got none.")
    return records


def cooperation_rate(rounds: Iterable[RoundRecord]) -> float:
    """The fraction of rounds in which the player played C (illegal answers count as not cooperating)."""
    records = nonempty(rounds)
    return sum(record.action == C for record in records) / len(records)


def action_type(record: RoundRecord) -> str | None:
    """The round's label in ``ACTION_TYPES`` ("D|C": D right after the opponent's C), or None with no previous move."""
    previous = record.opponent_previous_action
    if previous is None:
        return None
    return f"{MOVE_NAMES[record.action]}|{MOVE_NAMES[previous]}"


def action_band(record: RoundRecord) -> str | None:
    """The round's band in ``ACTION_BANDS``: "illegal" for any illegal answer, else its action type (or None)."""
    return "illegal" if record.action == ILLEGAL else action_type(record)


def answer_kind(record: RoundRecord) -> str:
    """``"C label"``, ``"D label"`` or ``"other"`` (an illegal answer): what the answer was."""
    return {C: "C label", D: "D label"}.get(record.action, "other")  # type: ignore[call-overload]


def action_type_counts(rounds: Iterable[RoundRecord]) -> dict[str, int]:
    """How many rounds fall in each of ``ACTION_TYPES`` (rounds with no opponent previous move are not counted)."""
    counts = dict.fromkeys(ACTION_TYPES, 0)
    for record in rounds:
        label = action_type(record)
        if label is not None:
            counts[label] += 1
    return counts


def action_type_fractions(rounds: Iterable[RoundRecord]) -> dict[str, float]:
    """``action_type_counts`` divided by the number of rounds that have a label (all NaN if none has)."""
    counts = action_type_counts(rounds)
    total = sum(counts.values())
    return {label: (count / total if total else math.nan) for label, count in counts.items()}


@dataclass(frozen=True)
class Reciprocity:
    """How often the player answers the opponent's previous move in kind.

    Attributes:
        cooperate_after_cooperation: P(C | the opponent's previous move was C); NaN if it never was.
        defect_after_defection: P(D | the opponent's previous move was D); NaN if it never was.
        rounds_after_cooperation: How many rounds followed an opponent's C.
        rounds_after_defection: How many rounds followed an opponent's D.
    """

    cooperate_after_cooperation: float
    defect_after_defection: float
    rounds_after_cooperation: int
    rounds_after_defection: int

    @property
    def score(self) -> float:
        """The mean of the two probabilities: 1 for tit-for-tat, 0.5 for a coin flip, 0 for an anti-reciprocator."""
        return (self.cooperate_after_cooperation + self.defect_after_defection) / 2


def reciprocity(rounds: Iterable[RoundRecord]) -> Reciprocity:
    """P(C | opponent's previous C) and P(D | opponent's previous D) over the rounds."""
    counts = action_type_counts(rounds)
    after_c = counts["C|C"] + counts["D|C"] + counts["illegal|C"]
    after_d = counts["C|D"] + counts["D|D"] + counts["illegal|D"]
    return Reciprocity(
        cooperate_after_cooperation=counts["C|C"] / after_c if after_c else math.nan,
        defect_after_defection=counts["D|D"] / after_d if after_d else math.nan,
        rounds_after_cooperation=after_c,
        rounds_after_defection=after_d,
    )


def rates(rounds: Iterable[RoundRecord]) -> dict[str, float]:
    """Cooperation, defection and illegal rates, mean game (and training) reward and band shares of some rounds.

    The training reward is the mean of ``record.reward`` where the records carry one (``RoundLog``s of training);
    the band shares are over the rounds that have a band (``action_band``). An empty input gives ``{}``.
    """
    records = list(rounds)
    if not records:
        return {}
    count = len(records)
    result: dict[str, float] = {
        "rounds": count,
        "cooperation_rate": sum(r.action == C for r in records) / count,
        "defection_rate": sum(r.action == D for r in records) / count,
        "illegal_rate": sum(r.action == ILLEGAL for r in records) / count,
        "mean_game_reward": float(np.mean([r.game_reward for r in records])),
    }
    trained = [r.reward for r in records if getattr(r, "reward", None) is not None]
    if trained:
        result["mean_training_reward"] = float(np.mean(trained))
    bands = [band for band in map(action_band, records) if band is not None]
    for name in ACTION_BANDS:
        result[f"share {name}"] = bands.count(name) / len(bands) if bands else math.nan
    return result


def band_shares_by_episode(rounds: Iterable[RoundRecord], episodes: int, player: str = "player_0") -> np.ndarray:
    """The share of each ``ACTION_BANDS`` band per episode, shape (episodes, 5), from ``RoundLog``s of ``player``;
    rows of episodes with no round are NaN."""
    counts = np.zeros((episodes, len(ACTION_BANDS)))
    index = {name: i for i, name in enumerate(ACTION_BANDS)}
    for record in rounds:
        if record.player != player or record.episode >= episodes:  # type: ignore[attr-defined]
            continue
        band = action_band(record)
        if band is not None:
            counts[record.episode, index[band]] += 1  # type: ignore[attr-defined]
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)
