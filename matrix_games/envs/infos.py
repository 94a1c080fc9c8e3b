"""The ``info`` dicts of the environments: one owner of what each key holds, at reset and at every step.

Two forms, because two kinds of client read them:

- **numbers** (``numeric_info``), the PettingZoo envs' infos: the same keys at reset and at every step, each an int
  or a float (or a tuple of ints), so tensor-based wrappers (TorchRL's ``PettingZooWrapper`` builds its info spec
  from the reset infos and writes every step info into it) hold them. Moves are coded as in the numeric observation:
  C=0, D=1, illegal=2, none=3 (no previous round; at reset no action yet).
- **rich** (``reset_info``, ``round_info``), the Gymnasium single-agent view's infos: ``None`` for "no move yet" and
  the whole ``RoundOutcome`` under ``"outcome"``, which the moral rewards, the LLM agents and our examples read.

The PettingZoo env's numbers hold the whole round: ``round_outcomes`` rebuilds every player's ``RoundOutcome`` from a
step's infos with the pure ``rounds.play_round`` the env scored it with, so a wrapper (``MoralRewardParallel``) or a
training loop takes the round from what ``step`` returned, not from the env's state. (The env also keeps it, as
``env.last_outcomes``, for a reader at the console.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matrix_games.core.actions import NO_MOVE
from matrix_games.core.game import Game
from matrix_games.core.records import player_name
from matrix_games.core.rounds import RoundOutcome, majority_move, play_round


def _code(move: int | None) -> int:
    return NO_MOVE if move is None else int(move)


def _opponent_state(state: Sequence[int | None], player: int) -> int | None:
    others = [move for index, move in enumerate(state) if index != player]
    return others[0] if len(others) == 1 else majority_move(others)


def reset_info(state: Sequence[int | None], player: int) -> dict[str, Any]:
    """The rich reset info of ``player``: the state the episode starts from (the others' majority when several)."""
    return {
        "round": 0,
        "previous_action": state[player],
        "opponent_previous_action": _opponent_state(state, player),
        "previous_actions": tuple(state),
    }


def round_info(outcome: RoundOutcome, intended: int, round_number: int) -> dict[str, Any]:
    """The rich step info of one player: the round from its point of view, with the ``RoundOutcome`` itself."""
    info = {
        "action": outcome.action,
        "intended_action": intended,
        "opponent_action": outcome.opponent_action,
        "previous_action": outcome.previous_action,
        "opponent_previous_action": outcome.opponent_previous_action,
        "previous_actions": outcome.previous_actions,
        "game_reward": outcome.game_reward,
        "round": round_number,
        "outcome": outcome,
    }
    if outcome.num_players == 2:
        info["opponent_game_reward"] = outcome.opponent_game_reward
    return info


def numeric_infos(
    state: Sequence[int | None],
    round_number: int,
    outcomes: Sequence[RoundOutcome] | None = None,
    intended: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The numbers-only info of every player, in player order: at reset (``outcomes`` None, ``state`` the start) or
    after a round (``outcomes`` every player's, ``intended`` the moves before noise); the same keys in both.

    Example:
        >>> info = numeric_infos((0, None), 0)[0]
        >>> sorted(info)[:3], info["opponent_previous_action"]
        (['action', 'game_reward', 'intended_action'], 3)
    """
    if outcomes is None:
        previous, rewards = tuple(state), (0.0,) * len(state)
        actions = chosen = (NO_MOVE,) * len(state)
    else:
        first = outcomes[0]
        previous, rewards, actions = first.previous_actions, first.game_rewards, first.actions
        chosen = actions if intended is None else intended
    codes = tuple(NO_MOVE if move is None else move for move in previous)
    if len(codes) == 2:  # the common case, written out: it runs every step of every 2x2 game
        return [
            {
                "round": round_number,
                "action": actions[p],
                "intended_action": chosen[p],
                "opponent_action": actions[1 - p],
                "previous_action": codes[p],
                "opponent_previous_action": codes[1 - p],
                "previous_actions": codes,
                "game_reward": rewards[p],
                "opponent_game_reward": rewards[1 - p],
            }
            for p in (0, 1)
        ]
    infos = []
    for p in range(len(codes)):
        others = [move for index, move in enumerate(actions) if index != p]
        infos.append(
            {
                "round": round_number,
                "action": actions[p],
                "intended_action": chosen[p],
                "opponent_action": _code(None if outcomes is None else majority_move(others)),
                "previous_action": codes[p],
                "opponent_previous_action": _code(_opponent_state(previous, p)),
                "previous_actions": codes,
                "game_reward": rewards[p],
            }
        )
    return infos


def round_outcomes(
    infos: Mapping[str, Mapping[str, Any]], game: Game, *, illegal_reward: float
) -> tuple[RoundOutcome, ...]:
    """Every player's ``RoundOutcome`` of the round a step's numeric ``infos`` (by agent name) describe.

    ``game`` and ``illegal_reward`` are the env's (``env.settings``); the moves played (after noise) and the state
    before the round are in the infos, so scoring them again gives the env's outcomes exactly.

    Example:
        >>> from matrix_games.core.games import get_game
        >>> infos = dict(zip(["player_0", "player_1"], numeric_infos((None, None), 0)))
        >>> infos["player_0"]["action"], infos["player_1"]["action"] = 1, 0
        >>> round_outcomes(infos, get_game("prisoners_dilemma"), illegal_reward=-6.0)[0].game_rewards
        (4.0, 0.0)
    """
    previous = tuple(None if code == NO_MOVE else code for code in infos[player_name(0)]["previous_actions"])
    actions = [infos[player_name(p)]["action"] for p in range(len(previous))]
    return play_round(game, actions, previous, illegal_reward=illegal_reward)
