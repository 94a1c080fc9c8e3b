"""Rewards by name: the built-in frameworks, users' own (``register_reward``), and weighted sums of them.

A reward name is one framework (``"utilitarian"``), or a weighted sum of registered names (``"game+deontological"``,
the paper's Game+De; ``"0.5*game+utilitarian"``; ``"game-0.1*virtue_kindness"``), accepted wherever a reward is named:
the environments' ``reward=``, the wrappers, reward schedules, ``train`` and ``evaluate``. Every reward gives an
illegal answer ``illegal_reward`` (a weighted sum too: the answer had no move to weigh).

Registration is per process: ``register_reward("fair", fn)`` makes ``"fair"`` (and ``"game+fair"``) usable by name in
this process, e.g. before calling ``llm_agents.training.train``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from matrix_games.core.rounds import RoundOutcome
from matrix_games.core.validation import check_finite, close_match
from matrix_games.rewards import frameworks

RewardFn = Callable[[RoundOutcome], float]

MAX_REWARD = 1e6
"""The largest size of a reward's weight, a framework's parameter and the illegal answer's reward: larger values
overflow the running score statistics (squares past 3e38 leave float32's range) long before they mean anything."""


@dataclass(frozen=True)
class RewardParameters:
    """The parameters of the frameworks (docs/rewards.md).

    Attributes:
        deontological_penalty: xi of ``deontological`` and ``game_deontological`` (the paper trained with 3).
        kindness: What ``virtue_kindness`` gives a cooperative move.
        inequity_alpha: Fehr-Schmidt's envy weight (``inequity_aversion``).
        inequity_beta: Fehr-Schmidt's guilt weight.
    """

    deontological_penalty: float = frameworks.DEFAULT_DEONTOLOGICAL_PENALTY
    kindness: float = frameworks.DEFAULT_KINDNESS
    inequity_alpha: float = frameworks.DEFAULT_INEQUITY_ALPHA
    inequity_beta: float = frameworks.DEFAULT_INEQUITY_BETA

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            minimum = -MAX_REWARD if field.name == "kindness" else 0.0
            name = f"reward_parameters.{field.name}"
            value = check_finite(name, getattr(self, field.name), minimum=minimum, maximum=MAX_REWARD)
            object.__setattr__(self, field.name, value)

    @classmethod
    def of(cls, parameters: Mapping[str, float] | RewardParameters | None = None) -> RewardParameters:
        """The parameters given by name (``{"deontological_penalty": 3, "kindness": 2}``; the others keep their
        defaults), checked: an unknown name is refused with the closest known one."""
        if isinstance(parameters, RewardParameters):
            return parameters
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ValueError(
                f"reward_parameters must be a mapping of parameter names to numbers, e.g. {{'kindness': 2.0}}, got "
                f"{parameters!r}."
            )
        given = dict(parameters or {})
        known = [field.name for field in dataclasses.fields(cls)]
        for name in given:
            if name not in known:
                raise ValueError(f"Unknown reward parameter {name!r}.{close_match(str(name), known)} Known: {known}.")
        return cls(**given)

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def with_old_penalty(
    parameters: Mapping[str, float] | RewardParameters | None, deontological_penalty: float | None, where: str
) -> RewardParameters:
    """``RewardParameters.of(parameters)``, with a ``deontological_penalty=`` given the old way (beside the reward
    parameters) folded in and a warning that says where it goes now."""
    checked = RewardParameters.of(parameters)
    if deontological_penalty is None:
        return checked
    warnings.warn(
        f"{where}(deontological_penalty=...) is deprecated: give it among the reward parameters, "
        f"reward_parameters={{'deontological_penalty': {deontological_penalty!r}}}.",
        FutureWarning,
        stacklevel=3,
    )
    return dataclasses.replace(checked, deontological_penalty=deontological_penalty)


BUILTIN: Mapping[str, Callable[[RoundOutcome, RewardParameters], float]] = MappingProxyType(
    {
        "game": lambda o, p: frameworks.game(o),
        "deontological": lambda o, p: frameworks.deontological(o, penalty=p.deontological_penalty),
        "utilitarian": lambda o, p: frameworks.utilitarian(o),
        "game_deontological": lambda o, p: frameworks.game_deontological(o, penalty=p.deontological_penalty),
        "virtue_equality": lambda o, p: frameworks.virtue_equality(o),
        "virtue_kindness": lambda o, p: frameworks.virtue_kindness(o, kindness=p.kindness),
        "inequity_aversion": lambda o, p: frameworks.inequity_aversion(o, alpha=p.inequity_alpha, beta=p.inequity_beta),
    }
)
"""The built-in frameworks by name."""

REWARD_NAMES: tuple[str, ...] = tuple(BUILTIN)

_REGISTERED: dict[str, RewardFn] = {}

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_TERM = re.compile(r"\s*([+-]?)\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*\*\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*")


def register_reward(name: str, fn: RewardFn, *, replace: bool = False) -> None:
    """Make ``fn`` (``RoundOutcome -> float``) a reward called ``name`` in this process.

    Example:
        >>> register_reward("own_payoff_squared", lambda outcome: outcome.payoff**2, replace=True)
        >>> "own_payoff_squared" in reward_names()
        True
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"A reward name is lower-case letters, digits and '_' (e.g. 'fairness'), got {name!r}.")
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in reward; register yours under another name.")
    if not callable(fn):
        raise ValueError(f"register_reward({name!r}, fn) needs a function RoundOutcome -> float, got {fn!r}.")
    if name in _REGISTERED and not replace:
        raise ValueError(f"A reward {name!r} is registered already; pass replace=True to replace it.")
    _REGISTERED[name] = fn


def reward_names() -> tuple[str, ...]:
    """Every reward name known in this process: the built-ins, then the registered ones."""
    return (*BUILTIN, *_REGISTERED)


def registered_reward(name: str) -> RewardFn:
    """The function registered as ``name`` by ``register_reward`` (a KeyError if there is none)."""
    return _REGISTERED[name]


def parse_reward(text: str) -> tuple[tuple[float, str], ...]:
    """The ``(weight, name)`` terms of a reward name: ``"0.5*game+utilitarian"`` -> ``((0.5, "game"), (1.0,
    "utilitarian"))``; an unknown name raises with the closest known one."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"A reward is a name such as 'utilitarian' or '0.5*game+utilitarian', got {text!r}.")
    terms, position = [], 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or (terms and not match.group(1)) or match.end() == position:
            raise ValueError(
                f"Cannot read reward {text!r} at {text[position:]!r}: write names joined by + or -, each with an "
                "optional weight, e.g. '0.5*game+utilitarian'."
            )
        sign = -1.0 if match.group(1) == "-" else 1.0
        weight = sign * (float(match.group(2)) if match.group(2) else 1.0)
        if not abs(weight) <= MAX_REWARD:
            raise ValueError(
                f"The weight {match.group(2)} in reward {text!r} is too large: a weight is at most {MAX_REWARD:g} in "
                "size (larger ones overflow the rewards), e.g. '0.5*game+utilitarian'."
            )
        terms.append((weight, match.group(3)))
        position = match.end()
    for _, name in terms:
        if name not in BUILTIN and name not in _REGISTERED:
            where = "" if name == text.strip() else f" in {text!r}"
            raise ValueError(
                f"Unknown reward {name!r}{where}.{close_match(name, reward_names())} Known rewards: "
                f"{list(reward_names())}, or a weighted sum of them such as '0.5*game+utilitarian'. "
                "A reward of your own must be registered first, in this process: register_reward(name, fn)."
            )
    return tuple(terms)


def check_reward_name(name: Any) -> str:
    """Return ``name`` if it is a reward (a known name or a weighted sum of them), else raise with the closest."""
    parse_reward(name)
    return name


def make_reward_fn(
    name: str,
    *,
    illegal_reward: float = frameworks.DEFAULT_ILLEGAL_REWARD,
    parameters: RewardParameters | Mapping[str, float] | None = None,
) -> RewardFn:
    """The reward function ``name`` (a name or a weighted sum), with its parameters bound and checked.

    ``parameters`` are the frameworks' (``{"deontological_penalty": 4.0}``; ``RewardParameters`` has the defaults).
    """
    terms = parse_reward(name)
    parameters = RewardParameters.of(parameters)
    illegal_reward = check_finite(
        "illegal_reward", illegal_reward, example="-6", minimum=-MAX_REWARD, maximum=MAX_REWARD
    )
    parts = [(weight, _part(term, parameters)) for weight, term in terms]

    def reward(outcome: RoundOutcome) -> float:
        if outcome.is_illegal:
            return illegal_reward
        return float(sum(weight * part(outcome) for weight, part in parts))

    reward.__name__ = name
    return reward


def _part(name: str, parameters: RewardParameters) -> RewardFn:
    if name in BUILTIN:
        function = BUILTIN[name]
        return lambda outcome: function(outcome, parameters)
    return _REGISTERED[name]
