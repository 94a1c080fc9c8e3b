"""The iterated 2x2 matrix game as a PettingZoo ``ParallelEnv``: two players move at once, every round.

Scoring is ``rounds.play_round``; the text observation is ``text.render_prompt``; this module only keeps the episode
going: state, seeding, noise, ending and spaces.

## Episode

- ``reset`` draws the state, both players' "previous" moves. With ``initial_state="random"`` both are uniform (player
  0's first, as the paper starts every episode); with ``"none"`` there is no history (a classic first round).
- Each ``step`` plays one round. ``noise`` flips each chosen legal action with that probability (``info`` keeps the
  intended and the actual action). An illegal answer (action 2, only with ``allow_illegal=True``) earns
  ``illegal_reward``; that player's state stays its last legal move; the round counts.
- Fixed length (``continuation_probability=None``): the episode terminates after ``num_rounds`` rounds. Geometric
  length: after each round the game continues with probability ``continuation_probability``, else terminates; it is
  truncated at ``num_rounds`` rounds if it gets there (pass ``num_rounds=None`` for no cap).

## Observations (per player, from its own point of view)

- ``"text"``: the paper's prompt (``prompt`` picks the variant) with this player's payoffs (player 1 sees the
  transposed game) and state: its own last legal move and the opponent's.
- ``"numeric"``: ``MultiDiscrete([4, 4])``, the actions played in the previous round, own first, coded C=0, D=1,
  illegal=2, none=3 (no previous round). At reset with a random initial state these are the drawn moves.
- ``"dict"``: ``{"text": ..., "numeric": ...}``.

## Seeding

``reset(seed=...)`` seeds ``self.np_random``; each episode draws from it one seed for independent streams: initial
state, two prompt shuffles per player, noise and ending. The same seed gives the same trajectory, texts included.

## Version History

* v0: initial release (the paper's prompt, payoffs and episode of 5 rounds).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from matrix_games.actions import DEFAULT_LABELS, ILLEGAL, validate_action, validate_labels
from matrix_games.games import MatrixGame, get_game
from matrix_games.morality import DEFAULT_ILLEGAL_REWARD
from matrix_games.rounds import RoundOutcome, next_state, play_round
from matrix_games.seeding import spawn_rngs
from matrix_games.text import PROMPT_KINDS, TEXT_CHARSET, PromptKind, render_prompt

InitialState = Literal["random", "none"]
ObservationType = Literal["dict", "text", "numeric"]
OBSERVATION_TYPES: tuple[str, ...] = get_args(ObservationType)
INITIAL_STATES: tuple[str, ...] = get_args(InitialState)

NO_PREVIOUS_ACTION = 3
"""Numeric code for "no previous round" (C=0, D=1, illegal=2)."""

AGENTS = ("player_0", "player_1")
_STREAMS = ("initial_state", "options_0", "answers_0", "options_1", "answers_1", "noise", "ending")


def text_max_length(labels: tuple[str, str]) -> int:
    """An upper bound on the length of any prompt with these labels (used for the ``Text`` space)."""
    return 2048 + 16 * max(len(label) for label in labels) + 16 * 25


class IteratedMatrixGameEnv(ParallelEnv):
    """Two players repeat a 2x2 matrix game; each sees the paper's prompt about the previous round.

    Args:
        game: A game name from ``GAMES`` (e.g. ``"prisoners_dilemma"``) or a ``MatrixGame``.
        num_rounds: Rounds per episode (the paper's 5); with ``continuation_probability``, the cap (None: no cap).
        initial_state: ``"random"`` (a random previous round, as in the paper) or ``"none"`` (no history).
        observation_type: ``"dict"`` (``text`` and ``numeric``), ``"text"`` or ``"numeric"``.
        action_labels: The (C, D) labels shown in the text.
        prompt: The text variant, one of ``text.PROMPT_KINDS`` (default: the paper's training prompt).
        noise: Probability that a chosen legal action is flipped.
        continuation_probability: None for a fixed length, else the chance of another round after each round.
        allow_illegal: If True the action space is Discrete(3) and 2 means "no legal answer".
        illegal_reward: The game reward of an illegal answer (the paper's R_illegal).
        render_mode: None or ``"ansi"`` (``render()`` returns a str).

    Example:
        >>> env = IteratedMatrixGameEnv("prisoners_dilemma", observation_type="numeric")
        >>> observations, infos = env.reset(seed=0)
        >>> _, rewards, *_ = env.step({"player_0": 0, "player_1": 1})
        >>> rewards
        {'player_0': 0.0, 'player_1': 4.0}
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "iterated_matrix_game_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }
    possible_agents: ClassVar[list[str]] = list(AGENTS)

    def __init__(
        self,
        game: str | MatrixGame = "prisoners_dilemma",
        num_rounds: int | None = 5,
        initial_state: InitialState = "random",
        observation_type: ObservationType = "dict",
        action_labels: tuple[str, str] = DEFAULT_LABELS,
        prompt: PromptKind = "original",
        noise: float = 0.0,
        continuation_probability: float | None = None,
        allow_illegal: bool = False,
        illegal_reward: float = DEFAULT_ILLEGAL_REWARD,
        render_mode: str | None = None,
    ) -> None:
        self.game = get_game(game)
        self.continuation_probability = _check_continuation(continuation_probability, num_rounds)
        self.num_rounds = _check_num_rounds(num_rounds, continuation_probability)
        self.initial_state = _check_choice("initial_state", initial_state, INITIAL_STATES)
        self.observation_type = _check_choice("observation_type", observation_type, OBSERVATION_TYPES)
        self.action_labels = validate_labels(action_labels)
        self.prompt = _check_choice("prompt", prompt, PROMPT_KINDS)
        self.noise = _check_probability("noise", noise)
        self.allow_illegal = bool(allow_illegal)
        self.illegal_reward = float(illegal_reward)
        self.render_mode = _check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))
        self.agents: list[str] = []
        self.np_random, _ = seeding.np_random(None)
        self.round = 0
        self.previous_actions: tuple[int | None, int | None] = (None, None)
        self._last_actions: tuple[int, int] = (NO_PREVIOUS_ACTION, NO_PREVIOUS_ACTION)
        self._last_outcome: RoundOutcome | None = None
        self._last_intended: tuple[int, int] | None = None
        self._rngs: dict[str, np.random.Generator] = {}
        self._observation_space = _observation_space(self.observation_type, self.action_labels)
        self._action_space = spaces.Discrete(3 if self.allow_illegal else 2)

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
        self._rngs = spawn_rngs(int(self.np_random.integers(2**63)), *_STREAMS)
        self.agents = list(self.possible_agents)
        self.round = 0
        self._last_outcome = self._last_intended = None
        if self.initial_state == "random":
            draws = self._rngs["initial_state"].integers(0, 2, size=2)
            self.previous_actions = (int(draws[0]), int(draws[1]))
            self._last_actions = self.previous_actions  # type: ignore[assignment]
        else:
            self.previous_actions = (None, None)
            self._last_actions = (NO_PREVIOUS_ACTION, NO_PREVIOUS_ACTION)
        infos = {
            agent: {
                "round": 0,
                "previous_action": self.previous_actions[player],
                "opponent_previous_action": self.previous_actions[1 - player],
            }
            for player, agent in enumerate(AGENTS)
        }
        return self._observations(), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise ValueError("step() called on a finished episode (agents is empty); call reset() first.")
        if set(actions) != set(self.agents):
            raise ValueError(
                f"step() needs one action per live agent {self.agents}, got actions for {sorted(actions)}; "
                "pass e.g. {'player_0': 0, 'player_1': 1}."
            )
        intended = tuple(validate_action(actions[agent], allow_illegal=self.allow_illegal) for agent in AGENTS)
        flips = self._rngs["noise"].random(2) < self.noise
        played = tuple(1 - a if flip and a != ILLEGAL else a for a, flip in zip(intended, flips, strict=True))
        outcomes = play_round(self.game, played, self.previous_actions, illegal_reward=self.illegal_reward)
        self.previous_actions = next_state(outcomes[0])
        self._last_actions = played  # type: ignore[assignment]
        self._last_outcome, self._last_intended = outcomes[0], intended  # type: ignore[assignment]
        self.round += 1
        terminated, truncated = self._episode_end()
        infos = {agent: _round_info(outcomes[p], intended[p], self.round) for p, agent in enumerate(AGENTS)}
        observations = self._observations()
        rewards = {agent: outcomes[p].game_reward for p, agent in enumerate(AGENTS)}
        terminations = dict.fromkeys(AGENTS, terminated)
        truncations = dict.fromkeys(AGENTS, truncated)
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without render_mode; build the env with render_mode='ansi'.")
            return None
        total = "" if self.num_rounds is None else f" of {self.num_rounds}"
        if self._last_outcome is None:
            moves = ", ".join(f"{a} {self._label(m)}" for a, m in zip(AGENTS, self.previous_actions, strict=True))
            return f"{self.game.title}, before round 1{total}; previous moves: {moves}\n"
        lines = [f"{self.game.title}, round {self.round}{total}"]
        rewards = (self._last_outcome.game_reward, self._last_outcome.opponent_game_reward)
        for player, agent in enumerate(AGENTS):
            played, intended = self._last_actions[player], self._last_intended[player]  # type: ignore[index]
            flipped = f" (intended {self._label(intended)}, flipped by noise)" if played != intended else ""
            lines.append(f"  {agent}: {self._label(played)}{flipped} -> {rewards[player]:g}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        """Nothing to release (no window, no files)."""

    def _observations(self) -> dict[str, Any]:
        observations = {}
        for player, agent in enumerate(AGENTS):
            numeric = np.array([self._last_actions[player], self._last_actions[1 - player]], dtype=np.int64)
            if self.observation_type == "numeric":
                observations[agent] = numeric
                continue
            text = render_prompt(
                self.game.for_player(player),
                self.previous_actions[player],
                self.previous_actions[1 - player],
                option_rng=self._rngs[f"options_{player}"],
                answer_rng=self._rngs[f"answers_{player}"],
                labels=self.action_labels,
                kind=self.prompt,  # type: ignore[arg-type]
            )
            observations[agent] = text if self.observation_type == "text" else {"text": text, "numeric": numeric}
        return observations

    def _episode_end(self) -> tuple[bool, bool]:
        at_cap = self.num_rounds is not None and self.round >= self.num_rounds
        if self.continuation_probability is None:
            return at_cap, False
        ended = bool(self._rngs["ending"].random() >= self.continuation_probability)
        return ended, at_cap and not ended

    def _label(self, action: int | None) -> str:
        if action is None or action == NO_PREVIOUS_ACTION:
            return "none"
        return "no legal answer" if action == ILLEGAL else self.action_labels[action]

    def _check_agent(self, agent: str) -> None:
        if agent not in self.possible_agents:
            raise ValueError(f"Unknown agent {agent!r}: expected one of {self.possible_agents}.")


def _observation_space(observation_type: str, labels: tuple[str, str]) -> spaces.Space:
    text = spaces.Text(max_length=text_max_length(labels), min_length=0, charset=TEXT_CHARSET | set("".join(labels)))
    numeric = spaces.MultiDiscrete([4, 4])
    if observation_type == "text":
        return text
    return numeric if observation_type == "numeric" else spaces.Dict({"text": text, "numeric": numeric})


def _round_info(outcome: RoundOutcome, intended: int, round_number: int) -> dict[str, Any]:
    return {
        "action": outcome.action,
        "intended_action": intended,
        "opponent_action": outcome.opponent_action,
        "previous_action": outcome.previous_action,
        "opponent_previous_action": outcome.opponent_previous_action,
        "game_reward": outcome.game_reward,
        "opponent_game_reward": outcome.opponent_game_reward,
        "round": round_number,
        "outcome": outcome,
    }


def _check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        raise ValueError(f"Invalid {name} {value!r}: expected one of {list(choices)}.")
    return value


def _check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {name} {value!r}: expected a probability between 0 and 1, e.g. {name}=0.05.")
    return float(value)


def _check_continuation(probability: Any, num_rounds: Any) -> float | None:
    if probability is None:
        return None
    value = _check_probability("continuation_probability", probability)
    if num_rounds is None and value >= 1.0:
        raise ValueError(
            "continuation_probability=1.0 with num_rounds=None never ends; pass a probability below 1 or a num_rounds."
        )
    return value


def _check_num_rounds(num_rounds: Any, continuation_probability: Any) -> int | None:
    if num_rounds is None and continuation_probability is not None:
        return None
    if isinstance(num_rounds, bool) or not isinstance(num_rounds, (int, np.integer)) or num_rounds < 1:
        hint = " (None is allowed only with a continuation_probability)" if num_rounds is None else ""
        raise ValueError(f"Invalid num_rounds {num_rounds!r}: expected a positive integer, e.g. 5{hint}.")
    return int(num_rounds)
