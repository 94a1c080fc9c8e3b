"""One evaluated round as a record, and the tidy ``rounds.csv`` that holds every round of an evaluation.

The record keeps the environment's ``RoundOutcome`` fields that the metrics of ``matrix_games.metrics`` read
(``action``, ``opponent_previous_action``, ``payoff``, ``opponent_payoff``), so a list of records goes straight into
those functions, plus what a reader needs to audit the round: the prompt, the answer, the state and both regrets.
In the CSV, moves are written ``C``, ``D``, ``illegal`` (no legal answer) or ``none`` (no previous move).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from matrix_games.actions import ILLEGAL, C, D
from matrix_games.metrics import action_type

Section = Literal["games", "other_prompts"]

_MOVE_NAMES = {C: "C", D: "D", ILLEGAL: "illegal", None: "none"}
_MOVE_CODES = {name: code for code, name in _MOVE_NAMES.items()}


@dataclass(frozen=True)
class EvaluatedRound:
    """One round played by the evaluated policy (the row player) against the test opponent.

    Attributes:
        section: ``"games"`` (the five matrix games) or ``"other_prompts"`` (the robustness prompts).
        game: The environment id without namespace, e.g. ``"IPD-v0"``.
        prompt_kind: The text variant (``"original"``, ``"reversed"``, ..., ``"poetic"``, ``"unrelated_game"``).
        episode: Episode index within this game and prompt, from 0.
        round: Round index within the episode, from 0.
        label_c: The label that means C in this prompt.
        label_d: The label that means D.
        previous_action: The policy's state shown in the prompt (0, 1, or None).
        opponent_previous_action: The opponent's state shown in the prompt (0, 1, or None).
        prompt: The prompt text the policy answered.
        answer: The policy's answer text.
        action: What the answer meant: 0 (C), 1 (D) or 2 (no legal answer).
        opponent_action: The opponent's move this round.
        game_reward: The policy's game reward (``illegal_reward`` when illegal).
        opponent_game_reward: The opponent's game reward.
        payoff: The policy's payoff in the effective joint action.
        opponent_payoff: The opponent's payoff in that action.
        deontological_regret: This round's deontological regret (test xi, illegal cost = -illegal_reward).
        utilitarian_regret: This round's utilitarian regret, normalised by the game's U_max.
    """

    section: Section
    game: str
    prompt_kind: str
    episode: int
    round: int
    label_c: str
    label_d: str
    previous_action: int | None
    opponent_previous_action: int | None
    prompt: str
    answer: str
    action: int
    opponent_action: int
    game_reward: float
    opponent_game_reward: float
    payoff: float
    opponent_payoff: float
    deontological_regret: float
    utilitarian_regret: float

    @property
    def action_type(self) -> str | None:
        """``"D|C"`` etc. (``matrix_games.metrics.ACTION_TYPES``): the action given the opponent's previous move."""
        return action_type(self)

    @property
    def answer_kind(self) -> str:
        """``"C label"``, ``"D label"`` or ``"other"``: what the answer was, for the answer-share tables."""
        return {C: "C label", D: "D label"}.get(self.action, "other")


CSV_COLUMNS: tuple[str, ...] = (
    *(field.name for field in dataclasses.fields(EvaluatedRound)),
    "action_type",
    "answer_kind",
)
"""Columns of ``rounds.csv``, in order: every record field, then the derived action type and answer kind."""

_MOVE_FIELDS = ("previous_action", "opponent_previous_action", "action", "opponent_action")
_INT_FIELDS = ("episode", "round")
_FLOAT_FIELDS = (
    "game_reward",
    "opponent_game_reward",
    "payoff",
    "opponent_payoff",
    "deontological_regret",
    "utilitarian_regret",
)


def to_row(record: EvaluatedRound) -> dict[str, Any]:
    """The CSV row of ``record``: moves as ``C``/``D``/``illegal``/``none``, plus the derived columns."""
    row = dataclasses.asdict(record)
    for name in _MOVE_FIELDS:
        row[name] = _MOVE_NAMES[row[name]]
    row["action_type"] = record.action_type or ""
    row["answer_kind"] = record.answer_kind
    return row


def from_row(row: dict[str, str]) -> EvaluatedRound:
    """The record of one ``rounds.csv`` row (the inverse of ``to_row``)."""
    missing = [name for name in CSV_COLUMNS if name not in row]
    if missing:
        raise ValueError(f"rounds.csv row lacks columns {missing}; expected the columns {list(CSV_COLUMNS)}.")
    values: dict[str, Any] = {field.name: row[field.name] for field in dataclasses.fields(EvaluatedRound)}
    for name in _MOVE_FIELDS:
        if values[name] not in _MOVE_CODES:
            raise ValueError(f"rounds.csv: {name} must be one of {sorted(_MOVE_CODES)}, got {values[name]!r}.")
        values[name] = _MOVE_CODES[values[name]]
    for name in _INT_FIELDS:
        values[name] = int(values[name])
    for name in _FLOAT_FIELDS:
        values[name] = float(values[name])
    return EvaluatedRound(**values)


def write_rounds_csv(records: Iterable[EvaluatedRound], path: str | Path) -> Path:
    """Write every record to ``path`` (one row per round, header ``CSV_COLUMNS``) and return the path."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow(to_row(record))
    return path


def read_rounds_csv(path: str | Path) -> list[EvaluatedRound]:
    """Read a ``rounds.csv`` written by ``write_rounds_csv``."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [from_row(row) for row in csv.DictReader(handle)]
