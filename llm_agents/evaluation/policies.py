"""The one interface every evaluated agent implements, and its baseline-strategy implementation.

An evaluation measures LLM agents and fixed strategies with the same ruler, so both are a ``Policy``: something that
answers a batch of observations (the prompt text and the numeric state behind it) with actions and answer texts.
``StrategyPolicy`` wraps any ``matrix_games`` strategy; ``llm_agents.evaluation.llm_policy`` wraps an LLM agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matrix_games.core.actions import ILLEGAL
from matrix_games.core.rounds import History
from matrix_games.envs.settings import GameSettings
from matrix_games.play.markov import ChainPlayer, strategy_player
from matrix_games.strategies import Strategy, make_strategy


@dataclass(frozen=True)
class Observation:
    """What a policy sees in one round of one game.

    Attributes:
        text: The prompt, exactly as the environment rendered it.
        previous_action: The policy's own state (its last legal move: 0 = C, 1 = D), None before any move.
        opponent_previous_action: The opponent's state, None before any move.
        labels: The (C label, D label) pair the prompt uses, e.g. ``("action3", "action4")``.
        others_previous_actions: Every other player's state, in player order, in a game of more than two players
            (there ``opponent_previous_action`` is their majority: C when more than half contributed); empty in a
            2x2 game.
    """

    text: str
    previous_action: int | None
    opponent_previous_action: int | None
    labels: tuple[str, str]
    others_previous_actions: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A policy's answer to one observation.

    Attributes:
        action: 0 (C), 1 (D) or 2 (no legal answer).
        answer: The answer text: an LLM's completion, or the chosen label for a strategy.
    """

    action: int
    answer: str


@runtime_checkable
class Policy(Protocol):
    """An agent under evaluation: answers a batch of observations, one decision per observation.

    ``reset(batch_size)`` starts ``batch_size`` new games (one per batch slot); the following ``act`` calls pass one
    observation per slot, in the same order, round after round. ``describe()`` says what the policy is, for the
    summary.
    """

    name: str

    def reset(self, batch_size: int) -> None: ...

    def act(self, observations: Sequence[Observation]) -> list[Decision]: ...

    def describe(self) -> dict[str, Any]: ...


class StrategyPolicy:
    """A baseline strategy (``always_defect``, ``tit_for_tat``, ...) as a Policy.

    Each batch slot gets its own strategy instance and History, rebuilt from the states it observes: the state in
    every observation is the previous round, so appending it round after round gives the strategy exactly the
    history it would see in an environment (the drawn initial round first, as in ``matrix_games``).

    Args:
        strategy: A strategy name known to ``make_strategy`` or a Strategy instance (then all slots share it).
        seed: Seeds the strategy's own randomness (only random strategies use it).
        **strategy_kwargs: Passed to ``make_strategy``, e.g. ``p=0.3`` for ``random``.

    Example:
        >>> policy = StrategyPolicy("always_defect")
        >>> policy.reset(1)
        >>> policy.act([Observation("...", 0, 0, ("action3", "action4"))])
        [Decision(action=1, answer='action4')]
    """

    def __init__(self, strategy: str | Strategy, *, seed: int = 0, **strategy_kwargs: Any) -> None:
        self._strategy = strategy
        self._strategy_kwargs = dict(strategy_kwargs)
        probe = make_strategy(strategy, **strategy_kwargs)
        self.name = probe.name
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._slots: list[tuple[Strategy, History]] = []

    def reset(self, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        self._slots = []
        for _ in range(batch_size):
            strategy = make_strategy(self._strategy, **self._strategy_kwargs)
            strategy.reset()
            self._slots.append((strategy, History()))

    def act(self, observations: Sequence[Observation]) -> list[Decision]:
        if len(observations) != len(self._slots):
            raise ValueError(
                f"{self.name}: got {len(observations)} observations for {len(self._slots)} games; "
                "call reset(batch_size) with the number of games first."
            )
        decisions = []
        for slot, observation in enumerate(observations):
            strategy, history = self._slots[slot]
            own = observation.previous_action
            others = observation.others_previous_actions or (observation.opponent_previous_action,)
            if own is not None and None not in others:
                history = history.append_round(own, others)  # type: ignore[arg-type]
            action = int(strategy.act(history, self._rng))
            self._slots[slot] = (strategy, history)
            answer = observation.labels[action] if action != ILLEGAL else ""
            decisions.append(Decision(action=action, answer=answer))
        return decisions

    def describe(self) -> dict[str, Any]:
        return {"kind": "strategy", "name": self.name, "strategy_kwargs": self._strategy_kwargs, "seed": self.seed}

    def exact_player(self, settings: GameSettings, game_id: str) -> tuple[ChainPlayer, None]:
        """The strategy as a Markov-chain player (``evaluate --exact``); no policy table."""
        return strategy_player(self._strategy, **self._strategy_kwargs), None
