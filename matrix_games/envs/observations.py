"""What each player observes of an iterated game: the spaces, and the observation of one player before a round.

- ``"text"``: the paper's prompt (``settings.prompt`` picks the variant) with this player's payoffs (player 1 of a
  2x2 game sees the transposed game) and state: its own last legal move and the others'.
- ``"numeric"``: ``MultiDiscrete([4, 4])``, the moves of the previous round, own first, coded C=0, D=1, illegal=2,
  none=3 (no previous round; at reset with a random initial state these are the drawn moves). In a game of more than
  two players the second entry is how many of the others played C, ``MultiDiscrete([4, n + 1])`` for n players, with
  ``n`` meaning "no previous round".
- ``"one_hot"``: the numeric observation as a flat ``Box(0, 1, (8,), float32)``: own previous move one-hot over
  (C, D, illegal, none), then the other's (two players); with n players own move (4) then the number of other
  contributors one-hot over 0..n-1 and "none" (n + 1), ``4 + n + 1`` floats. It is what default MLP encoders take
  (RLlib's, SB3's ``MlpPolicy`` without ``Flatten``).
- ``"dict"``: ``{"text": ..., "numeric": ...}``.

The environments own the state; this module only turns it into observations, so every environment (and the
vectorised engine) encodes alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium import spaces

from matrix_games.core.actions import NO_MOVE
from matrix_games.core.matrix_game import MatrixGame
from matrix_games.envs.settings import GameSettings
from matrix_games.text import TEXT_CHARSET, label_orders, render_prompt, render_prompt_in_order


def text_max_length(labels: tuple[str, str], num_players: int = 2) -> int:
    """An upper bound on the length of any prompt with these labels (used for the ``Text`` space)."""
    return 2048 + 16 * max(len(label) for label in labels) + 16 * 25 + 160 * max(0, num_players - 2)


def observation_space(settings: GameSettings) -> spaces.Space:
    """The observation space of every player of ``settings``'s game."""
    labels = settings.action_labels
    text = spaces.Text(
        max_length=text_max_length(labels, settings.num_players),
        min_length=0,
        charset=TEXT_CHARSET | set("".join(labels)),
    )
    if settings.num_players == 2:
        numeric = spaces.MultiDiscrete([4, 4])
    else:
        numeric = spaces.MultiDiscrete([4, settings.num_players + 1])
    if settings.observation_type == "text":
        return text
    if settings.observation_type == "one_hot":
        return spaces.Box(0.0, 1.0, shape=(int(numeric.nvec.sum()),), dtype=np.float32)
    return numeric if settings.observation_type == "numeric" else spaces.Dict({"text": text, "numeric": numeric})


_PAIRS = [np.array([own, other], dtype=np.int64) for own in range(4) for other in range(4)]


def numeric_observation(player: int, last_actions: Sequence[int]) -> np.ndarray:
    """The numeric observation of ``player`` given the codes of the last round's moves (3 = none)."""
    own = last_actions[player]
    if len(last_actions) == 2:
        return _PAIRS[own * 4 + last_actions[1 - player]].copy()  # a copy: callers may write to it
    if own == NO_MOVE:
        return np.array([own, len(last_actions)], dtype=np.int64)
    others = sum(code == 0 for i, code in enumerate(last_actions) if i != player)
    return np.array([own, others], dtype=np.int64)


_EYE = np.eye(4, dtype=np.float32)


def one_hot_observation(player: int, last_actions: Sequence[int]) -> np.ndarray:
    """The ``"one_hot"`` observation of ``player``: its numeric observation one-hot encoded, flat.

    Example:
        >>> one_hot_observation(0, (0, 3)).tolist()
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    """
    own, other = numeric_observation(player, last_actions)
    if len(last_actions) == 2:
        return np.concatenate((_EYE[own], _EYE[other]))
    counts = np.zeros(len(last_actions) + 1, dtype=np.float32)
    counts[other] = 1.0
    return np.concatenate((_EYE[own], counts))


def text_variants(
    settings: GameSettings, player: int, previous_actions: Sequence[int | None]
) -> list[tuple[str, float]]:
    """Every prompt ``player`` can read before a round whose state is ``previous_actions``, with its probability:
    the environment draws the two label orders independently, each order with probability 1/2 (equal texts, as in
    prompts that show one order only, are merged).

    Example:
        >>> variants = text_variants(GameSettings(observation_type="text"), 0, (0, 1))
        >>> len(variants), sum(weight for _, weight in variants)
        (4, 1.0)
    """
    game = settings.stage_game
    labels = settings.action_labels
    weights: dict[str, float] = {}
    for options in label_orders(labels):
        for answers in label_orders(labels):
            if isinstance(game, MatrixGame):
                text = render_prompt_in_order(
                    game.for_player(player),
                    previous_actions[player],
                    previous_actions[1 - player],
                    options,
                    answers,
                    labels=labels,
                    kind=settings.prompt,
                )
            else:
                from matrix_games.text.public_goods import render_public_goods_prompt_in_order

                text = render_public_goods_prompt_in_order(
                    game,  # type: ignore[arg-type]
                    player,
                    previous_actions,
                    options,
                    answers,
                    labels=labels,
                    kind=settings.prompt,
                )
            weights[text] = weights.get(text, 0.0) + 0.25
    return list(weights.items())


def text_observation(
    settings: GameSettings,
    player: int,
    previous_actions: Sequence[int | None],
    option_rng: np.random.Generator,
    answer_rng: np.random.Generator,
) -> str:
    """The prompt ``player`` reads before a round whose state is ``previous_actions`` (every last legal move)."""
    game = settings.stage_game
    if isinstance(game, MatrixGame):
        return render_prompt(
            game.for_player(player),
            previous_actions[player],
            previous_actions[1 - player],
            option_rng=option_rng,
            answer_rng=answer_rng,
            labels=settings.action_labels,
            kind=settings.prompt,
        )
    from matrix_games.text.public_goods import render_public_goods_prompt

    return render_public_goods_prompt(
        game,  # type: ignore[arg-type]
        player,
        previous_actions,
        option_rng=option_rng,
        answer_rng=answer_rng,
        labels=settings.action_labels,
        kind=settings.prompt,
    )
