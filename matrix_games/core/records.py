"""``RoundLog``: the one record of a played round, written by training and evaluation, read by every report.

A round log is a ``RoundOutcome`` (the whole round: every player's move, state, reward and payoff, and whose point of
view it is) plus where the round was played and what the player said: the section (training, the test games, the
other prompts), episode, round, which of the games played in lockstep, the game's id, the prompt kind and labels,
the prompt and the answer, and the rewards given. ``codec.py`` writes and reads it as JSON lines and CSV; every rate,
action type and label is derived from it by ``matrix_games.metrics``. A log reads like its outcome: ``log.action`` is
``log.outcome.action``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter

from matrix_games.core.actions import DEFAULT_LABELS
from matrix_games.core.rounds import RoundOutcome

SECTIONS: tuple[str, ...] = ("train", "games", "other_prompts")
"""Where a round was played: a training episode, the test games, or the test's other prompts."""


def player_name(index: int) -> str:
    """The agent name of player ``index`` (``player_0``, ``player_1``, ...)."""
    return f"player_{index}"


def player_index(name: str) -> int:
    """The index in a player name (``"player_1"`` -> 1)."""
    prefix, _, number = str(name).rpartition("_")
    if prefix != "player" or not number.isdigit():
        raise ValueError(f"Unknown player {name!r}: expected player_0, player_1, ...")
    return int(number)


@dataclass(frozen=True)
class RoundLog:
    """One round from one player's point of view, with its context.

    Attributes:
        outcome: The round (whose ``player`` is the point of view).
        episode: The episode index, from 0 (a PPO update in training).
        round: The round within the episode, from 0.
        match: Which of the games played in lockstep, from 0.
        game: The environment id without namespace, e.g. ``"IPD-v0"``.
        section: ``"train"``, ``"games"`` (the test games) or ``"other_prompts"`` (the test's other prompts).
        prompt_kind: The prompt variant the player read (``"original"``, ``"poetic"``, ...).
        labels: The (C label, D label) pair of the prompt.
        prompt: The prompt text ("" where it is not kept: training logs keep the answer, not the prompt).
        answer: The player's answer text.
        reward_name: The reward the player was trained on in this episode ("" at test time).
        reward: The training reward it was given (None at test time).
        rewards: Other rewards of the round, logged for reading (e.g. game, deontological, utilitarian).
    """

    outcome: RoundOutcome
    episode: int = 0
    round: int = 0
    match: int = 0
    game: str = ""
    section: str = "train"
    prompt_kind: str = "original"
    labels: tuple[str, str] = DEFAULT_LABELS
    prompt: str = ""
    answer: str = ""
    reward_name: str = ""
    reward: float | None = None
    rewards: Mapping[str, float] = field(default_factory=dict)

    @property
    def player(self) -> str:
        """The point of view as an agent name, ``player_0`` ..."""
        return player_name(self.outcome.player)

    @property
    def legal(self) -> bool:
        return not self.outcome.is_illegal

    # The outcome's fields and views read as the log's own (``log.action`` is ``log.outcome.action``).
    actions = property(attrgetter("outcome.actions"))
    previous_actions = property(attrgetter("outcome.previous_actions"))
    game_rewards = property(attrgetter("outcome.game_rewards"))
    payoffs = property(attrgetter("outcome.payoffs"))
    num_players = property(attrgetter("outcome.num_players"))
    action = property(attrgetter("outcome.action"))
    previous_action = property(attrgetter("outcome.previous_action"))
    game_reward = property(attrgetter("outcome.game_reward"))
    payoff = property(attrgetter("outcome.payoff"))
    joint_payoff = property(attrgetter("outcome.joint_payoff"))
    others = property(attrgetter("outcome.others"))
    opponent_action = property(attrgetter("outcome.opponent_action"))
    opponent_previous_action = property(attrgetter("outcome.opponent_previous_action"))
    opponent_game_reward = property(attrgetter("outcome.opponent_game_reward"))
    opponent_payoff = property(attrgetter("outcome.opponent_payoff"))
    is_illegal = property(attrgetter("outcome.is_illegal"))
    state_after = property(attrgetter("outcome.state_after"))
