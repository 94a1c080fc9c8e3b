"""The iterated game as a PettingZoo ``ParallelEnv``: every player moves at once, every round.

Scoring is ``rounds.play_round``; observations are ``observations.py``; the settings are ``GameSettings``. This module
only keeps the episode going: state, seeding, noise and ending.

## Episode

- ``reset`` draws the state, every player's "previous" move. With ``initial_state="random"`` they are uniform (player
  0's first, as the paper starts every episode); with ``"none"`` there is no history (a classic first round).
- Each ``step`` plays one round. ``noise`` flips each chosen legal action with that probability (``info`` keeps the
  intended and the actual action). An illegal answer (action 2, only with ``allow_illegal=True``) earns
  ``illegal_reward``; that player's state stays its last legal move; the round counts.
- Fixed length (``continuation_probability=None``): the episode terminates after ``num_rounds`` rounds. Geometric
  length: after each round the game continues with probability ``continuation_probability``, else terminates; it is
  truncated at ``num_rounds`` rounds if it gets there (pass ``num_rounds=None`` for no cap).

## Seeding

``reset(seed=...)`` seeds ``self.np_random``; each episode draws from it one seed for independent streams: initial
state, two prompt shuffles per player, noise and ending. The same seed gives the same trajectory, texts included.

## Version History

* v0: initial release (the paper's prompt, payoffs and episode of 5 rounds).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar

import gymnasium
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from matrix_games.core.actions import ILLEGAL, NO_MOVE, validate_action
from matrix_games.core.game import Game
from matrix_games.core.records import player_name
from matrix_games.core.rounds import RoundOutcome, play_round
from matrix_games.core.seeding import LazyStreams
from matrix_games.core.validation import check_choice
from matrix_games.envs.infos import numeric_infos
from matrix_games.envs.observations import (
    numeric_observation,
    observation_space,
    one_hot_observation,
    text_observation,
)
from matrix_games.envs.settings import GameSettings, settings_from

RENDER_MODES = ("ansi", "human")


def stream_names(num_players: int) -> tuple[str, ...]:
    """The per-episode random streams, in the order they are spawned (their order fixes every trajectory)."""
    shuffles = [f"{kind}_{player}" for player in range(num_players) for kind in ("options", "answers")]
    return ("initial_state", *shuffles, "noise", "ending")


class IteratedMatrixGameEnv(ParallelEnv):
    """Players repeat a stage game; each sees the paper's prompt (or numbers) about the previous round.

    Args:
        game: A game name (e.g. ``"prisoners_dilemma"``), a ``Game``, or a whole ``GameSettings``.
        render_mode: None, ``"ansi"`` (``render()`` returns a str) or ``"human"`` (``render()`` prints it).
        **settings: Any field of ``GameSettings``: ``num_rounds``, ``initial_state``, ``observation_type``,
            ``action_labels``, ``prompt``, ``noise``, ``continuation_probability``, ``allow_illegal``,
            ``illegal_reward`` (each documented there). They are also readable as attributes (``env.noise``).

    Example:
        >>> env = IteratedMatrixGameEnv("prisoners_dilemma", observation_type="numeric")
        >>> observations, infos = env.reset(seed=0)
        >>> _, rewards, *_ = env.step({"player_0": 0, "player_1": 1})
        >>> rewards
        {'player_0': 0.0, 'player_1': 4.0}
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "iterated_matrix_game_v0",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": True,
        "render_fps": 1,
    }

    def __init__(
        self, game: str | Game | GameSettings = "prisoners_dilemma", render_mode: str | None = None, **settings: Any
    ) -> None:
        self.settings = settings_from(game, settings)
        self.render_mode = check_choice("render_mode", render_mode, (None, *RENDER_MODES))
        self.possible_agents = [player_name(i) for i in range(self.settings.num_players)]
        self.agents: list[str] = []
        self.np_random, _ = seeding.np_random(None)
        self.round = 0
        self.previous_actions: tuple[int | None, ...] = (None,) * self.num_players
        self._last_actions: tuple[int, ...] = (NO_MOVE,) * self.num_players
        self.last_outcomes: tuple[RoundOutcome, ...] | None = None
        self.last_intended: tuple[int, ...] | None = None
        self._streams = stream_names(self.num_players)
        self._rngs = LazyStreams(None, *self._streams)
        self._observation_space = observation_space(self.settings)
        self._action_space = spaces.Discrete(3 if self.settings.allow_illegal else 2)

    # The settings read as attributes (``env.noise`` is ``env.settings.noise``).
    game = property(attrgetter("settings.game"))
    num_rounds = property(attrgetter("settings.num_rounds"))
    initial_state = property(attrgetter("settings.initial_state"))
    observation_type = property(attrgetter("settings.observation_type"))
    action_labels = property(attrgetter("settings.action_labels"))
    prompt = property(attrgetter("settings.prompt"))
    noise = property(attrgetter("settings.noise"))
    continuation_probability = property(attrgetter("settings.continuation_probability"))
    allow_illegal = property(attrgetter("settings.allow_illegal"))
    illegal_reward = property(attrgetter("settings.illegal_reward"))

    @property
    def num_players(self) -> int:
        return self.settings.num_players

    # Spaces are built once, so every call returns the same object (PettingZoo's API test checks identity).
    def observation_space(self, agent: str) -> spaces.Space:
        self._check_agent(agent)
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Discrete:
        self._check_agent(agent)
        return self._action_space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self._rngs = LazyStreams(int(self.np_random.integers(2**63)), *self._streams)
        self.agents = list(self.possible_agents)
        self.round = 0
        self.last_outcomes = self.last_intended = None
        if self.settings.initial_state == "random":
            draws = self._rngs["initial_state"].integers(0, 2, size=self.num_players)
            self.previous_actions = tuple(int(d) for d in draws)
            self._last_actions = self.previous_actions  # type: ignore[assignment]
        else:
            self.previous_actions = (None,) * self.num_players
            self._last_actions = (NO_MOVE,) * self.num_players
        infos = dict(zip(self.possible_agents, numeric_infos(self.previous_actions, 0), strict=True))
        return self._observations(), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise ValueError("step() called on a finished episode (agents is empty); call reset() first.")
        if set(actions) != set(self.agents):
            example = ", ".join(f"'{agent}': 0" for agent in self.agents)
            raise ValueError(
                f"step() needs one action per live agent {self.agents}, got actions for {sorted(actions)}; "
                f"pass e.g. {{{example}}}."
            )
        allow = self.settings.allow_illegal
        intended = tuple([validate_action(actions[a], allow_illegal=allow, agent=a) for a in self.possible_agents])
        played = intended
        if self.settings.noise > 0:  # no draw without noise: the noise stream is read by nothing else
            flips = self._rngs["noise"].random(self.num_players) < self.settings.noise
            played = tuple(1 - a if flip and a != ILLEGAL else a for a, flip in zip(intended, flips, strict=True))
        outcomes = play_round(
            self.settings.stage_game, played, self.previous_actions, illegal_reward=self.settings.illegal_reward
        )
        self.previous_actions = outcomes[0].state_after
        self._last_actions = played
        self.last_outcomes, self.last_intended = outcomes, intended
        self.round += 1
        terminated, truncated = self._episode_end()
        agents = self.possible_agents
        per_player = numeric_infos(outcomes[0].previous_actions, self.round, outcomes, intended)
        infos = dict(zip(agents, per_player, strict=True))
        observations = self._observations()
        rewards = {agent: outcomes[p].game_reward for p, agent in enumerate(agents)}
        terminations = dict.fromkeys(agents, terminated)
        truncations = dict.fromkeys(agents, truncated)
        if terminated or truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without render_mode; build the env with render_mode='ansi'.")
            return None
        frame = self._frame()
        if self.render_mode == "human":
            print(frame, end="")
            return None
        return frame

    def close(self) -> None:
        """Nothing to release (no window, no files)."""

    def _frame(self) -> str:
        game = self.settings.stage_game
        total = "" if self.settings.num_rounds is None else f" of {self.settings.num_rounds}"
        if self.last_outcomes is None:
            moves = ", ".join(
                f"{a} {self._label(m)}" for a, m in zip(self.possible_agents, self.previous_actions, strict=True)
            )
            return f"{game.title}, before round 1{total}; previous moves: {moves}\n"
        lines = [f"{game.title}, round {self.round}{total}"]
        for player, agent in enumerate(self.possible_agents):
            played, intended = self._last_actions[player], self.last_intended[player]  # type: ignore[index]
            flipped = f" (intended {self._label(intended)}, flipped by noise)" if played != intended else ""
            reward = self.last_outcomes[0].game_rewards[player]
            lines.append(f"  {agent}: {self._label(played)}{flipped} -> {reward:g}")
        return "\n".join(lines) + "\n"

    def _observations(self) -> dict[str, Any]:
        kind = self.settings.observation_type
        if kind == "one_hot":
            return {a: one_hot_observation(p, self._last_actions) for p, a in enumerate(self.possible_agents)}
        observations = {}
        for player, agent in enumerate(self.possible_agents):
            numeric = numeric_observation(player, self._last_actions)
            if kind == "numeric":
                observations[agent] = numeric
                continue
            text = text_observation(
                self.settings,
                player,
                self.previous_actions,
                self._rngs[f"options_{player}"],
                self._rngs[f"answers_{player}"],
            )
            observations[agent] = text if kind == "text" else {"text": text, "numeric": numeric}
        return observations

    def _episode_end(self) -> tuple[bool, bool]:
        cap, continuation = self.settings.num_rounds, self.settings.continuation_probability
        at_cap = cap is not None and self.round >= cap
        if continuation is None:
            return at_cap, False
        ended = bool(self._rngs["ending"].random() >= continuation)
        return ended, at_cap and not ended

    def _label(self, action: int | None) -> str:
        if action is None or action == NO_MOVE:
            return "none"
        return "no legal answer" if action == ILLEGAL else self.settings.action_labels[action]

    def _check_agent(self, agent: str) -> None:
        if agent not in self.possible_agents:
            raise ValueError(f"Unknown agent {agent!r}: expected one of {self.possible_agents}.")
