"""``GameSettings``: everything that defines an iterated game's environment, in one frozen dataclass.

Both environments (the PettingZoo parallel env and the Gymnasium single-agent view), the ``llm_agents`` training
runner and its test bench build their environments from it, so each setting is named, checked and documented once.
The reward is not a setting of the game: it belongs to the reward layer (``wrappers.py``, ``rewards/``).

Example:
    >>> settings = GameSettings("stag_hunt", num_rounds=10, observation_type="numeric")
    >>> settings.game.title, settings.num_rounds
    ('Iterated Stag Hunt', 10)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

from matrix_games.core.actions import DEFAULT_LABELS, validate_labels
from matrix_games.core.games import PUBLIC_GOODS, Game, get_game
from matrix_games.core.validation import check_choice, check_finite, check_int, check_probability, close_match
from matrix_games.rewards import DEFAULT_ILLEGAL_REWARD
from matrix_games.text import PROMPT_KINDS, PromptKind

InitialState = Literal["random", "none"]
INITIAL_STATES: tuple[str, ...] = get_args(InitialState)

ObservationType = Literal["dict", "text", "numeric", "one_hot"]
OBSERVATION_TYPES: tuple[str, ...] = get_args(ObservationType)


@dataclass(frozen=True)
class GameSettings:
    """One iterated game's environment.

    Attributes:
        game: A game name from ``GAMES`` (e.g. ``"prisoners_dilemma"``) or a ``Game`` (a ``MatrixGame`` or the
            public goods game); a name is resolved to its game.
        num_rounds: Rounds per episode (the paper's 5); with ``continuation_probability``, the cap (None: no cap).
        initial_state: ``"random"`` (a random previous round for every player, as in the paper) or ``"none"`` (no
            history: a classic first round).
        observation_type: ``"dict"`` (``text`` and ``numeric``), ``"text"``, ``"numeric"`` or ``"one_hot"`` (the
            numeric one as a flat float Box, for default MLP encoders); see ``observations.py``.
        action_labels: The (C, D) labels shown in the text.
        prompt: The text variant, one of ``text.PROMPT_KINDS`` (default: the paper's training prompt).
        noise: Probability that a chosen legal action is flipped.
        continuation_probability: None for a fixed length, else the chance of another round after each round.
        allow_illegal: If True the action space is Discrete(3) and 2 means "no legal answer".
        illegal_reward: The game reward of an illegal answer (the paper's R_illegal).
    """

    game: str | Game = "prisoners_dilemma"
    num_rounds: int | None = 5
    initial_state: InitialState = "random"
    observation_type: ObservationType = "dict"
    action_labels: tuple[str, str] = DEFAULT_LABELS
    prompt: PromptKind = "original"
    noise: float = 0.0
    continuation_probability: float | None = None
    allow_illegal: bool = False
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "game", get_game(self.game))
        continuation = self.continuation_probability
        if continuation is not None:
            continuation = check_probability("continuation_probability", continuation)
            if self.num_rounds is None and continuation >= 1.0:
                raise ValueError(
                    "continuation_probability=1.0 with num_rounds=None never ends; pass a probability below 1 or a "
                    "num_rounds."
                )
        set_(self, "continuation_probability", continuation)
        if self.num_rounds is None and continuation is None:
            raise ValueError(
                "Invalid num_rounds None: expected a positive integer, e.g. 5 (None is allowed only with a "
                "continuation_probability)."
            )
        if self.num_rounds is not None:
            set_(self, "num_rounds", check_int("num_rounds", self.num_rounds, minimum=1, example=5))
        check_choice("initial_state", self.initial_state, INITIAL_STATES)
        check_choice("observation_type", self.observation_type, OBSERVATION_TYPES)
        check_choice("prompt", self.prompt, PROMPT_KINDS)
        if self.stage_game.num_players > 2 or self.stage_game.name == PUBLIC_GOODS:
            from matrix_games.text.public_goods import PUBLIC_GOODS_PROMPTS

            if self.prompt not in PUBLIC_GOODS_PROMPTS:
                raise ValueError(
                    f"Invalid prompt {self.prompt!r} for the public goods game: expected one of "
                    f"{list(PUBLIC_GOODS_PROMPTS)}."
                )
        set_(self, "action_labels", validate_labels(self.action_labels))
        set_(self, "noise", check_probability("noise", self.noise))
        if not isinstance(self.allow_illegal, bool):
            raise ValueError(f"allow_illegal must be True or False, got {self.allow_illegal!r}.")
        set_(self, "illegal_reward", check_finite("illegal_reward", self.illegal_reward, example="-6"))

    @property
    def stage_game(self) -> Game:
        """The resolved game (``game`` after construction, typed as a ``Game``)."""
        return self.game  # type: ignore[return-value]

    @property
    def num_players(self) -> int:
        return self.stage_game.num_players

    def replace(self, **changes: Any) -> GameSettings:
        """A copy with some settings changed (checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))


GAME_PARAMETERS = ("num_players", "endowment", "multiplier")
"""The public goods game's own parameters, accepted by the environments next to the settings."""


def settings_from(game: str | Game | GameSettings, changes: dict[str, Any]) -> GameSettings:
    """``GameSettings`` from an environment's arguments: a settings object (changed by ``changes``), or a game and the
    settings as keyword arguments (with ``game="public_goods"``, also ``num_players``, ``endowment`` and
    ``multiplier``; ``max_cycles`` is read as ``num_rounds``). An unknown keyword raises a TypeError that lists the
    known ones."""
    if "max_cycles" in changes:  # PettingZoo's name for the episode length, as its max_cycles_test passes it
        cycles = changes.pop("max_cycles")
        if changes.get("num_rounds", cycles) != cycles:
            raise ValueError(
                f"max_cycles={cycles!r} and num_rounds={changes['num_rounds']!r} disagree: max_cycles is PettingZoo's "
                "name for num_rounds; give one of them."
            )
        changes["num_rounds"] = cycles
    parameters = {key: changes.pop(key) for key in GAME_PARAMETERS if key in changes}
    if parameters:
        if game != PUBLIC_GOODS:
            raise TypeError(f"{sorted(parameters)} are parameters of the public goods game, not of {game!r}.")
        from matrix_games.core.public_goods import PublicGoodsGame

        game = PublicGoodsGame(**parameters)
    unknown = sorted(set(changes) - set(GameSettings.field_names()))
    if unknown:
        known = [*GameSettings.field_names(), *GAME_PARAMETERS, "render_mode"]
        raise TypeError(
            f"got an unexpected keyword argument {unknown[0]!r} (Python's wording, which wrappers such as TorchRL's "
            f"GymEnv look for): unknown environment argument(s) {unknown}.{close_match(unknown[0], known)} The game "
            f"settings are {list(GameSettings.field_names())}."
        )
    if isinstance(game, GameSettings):
        return game.replace(**changes) if changes else game
    return GameSettings(game=game, **changes)
