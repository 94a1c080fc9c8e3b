"""Iterated games as Markov chains: the expected results of players given as move probabilities, with no sampling.

Before each round the state of an iterated game is every player's last legal move (an environment's
``previous_actions``; None before any). A player whose move probabilities depend only on that state and on a finite
memory of its own is a ``ChainPlayer``: a policy table of the exact analysis (``TablePlayer``: P(C), P(D) and
P(illegal) per state it can see), a memory-one strategy, or one of the few strategies that remember a little more
(grim trigger, tit-for-two-tats, ...; ``strategy_player``). With every player of that kind the game is a Markov chain
on (state, memories), and the environment's rules make its transitions: a round is ``rounds.play_round`` of the
players' moves, an illegal answer keeps its player's last legal move, and each strategy sees the history it would
see in the environment.

``build_chain`` enumerates the chain from the episode's first state (``"random"``: every player's previous move
uniform and independent, as the environments draw it; ``"none"``: a classic first round). From it:

- ``MarkovChain.weighted_rounds``: the distribution of a round drawn uniformly from all rounds of infinitely many
  episodes (every outcome with its probability), for a fixed number of rounds or a geometric length (continuation
  probability, with or without a cap). Any per-round metric's expectation is its weighted mean over these rounds,
  which is what the mean over sampled rounds converges to.
- ``MarkovChain.long_run``: the long-run (Cesaro) distribution of states from the first state, and
  ``stationary_distributions``: one per closed class of the chain.

Why by hand: no library of the field computes these. Axelrod samples its matches and fingerprints; our own vector
engine samples too.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.game import Game
from matrix_games.core.rounds import RoundOutcome, majority_move, play_round
from matrix_games.strategies import Strategy, make_strategy
from matrix_games.strategies.base import memory_one_form

State = tuple[int | None, ...]
Moves = tuple[float, float, float]
"""P(C), P(D), P(illegal) of one player's next move."""

InitialState = Literal["random", "none"]

_MOVE = {C: "C", D: "D", None: "-"}


def state_name(state: State, player: int) -> str:
    """The state as ``player`` reads it in its prompt: own previous move, then the opponent's (``"CD"``: I played
    C, they played D), or in a game of more players own move and how many others played C (``"C2"``); ``"-"`` for a
    player with no legal move yet, and ``"none"`` before any move at all.

    Example:
        >>> state_name((0, 1), 0), state_name((0, 1), 1), state_name((1, 0, 0, 1), 0), state_name((None, None), 0)
        ('CD', 'DC', 'D2', 'none')
    """
    if all(move is None for move in state):
        return "none"
    own = _MOVE[state[player]]
    if len(state) == 2:
        return own + _MOVE[state[1 - player]]
    others = [move for index, move in enumerate(state) if index != player]
    unknown = sum(move is None for move in others)
    return f"{own}{sum(move == C for move in others)}" + (f"?{unknown}" if unknown else "")


def state_names(num_players: int, initial: InitialState = "random") -> tuple[str, ...]:
    """The states a player of an ``num_players`` game reads when episodes start from ``initial`` (the states with
    a missing move only arise after an illegal first answer, from ``"none"``)."""
    moves = (C, D) if initial == "random" else (C, D, None)
    names = {
        state_name((own, *others), 0) for own in moves for others in itertools.product(moves, repeat=num_players - 1)
    }
    return tuple(sorted(names, key=_state_order))


def representative_states(num_players: int, initial: InitialState = "random", player: int = 0) -> dict[str, State]:
    """One joint state for each state name ``player`` reads (``state_names`` order): the prompt and every player
    here depend on the name only (in the public goods game on how many others contributed, not which)."""
    moves = (int(C), int(D)) if initial == "random" else (int(C), int(D), None)
    found: dict[str, State] = {}
    for state in itertools.product(moves, repeat=num_players):
        found.setdefault(state_name(state, player), state)
    return {name: found[name] for name in sorted(found, key=_state_order)}


def _state_order(name: str) -> tuple:
    return (name == "none", name.replace("-", "~"))


class ChainPlayer(Protocol):
    """A player of a Markov chain: move probabilities from the state and a finite memory of its own."""

    name: str

    def start(self, state: State, player: int) -> Hashable:
        """Its memory at the start of an episode whose first state is ``state``."""

    def moves(self, memory: Hashable, state: State, player: int) -> Moves:
        """P(C), P(D), P(illegal) of its move in a round whose state is ``state``."""

    def remember(self, memory: Hashable, state: State, player: int) -> Hashable:
        """Its memory after a round that left the state ``state``."""


@dataclass(frozen=True)
class TablePlayer:
    """A memory-one policy with illegal answers: P(C), P(D), P(illegal) for each state name it can read.

    Attributes:
        moves_by_state: ``{state_name: (p_c, p_d, p_illegal)}`` (``state_name`` of the player's own view).
        name: What it is called in results.
    """

    moves_by_state: Mapping[str, Moves]
    name: str = "table"

    def __post_init__(self) -> None:
        checked = {}
        for state, moves in self.moves_by_state.items():
            values = tuple(float(p) for p in moves)
            if len(values) != 3 or min(values) < -1e-12 or abs(sum(values) - 1.0) > 1e-9:
                raise ValueError(
                    f"TablePlayer {self.name!r}: state {state!r} needs (P(C), P(D), P(illegal)) summing to 1, got "
                    f"{moves!r}."
                )
            checked[str(state)] = tuple(max(p, 0.0) for p in values)
        object.__setattr__(self, "moves_by_state", checked)

    def start(self, state: State, player: int) -> Hashable:
        return None

    def moves(self, memory: Hashable, state: State, player: int) -> Moves:
        name = state_name(state, player)
        if name not in self.moves_by_state:
            raise ValueError(
                f"TablePlayer {self.name!r} has no move probabilities for state {name!r} (it has "
                f"{sorted(self.moves_by_state)}); analyse the policy on every state the game reaches."
            )
        return self.moves_by_state[name]  # type: ignore[return-value]

    def remember(self, memory: Hashable, state: State, player: int) -> Hashable:
        return None


def _known(state: State) -> bool:
    return all(move is not None for move in state)


def _opponent(state: State, player: int) -> int | None:
    """The opponent's move as a strategy's ``History`` records it: the other player's, or the others' majority."""
    others = [move for index, move in enumerate(state) if index != player]
    return others[0] if len(others) == 1 else majority_move(others)


@dataclass(frozen=True)
class MemoryOnePlayer:
    """A strategy's memory-one form (``Strategy.memory_one``): P(C) in a first round and after CC, CD, DC, DD."""

    name: str
    first: float
    four_vector: tuple[float, float, float, float]

    def start(self, state: State, player: int) -> Hashable:
        return None

    def moves(self, memory: Hashable, state: State, player: int) -> Moves:
        known = _known(state)
        p = self.four_vector[2 * state[player] + _opponent(state, player)] if known else self.first  # type: ignore[operator]
        return (p, 1.0 - p, 0.0)

    def remember(self, memory: Hashable, state: State, player: int) -> Hashable:
        return None


@dataclass(frozen=True)
class _RememberingPlayer:
    """The built-in strategies that read more than the last round, each with the little it must remember:
    ``grim_trigger`` and ``group_grim_trigger`` whether a defection was seen, ``tit_for_two_tats`` and
    ``two_tits_for_tat`` the opponent's last two moves, ``conditional_cooperator`` the others' last moves."""

    name: str
    k: int | None = None

    def start(self, state: State, player: int) -> Hashable:
        return self.remember((), state, player) if _known(state) else ()

    def remember(self, memory: Hashable, state: State, player: int) -> Hashable:
        if not _known(state):
            return memory
        if self.name == "grim_trigger":
            return bool(memory) or _opponent(state, player) == D
        if self.name == "group_grim_trigger":
            return bool(memory) or any(move == D for i, move in enumerate(state) if i != player)
        if self.name in ("tit_for_two_tats", "two_tits_for_tat"):
            return (*memory, _opponent(state, player))[-2:]  # type: ignore[misc]
        return tuple(move for i, move in enumerate(state) if i != player)  # conditional_cooperator

    def moves(self, memory: Hashable, state: State, player: int) -> Moves:
        if self.name in ("grim_trigger", "group_grim_trigger"):
            defect = bool(memory)
        elif self.name == "tit_for_two_tats":
            defect = memory == (D, D)
        elif self.name == "two_tits_for_tat":
            defect = D in memory  # type: ignore[operator]
        else:
            others = memory
            needed = len(others) // 2 + 1 if self.k is None else self.k  # type: ignore[arg-type]
            defect = bool(others) and sum(move == C for move in others) < needed  # type: ignore[union-attr]
        return (0.0, 1.0, 0.0) if defect else (1.0, 0.0, 0.0)


_REMEMBERING = ("grim_trigger", "group_grim_trigger", "tit_for_two_tats", "two_tits_for_tat", "conditional_cooperator")


def strategy_player(strategy: str | Strategy, **kwargs: object) -> ChainPlayer:
    """A strategy as a ``ChainPlayer``: its memory-one form, or the exact form of a built-in strategy that remembers
    more; any other strategy is refused (it cannot be played without sampling).

    Example:
        >>> strategy_player("random", p=0.3).moves(None, (0, 1), 0)
        (0.3, 0.7, 0.0)
    """
    built = make_strategy(strategy, **kwargs)  # type: ignore[arg-type]
    form = memory_one_form(built)
    if form is not None:
        return MemoryOnePlayer(built.name, float(form[0]), tuple(float(p) for p in form[1]))  # type: ignore[arg-type]
    if built.name in _REMEMBERING and type(built).__module__.startswith("matrix_games."):
        return _RememberingPlayer(built.name, getattr(built, "k", None))
    raise ValueError(
        f"Strategy {built!r} has no exact form: only memory-one strategies and {list(_REMEMBERING)} can be played "
        "as a Markov chain; evaluate it by sampling instead."
    )


ChainState = tuple[State, tuple[Hashable, ...]]


@dataclass
class MarkovChain:
    """An iterated game of ``ChainPlayer``s as a Markov chain on (state, memories) (see the module docstring).

    Attributes:
        states: The chain's states, in the order of every array's axis.
        initial: The distribution of the first state of an episode.
        transition: ``transition[i, j]``: P(next chain state j | chain state i).
        rounds: For each chain state, every way its round can go: (probability, every player's ``RoundOutcome``).
    """

    states: list[ChainState]
    initial: np.ndarray
    transition: np.ndarray
    rounds: list[list[tuple[float, tuple[RoundOutcome, ...]]]] = field(repr=False)

    def visits(self, rounds: int | None = 5, continuation: float | None = None) -> np.ndarray:
        """Expected visits of each chain state in one episode (its rounds' states): ``rounds`` rounds, or a geometric
        length (after each round another with probability ``continuation``) capped at ``rounds`` (None: no cap)."""
        if continuation is None:
            if rounds is None:
                raise ValueError("An episode needs a number of rounds, a continuation probability, or both.")
            continuation = 1.0
        if not 0.0 <= continuation <= 1.0:
            raise ValueError(f"continuation must be a probability in [0, 1], got {continuation!r}.")
        if rounds is None:
            if continuation >= 1.0:
                raise ValueError("A continuation probability of 1 with no cap on the rounds never ends.")
            identity = np.eye(len(self.states))
            return np.linalg.solve((identity - continuation * self.transition).T, self.initial)
        total, current = np.zeros(len(self.states)), self.initial.copy()
        for _ in range(rounds):
            total += current
            current = continuation * (current @ self.transition)
        return total

    def weighted_rounds(
        self, viewer: int = 0, rounds: int | None = 5, continuation: float | None = None
    ) -> list[tuple[RoundOutcome, float]]:
        """Every outcome of a round seen by ``viewer``, with its share of all rounds (the shares sum to 1)."""
        visits = self.visits(rounds, continuation)
        weights: dict[RoundOutcome, float] = {}
        for index, ways in enumerate(self.rounds):
            if visits[index] == 0.0:
                continue
            for probability, outcomes in ways:
                outcome = outcomes[viewer]
                weights[outcome] = weights.get(outcome, 0.0) + visits[index] * probability
        total = float(visits.sum())
        return [(outcome, weight / total) for outcome, weight in weights.items()]

    def expected_rounds_per_episode(self, rounds: int | None = 5, continuation: float | None = None) -> float:
        return float(self.visits(rounds, continuation).sum())

    def stationary_distributions(self) -> list[np.ndarray]:
        """One stationary distribution per closed class of the chain (the chain's long run, wherever it ends)."""
        return [stationary for _, stationary in _closed_classes(self.transition)]

    def long_run(self) -> np.ndarray:
        """The long-run distribution of chain states from ``initial``: the limit of the average over the first n
        rounds (it exists for every chain, periodic ones included), through the closed class each episode ends in."""
        classes = _closed_classes(self.transition)
        closed = np.zeros(len(self.states), dtype=bool)
        for members, _ in classes:
            closed[members] = True
        transient = np.flatnonzero(~closed)
        result = np.zeros(len(self.states))
        if transient.size:
            q = self.transition[np.ix_(transient, transient)]
            reach = np.linalg.solve(np.eye(transient.size) - q, np.eye(transient.size))  # expected visits
        for members, stationary in classes:
            absorbed = self.initial[members].sum()
            if transient.size:
                into = self.transition[np.ix_(transient, members)].sum(axis=1)
                absorbed += self.initial[transient] @ reach @ into
            result[members] += absorbed * stationary
        return result

    def state_distribution(self, distribution: np.ndarray, player: int = 0) -> dict[str, float]:
        """A distribution over chain states as one over the state names ``player`` reads."""
        named: dict[str, float] = {}
        for (state, _), probability in zip(self.states, distribution, strict=True):
            name = state_name(state, player)
            named[name] = named.get(name, 0.0) + float(probability)
        return named


def _closed_classes(transition: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each closed communicating class of the chain (members, its stationary distribution on them)."""
    size = len(transition)
    reach = (transition > 0) | np.eye(size, dtype=bool)
    for _ in range(max(1, int(np.ceil(np.log2(max(size, 2)))))):  # transitive closure by squaring
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    classes, seen = [], np.zeros(size, dtype=bool)
    for state in range(size):
        if seen[state]:
            continue
        members = np.flatnonzero(reach[state] & reach[:, state])
        seen[members] = True
        leaving = np.setdiff1d(np.flatnonzero(reach[state]), members)
        if leaving.size == 0:
            block = transition[np.ix_(members, members)]
            system = np.vstack([block.T - np.eye(members.size), np.ones(members.size)])
            target = np.zeros(members.size + 1)
            target[-1] = 1.0
            stationary = np.linalg.lstsq(system, target, rcond=None)[0]
            classes.append((members, stationary))
    return classes


def build_chain(
    game: Game,
    players: Sequence[ChainPlayer],
    *,
    initial: InitialState = "random",
    illegal_reward: float = -6.0,
) -> MarkovChain:
    """The Markov chain of ``players`` (player_0 first) repeating ``game`` from ``initial`` (see the module doc)."""
    if len(players) != game.num_players:
        raise ValueError(f"{game.title} has {game.num_players} players, got {len(players)} chain players.")
    moves = (int(C), int(D)) if initial == "random" else (None,)
    starts = list(itertools.product(moves, repeat=game.num_players))
    index: dict[ChainState, int] = {}
    states: list[ChainState] = []

    def visit(chain_state: ChainState) -> int:
        if chain_state not in index:
            index[chain_state] = len(states)
            states.append(chain_state)
        return index[chain_state]

    first = [visit((state, tuple(p.start(state, i) for i, p in enumerate(players)))) for state in starts]
    edges: list[dict[int, float]] = []
    rounds: list[list[tuple[float, tuple[RoundOutcome, ...]]]] = []
    position = 0
    while position < len(states):
        state, memories = states[position]
        outgoing: dict[int, float] = {}
        ways = []
        per_player = [p.moves(m, state, i) for i, (p, m) in enumerate(zip(players, memories, strict=True))]
        choices = [[(a, pr) for a, pr in zip((C, D, ILLEGAL), probs, strict=True) if pr > 0] for probs in per_player]
        for combination in itertools.product(*choices):
            actions = tuple(action for action, _ in combination)
            probability = float(np.prod([pr for _, pr in combination]))
            outcomes = play_round(game, actions, state, illegal_reward=illegal_reward)
            after = outcomes[0].state_after
            remembered = tuple(p.remember(m, after, i) for i, (p, m) in enumerate(zip(players, memories, strict=True)))
            target = visit((after, remembered))
            outgoing[target] = outgoing.get(target, 0.0) + probability
            ways.append((probability, outcomes))
        edges.append(outgoing)
        rounds.append(ways)
        position += 1
    transition = np.zeros((len(states), len(states)))
    for source, outgoing in enumerate(edges):
        for target, probability in outgoing.items():
            transition[source, target] += probability
    start = np.zeros(len(states))
    for chain_index in first:
        start[chain_index] += 1.0 / len(first)
    return MarkovChain(states, start, transition, rounds)
