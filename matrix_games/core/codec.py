"""The one codec of ``RoundLog``: JSON lines (training's ``rounds.jsonl``) and CSV (evaluation's ``rounds.csv``).

Both write moves by name (``actions.move_name``: ``C``, ``D``, ``illegal``; no move is JSON ``null`` and CSV
``none``) and every player's entry of a round, in player order, so one format holds any number of players. A JSON
line::

    {"section": "train", "episode": 12, "match": 0, "round": 3, "game": "IPD-v0", "player": "player_0",
     "prompt_kind": "original", "labels": ["C", "D"], "previous_actions": ["C", "C"], "actions": ["C", "D"],
     "game_rewards": [0.0, 4.0], "payoffs": [0.0, 4.0], "answer": "C", "reward_name": "utilitarian", "reward": 4.0,
     "rewards": {"game": 0.0, "deontological": 0.0, "utilitarian": 4.0}}

A CSV row holds the same fields (a player's entries space-separated: ``C D``) and may carry derived columns for
readers (action types, regrets), which reading ignores.

Files written by moral-matrix-games 0.1 (format 1: one player's moves and rewards per row) still read:
its ``rounds.csv`` rows hold the whole round; its ``rounds.jsonl`` rows lack the payoffs, which are recomputed from the
run's game, so they read with a ``Legacy`` context (``llm_agents`` passes the run's config).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix_games.core.actions import move_code, move_name
from matrix_games.core.game import Game
from matrix_games.core.records import RoundLog, player_index
from matrix_games.core.rounds import RoundOutcome, play_round

CSV_COLUMNS: tuple[str, ...] = (
    "section",
    "game",
    "prompt_kind",
    "episode",
    "round",
    "match",
    "player",
    "label_c",
    "label_d",
    "previous_actions",
    "actions",
    "game_rewards",
    "payoffs",
    "prompt",
    "answer",
    "reward_name",
    "reward",
)
"""The columns ``write_csv`` always writes, in order (derived columns follow)."""


@dataclass(frozen=True)
class Legacy:
    """What a format-1 ``rounds.jsonl`` row lacks: the game it was played on (payoffs are recomputed from it).

    Attributes:
        game: The stage game of the run.
        env: Its environment id without namespace (``"IPD-v0"``).
        illegal_reward: The run's reward of an illegal answer.
        labels: The run's labels.
    """

    game: Game
    env: str
    illegal_reward: float
    labels: tuple[str, str]


# ----------------------------------------------------------------------------------------------- JSON lines


def to_json(log: RoundLog) -> dict[str, Any]:
    """The JSON object of one log (the format of the module docstring)."""
    outcome = log.outcome
    data: dict[str, Any] = {
        "section": log.section,
        "episode": log.episode,
        "match": log.match,
        "round": log.round,
        "game": log.game,
        "player": log.player,
        "prompt_kind": log.prompt_kind,
        "labels": list(log.labels),
        "previous_actions": [move_name(m) for m in outcome.previous_actions],
        "actions": [move_name(m) for m in outcome.actions],
        "game_rewards": list(outcome.game_rewards),
        "payoffs": list(outcome.payoffs),
        "answer": log.answer,
        "reward_name": log.reward_name,
        "reward": _finite_or_none(log.reward),
        "rewards": {name: _finite_or_none(value) for name, value in log.rewards.items()},
    }
    if log.prompt:
        data["prompt"] = log.prompt
    return data


def from_json(data: Mapping[str, Any], legacy: Legacy | None = None) -> RoundLog:
    """The log of one JSON object (either format; format 1 needs ``legacy``)."""
    if "actions" not in data:
        return _from_legacy_json(data, legacy)
    player = player_index(data["player"])
    outcome = RoundOutcome(
        player=player,
        actions=tuple(move_code(m) for m in data["actions"]),  # type: ignore[misc]
        previous_actions=tuple(move_code(m) for m in data["previous_actions"]),
        game_rewards=tuple(float(x) for x in data["game_rewards"]),
        payoffs=tuple(float(x) for x in data["payoffs"]),
    )
    return RoundLog(
        outcome=outcome,
        episode=int(data["episode"]),
        round=int(data["round"]),
        match=int(data.get("match", 0)),
        game=str(data.get("game", "")),
        section=str(data.get("section", "train")),
        prompt_kind=str(data.get("prompt_kind", "original")),
        labels=tuple(data.get("labels") or ("action1", "action2")),  # type: ignore[arg-type]
        prompt=str(data.get("prompt", "")),
        answer=str(data.get("answer", "")),
        reward_name=str(data.get("reward_name", "")),
        reward=_float_or_none(data.get("reward")),
        rewards={name: _float_or_nan(value) for name, value in (data.get("rewards") or {}).items()},
    )


def _from_legacy_json(data: Mapping[str, Any], legacy: Legacy | None) -> RoundLog:
    if legacy is None:
        raise ValueError(
            "This rounds.jsonl row is in the format of moral-matrix-games 0.1 (no 'actions'), which lacks the "
            "payoffs; read it with codec.read_jsonl(path, legacy=Legacy(...)) or through the run folder "
            "(llm_agents.training.run_folder.read_rounds), which takes the game from the run's config.yaml."
        )
    player = player_index(data["player"])
    own = (move_code(data["previous_action"]), move_code(data["action"]))
    other = (move_code(data["opponent_previous_action"]), move_code(data["opponent_action"]))
    previous = [None, None]
    actions = [0, 0]
    previous[player], actions[player] = own
    previous[1 - player], actions[1 - player] = other
    outcome = play_round(legacy.game, actions, previous, illegal_reward=legacy.illegal_reward)[player]
    if not math.isclose(outcome.game_reward, float(data["game_reward"]), abs_tol=1e-9):
        raise ValueError(
            f"A format-1 rounds.jsonl row (episode {data['episode']}, round {data['round']}) has game_reward "
            f"{data['game_reward']} but {legacy.game.title} gives {outcome.game_reward}; is it the run's game?"
        )
    return RoundLog(
        outcome=outcome,
        episode=int(data["episode"]),
        round=int(data["round"]),
        match=int(data["game"]),
        game=legacy.env,
        section="train",
        labels=legacy.labels,
        answer=str(data.get("answer", "")),
        reward_name=str(data["reward_name"]),
        reward=_float_or_none(data.get("training_reward")),
        rewards={
            "game": float(data["game_reward"]),
            "deontological": float(data["deontological_reward"]),
            "utilitarian": float(data["utilitarian_reward"]),
        },
    )


def dumps(log: RoundLog) -> str:
    """One JSON line (no trailing newline)."""
    return json.dumps(to_json(log), ensure_ascii=False)


def read_jsonl(path: str | Path, legacy: Legacy | None = None) -> list[RoundLog]:
    """Every log of a JSON-lines file; a line that is not JSON raises naming the file and line."""
    return list(iter_jsonl(path, legacy))


def iter_jsonl(path: str | Path, legacy: Legacy | None = None) -> Iterator[RoundLog]:
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path} line {number} is not JSON: {error}.") from None
            yield from_json(data, legacy)


# ----------------------------------------------------------------------------------------------- CSV

Derived = Mapping[str, Callable[[RoundLog], Any]]


def to_csv_row(log: RoundLog, derived: Derived | None = None) -> dict[str, Any]:
    """The CSV row of one log, with the ``derived`` columns (name -> function of the log) after the fixed ones."""
    data = to_json(log)
    row: dict[str, Any] = {name: data.get(name, "") for name in CSV_COLUMNS}
    row["label_c"], row["label_d"] = log.labels
    for name in ("previous_actions", "actions"):
        row[name] = " ".join("none" if m is None else m for m in data[name])
    for name in ("game_rewards", "payoffs"):
        row[name] = " ".join(repr(float(x)) for x in data[name])
    row["reward"] = "" if log.reward is None else repr(float(log.reward))
    row["prompt"] = log.prompt
    for name, function in (derived or {}).items():
        value = function(log)
        row[name] = "" if value is None else value
    return row


def from_csv_row(row: Mapping[str, str]) -> RoundLog:
    """The log of one CSV row (either format)."""
    if "actions" not in row:
        return _from_legacy_csv(row)
    missing = [name for name in CSV_COLUMNS if name not in row]
    if missing:
        raise ValueError(f"rounds.csv row lacks columns {missing}; expected the columns {list(CSV_COLUMNS)}.")
    data: dict[str, Any] = dict(row)
    data["labels"] = [row["label_c"], row["label_d"]]
    for name in ("previous_actions", "actions"):
        data[name] = [None if m == "none" else m for m in row[name].split()]
    for name in ("game_rewards", "payoffs"):
        data[name] = [float(x) for x in row[name].split()]
    data["reward"] = None if row["reward"] == "" else float(row["reward"])
    data["rewards"] = {}
    return from_json(data)


def _from_legacy_csv(row: Mapping[str, str]) -> RoundLog:
    """A format-1 ``rounds.csv`` row (evaluation, player_0's point of view, both players' fields)."""
    legacy_columns = ("previous_action", "opponent_previous_action", "action", "opponent_action", "payoff")
    missing = [name for name in legacy_columns if name not in row]
    if missing:
        raise ValueError(f"rounds.csv row lacks columns {missing}: it is neither format 1 nor format 2.")
    outcome = RoundOutcome(
        player=0,
        actions=(move_code(row["action"]), move_code(row["opponent_action"])),  # type: ignore[arg-type]
        previous_actions=(move_code(row["previous_action"]), move_code(row["opponent_previous_action"])),
        game_rewards=(float(row["game_reward"]), float(row["opponent_game_reward"])),
        payoffs=(float(row["payoff"]), float(row["opponent_payoff"])),
    )
    return RoundLog(
        outcome=outcome,
        episode=int(row["episode"]),
        round=int(row["round"]),
        game=row["game"],
        section=row["section"],
        prompt_kind=row["prompt_kind"],
        labels=(row["label_c"], row["label_d"]),
        prompt=row["prompt"],
        answer=row["answer"],
    )


def write_csv(logs: Iterable[RoundLog], path: str | Path, derived: Derived | None = None) -> Path:
    """Write every log to ``path`` (header: ``CSV_COLUMNS`` then the derived columns) and return the path."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*CSV_COLUMNS, *(derived or {})])
        writer.writeheader()
        for log in logs:
            writer.writerow(to_csv_row(log, derived))
    return path


def read_csv(path: str | Path) -> list[RoundLog]:
    """Every log of a CSV file written by ``write_csv`` (or by version 0.1)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [from_csv_row(row) for row in csv.DictReader(handle)]


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)
