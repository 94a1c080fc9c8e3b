"""One simultaneous round of any game, as a pure function, and the history a player remembers.

The rules for a player who gave no legal answer (action ``ILLEGAL``, only with ``allow_illegal=True``) follow the
paper's code where it is consistent, and make one choice where it is not (docs/paper.md, "Illegal answers"):

- the illegal player's game reward is ``illegal_reward`` (the paper's R_illegal = -6);
- its *state* (the previous move shown in the next prompt, and seen by strategies) stays its last legal move;
- for everyone else, an illegal player counts as having repeated its last legal move (the paper's two-learner game
  reward does this; its utilitarian reward gave 0 instead and its game+deontological reward gave -6). When some
  player has no legal move yet (an illegal answer in a classic first round), the joint action is undefined and every
  payoff of the round is 0.

A ``RoundOutcome`` holds the whole round (every player's move, state, reward and payoff) and says whose point of
view it is; with two players its ``opponent_*`` fields are the other player's. With more, "the opponent's move" is
the others' majority: C when more than half of the other players played C (``majority_move``), which makes the
two-player rules (the deontological norm, action types) the n-player ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matrix_games.core.actions import ILLEGAL, C, D
from matrix_games.core.game import Game


def majority_move(moves: Sequence[int | None]) -> int | None:
    """C when more than half of ``moves`` are C, else D; None if any move is None (no state yet).

    Example:
        >>> majority_move([0, 0, 1]), majority_move([0, 1]), majority_move([0, None])
        (0, 1, None)
    """
    if any(move is None for move in moves):
        return None
    return int(C) if 2 * sum(move == C for move in moves) > len(moves) else int(D)


@dataclass(frozen=True)
class RoundOutcome:
    """One round of an n-player game, seen by player ``player``.

    Attributes:
        player: Whose point of view (0 = player_0, the row player of a 2x2 game).
        actions: What every player did (0 = C, 1 = D, 2 = no legal answer), after noise.
        previous_actions: Every player's state before the round (its last legal move); None before any move.
        game_rewards: Every player's game reward: its payoff, or ``illegal_reward`` if its answer was illegal.
        payoffs: Every player's payoff in the effective joint action (illegal moves replaced by the last legal one).
    """

    player: int
    actions: tuple[int, ...]
    previous_actions: tuple[int | None, ...]
    game_rewards: tuple[float, ...]
    payoffs: tuple[float, ...]

    @property
    def num_players(self) -> int:
        return len(self.actions)

    @property
    def action(self) -> int:
        return self.actions[self.player]

    @property
    def previous_action(self) -> int | None:
        return self.previous_actions[self.player]

    @property
    def game_reward(self) -> float:
        return self.game_rewards[self.player]

    @property
    def payoff(self) -> float:
        return self.payoffs[self.player]

    @property
    def joint_payoff(self) -> float:
        """The sum of every player's payoff (the utilitarian welfare of the round)."""
        return float(sum(self.payoffs))

    @property
    def others(self) -> tuple[int, ...]:
        """The other players' indices."""
        return tuple(i for i in range(self.num_players) if i != self.player)

    @property
    def opponent_action(self) -> int:
        """The other player's move (two players), or the others' majority move (more)."""
        if self.num_players == 2:
            return self.actions[1 - self.player]
        return majority_move([self.actions[i] for i in self.others])  # type: ignore[return-value]

    @property
    def opponent_previous_action(self) -> int | None:
        """The other player's state (two players), or the others' majority state (more); None with no state yet."""
        if self.num_players == 2:
            return self.previous_actions[1 - self.player]
        return majority_move([self.previous_actions[i] for i in self.others])

    @property
    def opponent_game_reward(self) -> float:
        """The other player's game reward (two players only)."""
        return self.game_rewards[self._opponent()]

    @property
    def opponent_payoff(self) -> float:
        """The other player's payoff (two players only)."""
        return self.payoffs[self._opponent()]

    @property
    def is_illegal(self) -> bool:
        return self.action == ILLEGAL

    @property
    def state_after(self) -> tuple[int | None, ...]:
        """Every player's state after this round: its last legal move."""
        if ILLEGAL not in self.actions:
            return self.actions
        return tuple(effective_action(a, p) for a, p in zip(self.actions, self.previous_actions, strict=True))

    def seen_by(self, player: int) -> RoundOutcome:
        """The same round from ``player``'s point of view."""
        if not 0 <= player < self.num_players:
            raise ValueError(f"player must be in 0..{self.num_players - 1}, got {player!r}.")
        return RoundOutcome(player, self.actions, self.previous_actions, self.game_rewards, self.payoffs)

    def _opponent(self) -> int:
        if self.num_players != 2:
            raise ValueError(
                f"A round of {self.num_players} players has no single opponent; read payoffs or game_rewards."
            )
        return 1 - self.player


def effective_action(action: int, previous_action: int | None) -> int | None:
    """The move that counts for the others and for the next state: an illegal answer keeps the old state."""
    return previous_action if action == ILLEGAL else action


def play_round(
    game: Game,
    actions: Sequence[int],
    previous_actions: Sequence[int | None],
    *,
    illegal_reward: float,
) -> tuple[RoundOutcome, ...]:
    """Score one simultaneous round and return each player's outcome, player_0's first.

    Args:
        game: The stage game; player_0 is the row player of a 2x2 game.
        actions: The actions played this round, after noise (0, 1 or ILLEGAL), one per player.
        previous_actions: Each player's state before the round (last legal move, or None).
        illegal_reward: The game reward of a player whose answer was illegal.
    """
    actions = tuple(map(int, actions))
    previous = tuple(None if p is None else int(p) for p in previous_actions)
    if len(actions) != game.num_players or len(previous) != game.num_players:
        raise ValueError(
            f"{game.title} has {game.num_players} players, got {len(actions)} actions and {len(previous)} states."
        )
    if ILLEGAL not in actions:  # the common case: every move counts as played
        payoffs = tuple(map(float, game.round_payoffs(actions)))
        return tuple(RoundOutcome(i, actions, previous, payoffs, payoffs) for i in range(len(actions)))
    effective = [effective_action(a, p) for a, p in zip(actions, previous, strict=True)]
    if any(move is None for move in effective):
        payoffs = (0.0,) * len(actions)
    else:
        payoffs = tuple(float(x) for x in game.round_payoffs(effective))  # type: ignore[arg-type]
    rewards = tuple(float(illegal_reward) if a == ILLEGAL else p for a, p in zip(actions, payoffs, strict=True))
    return tuple(RoundOutcome(i, actions, previous, rewards, payoffs) for i in range(len(actions)))


def with_own_action(game: Game, outcome: RoundOutcome, action: int, *, illegal_reward: float) -> RoundOutcome:
    """The round ``outcome`` had its player played ``action`` and everyone else the same (the counterfactual a
    group of answers to one state is scored by: each answer against the others' actual moves)."""
    actions = list(outcome.actions)
    actions[outcome.player] = int(action)
    return play_round(game, actions, outcome.previous_actions, illegal_reward=illegal_reward)[outcome.player]


@dataclass(frozen=True)
class History:
    """What one player remembers: its own and the others' effective (last legal) moves, round by round, oldest first.

    ``opponent_actions`` is the other player's move (two players) or the others' majority move (more: C when more
    than half of them contributed), so every two-player strategy plays any number of players by reacting to the
    majority; ``others_actions`` keeps each round's moves of every other player, in player order, for the strategies
    of n-player games. With a random initial state the drawn previous round is the first entry, so tit-for-tat copies
    it, as in the paper. Strategies see their own History and never the other players' objects.
    """

    own_actions: tuple[int, ...] = ()
    opponent_actions: tuple[int, ...] = ()
    others_actions: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.others_actions and self.opponent_actions:
            object.__setattr__(self, "others_actions", tuple((move,) for move in self.opponent_actions))

    def __len__(self) -> int:
        return len(self.own_actions)

    def append(self, own_action: int, opponent_action: int) -> History:
        """This history and one more two-player round."""
        return self.append_round(own_action, (opponent_action,))

    def append_round(self, own_action: int, others: tuple[int, ...]) -> History:
        """This history and one more round in which the others played ``others`` (in player order)."""
        others = tuple(int(move) for move in others)
        opponent = others[0] if len(others) == 1 else majority_move(others)
        return History(
            (*self.own_actions, int(own_action)),
            (*self.opponent_actions, int(opponent)),  # type: ignore[arg-type]
            (*self.others_actions, others),
        )

    def flipped(self) -> History:
        """The same two-player history from the opponent's point of view."""
        return History(self.opponent_actions, self.own_actions)

    @classmethod
    def of_player(cls, player: int, rounds: Sequence[Sequence[int]]) -> History:
        """``player``'s history of the joint rounds ``rounds`` (each every player's effective move)."""
        history = cls()
        for moves in rounds:
            history = history.append_round(moves[player], tuple(m for i, m in enumerate(moves) if i != player))
        return history
