"""One simultaneous round, as a pure function, and the history a player remembers.

The rules for a player who gave no legal answer (action ``ILLEGAL``, only with ``allow_illegal=True``) follow the
paper's code (paper.md §2.4, §4, §8) where it is consistent, and make one choice where it is not:

- the illegal player's game reward is ``illegal_reward`` (the paper's R_illegal = -6);
- its *state* (the previous move shown in the next prompt, and seen by strategies) stays its last legal move;
- for the other player, an illegal opponent counts as having repeated its last legal move (the paper's two-learner
  game reward does this; its utilitarian reward gave 0 instead and its game+deontological reward gave -6, which
  paper.md §11.7 lists as an inconsistency). With no legal move yet (a classic first round), the legal player's
  payoff is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from matrix_games.actions import ILLEGAL
from matrix_games.games import MatrixGame


@dataclass(frozen=True)
class RoundOutcome:
    """One round from one player's point of view.

    Attributes:
        action: What the player did (0 = C, 1 = D, 2 = no legal answer), after noise.
        opponent_action: What the opponent did, after noise.
        previous_action: The player's state before the round (its last legal move); None before any move.
        opponent_previous_action: The opponent's state before the round; None before any move.
        game_reward: The player's game payoff, or ``illegal_reward`` if its answer was illegal.
        opponent_game_reward: The same for the opponent.
        payoff: The player's payoff in the effective joint action (illegal moves replaced by the last legal one).
        opponent_payoff: The opponent's payoff in that same effective joint action.
    """

    action: int
    opponent_action: int
    previous_action: int | None
    opponent_previous_action: int | None
    game_reward: float
    opponent_game_reward: float
    payoff: float
    opponent_payoff: float

    @property
    def is_illegal(self) -> bool:
        return self.action == ILLEGAL


def effective_action(action: int, previous_action: int | None) -> int | None:
    """The move that counts for the other player and for the next state: an illegal answer keeps the old state."""
    return previous_action if action == ILLEGAL else action


def play_round(
    game: MatrixGame,
    actions: tuple[int, int],
    previous_actions: tuple[int | None, int | None],
    *,
    illegal_reward: float,
) -> tuple[RoundOutcome, RoundOutcome]:
    """Score one simultaneous round and return each player's outcome, player_0's first.

    Args:
        game: The stage game; player_0 is its row player.
        actions: The actions played this round, after noise (0, 1 or ILLEGAL).
        previous_actions: Each player's state before the round (last legal move, or None).
        illegal_reward: The game reward of a player whose answer was illegal.
    """
    effective = tuple(effective_action(a, p) for a, p in zip(actions, previous_actions, strict=True))
    received = []
    payoffs = []
    for player in (0, 1):
        own, other = effective[player], effective[1 - player]
        pair = (0.0, 0.0) if own is None or other is None else game.payoff_for(player, own, other)
        payoffs.append(pair)
        received.append(illegal_reward if actions[player] == ILLEGAL else pair[0])
    outcomes = []
    for player in (0, 1):
        payoff, opponent_payoff = payoffs[player]
        outcomes.append(
            RoundOutcome(
                action=int(actions[player]),
                opponent_action=int(actions[1 - player]),
                previous_action=previous_actions[player],
                opponent_previous_action=previous_actions[1 - player],
                game_reward=float(received[player]),
                opponent_game_reward=float(received[1 - player]),
                payoff=float(payoff),
                opponent_payoff=float(opponent_payoff),
            )
        )
    return outcomes[0], outcomes[1]


def next_state(outcome: RoundOutcome) -> tuple[int | None, int | None]:
    """The (own, opponent) state after ``outcome``: each player's last legal move."""
    return (
        effective_action(outcome.action, outcome.previous_action),
        effective_action(outcome.opponent_action, outcome.opponent_previous_action),
    )


@dataclass(frozen=True)
class History:
    """What one player remembers: the effective (last legal) moves of both players, oldest first.

    With a random initial state, the drawn previous round is the first entry, so tit-for-tat copies it, as in the
    paper. Strategies see their own History and never the opponent object.
    """

    own_actions: tuple[int, ...] = ()
    opponent_actions: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.own_actions)

    def append(self, own_action: int, opponent_action: int) -> History:
        return History((*self.own_actions, int(own_action)), (*self.opponent_actions, int(opponent_action)))

    def flipped(self) -> History:
        """The same history from the opponent's point of view."""
        return History(self.opponent_actions, self.own_actions)
