"""The paper's test protocol, with its bugs fixed, for any ``Policy`` (docs/evaluation.md, docs/paper.md).

Every policy plays, on each of the five games, ``episodes`` episodes of ``rounds`` rounds against a seeded ``random``
opponent, from a random previous round, with the test labels (``action3``/``action4``). The random streams are
re-created for every game from one seed, as the paper did, so every policy and every game faces the same opponent
moves and the same initial states: episode ``e`` of every game is ``reset(seed=episode_seeds[e])`` of the
environment, whose seed fixes the initial state, the prompt shuffles and the opponent's moves.

The "other" prompts (three unrelated ones, explicit IPD, unstructured, poetic) are one-round questions about a random
previous round of the IPD, as in the paper, which drew a fresh state every round. Here each question is a one-round
episode from its own seeded initial state, and the state logged is the one the prompt showed: the paper logged the
opponent's *current* move as "previous" instead.

Every round is a ``RoundLog`` (section ``"games"`` or ``"other_prompts"``) with its prompt and answer.

All games of a section are played in lockstep, so an LLM policy answers one batch per round for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from llm_agents.evaluation.policies import Decision, Observation, Policy
from matrix_games.core.actions import TEST_LABELS, validate_labels
from matrix_games.core.games import PUBLIC_GOODS, Game, get_game
from matrix_games.core.public_goods import PublicGoodsGame
from matrix_games.core.records import RoundLog
from matrix_games.core.rounds import majority_move
from matrix_games.core.validation import check_choice, check_finite, check_int, check_probability
from matrix_games.envs.registration import PAPER_IDS, SHORT_IDS, game_of
from matrix_games.envs.settings import GameSettings
from matrix_games.envs.single_agent_env import IteratedMatrixGameVsStrategy
from matrix_games.metrics import DEONTOLOGICAL_REGRET_PENALTY
from matrix_games.rewards import DEFAULT_ILLEGAL_REWARD
from matrix_games.strategies import make_strategy
from matrix_games.text import PROMPT_KINDS, TABLE_ORDERS

Section = Literal["games", "other_prompts"]

GAME_IDS: tuple[str, ...] = PAPER_IDS
"""The paper's five test games, as environment ids without namespace: ``IPD-v0``, ``StagHunt-v0``, ... (the default;
``PublicGoods-v0`` can be added, e.g. ``games=(*GAME_IDS, "PublicGoods-v0")``)."""

OTHER_PROMPTS: tuple[str, ...] = tuple(kind for kind in PROMPT_KINDS if kind not in TABLE_ORDERS)
"""The robustness prompts: unstructured, poetic, explicit IPD and the three unrelated ones."""

OTHER_PROMPTS_GAME = "IPD-v0"
"""The game behind the other prompts (the unstructured prompt shows its payoffs; the others name none)."""


@dataclass(frozen=True)
class EvaluationConfig:
    """What an evaluation plays; the defaults are the paper's test protocol.

    Attributes:
        games: Environment ids (without namespace) to test on, e.g. ``("IPD-v0",)``.
        episodes: Episodes per game (the paper's 10).
        rounds: Rounds per episode (the paper's 5).
        labels: The (C, D) labels of the test prompts: ``("action3", "action4")`` (the paper's), or e.g.
            ``("action1", "action2")``, or the swapped ``("action2", "action1")`` where action2 means C.
        table_order: The payoff-table order of the game prompts: original, reversed, permuted1 or permuted2.
        other_prompts: The robustness prompts to ask (each ``episodes * rounds`` times); ``()`` for none.
        opponent: The opponent strategy (the paper's ``random``).
        opponent_cooperation_probability: ``p`` of the ``random`` opponent (0.5 in the paper).
        seed: The seed every game's streams are re-created from (the paper's 100).
        deontological_penalty: The xi of deontological regret (the paper tested with 4, trained with 3).
        illegal_reward: R_illegal: the reward of an illegal answer (its deontological regret is ``-illegal_reward``).
        public_goods_players: The size of the public goods game, when ``games`` has ``PublicGoods-v0`` (every other
            player is the opponent strategy).
    """

    games: tuple[str, ...] = GAME_IDS
    episodes: int = 10
    rounds: int = 5
    labels: tuple[str, str] = TEST_LABELS
    table_order: str = "original"
    other_prompts: tuple[str, ...] = OTHER_PROMPTS
    opponent: str = "random"
    opponent_cooperation_probability: float = 0.5
    seed: int = 100
    deontological_penalty: float = DEONTOLOGICAL_REGRET_PENALTY
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD
    public_goods_players: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "games", tuple(self.games))
        object.__setattr__(self, "other_prompts", tuple(self.other_prompts))
        object.__setattr__(self, "labels", validate_labels(self.labels))
        unknown = [game for game in self.games if game not in SHORT_IDS]
        if not self.games or unknown:
            raise ValueError(
                f"EvaluationConfig.games must be a non-empty subset of {list(SHORT_IDS)}, got {self.games}."
            )
        check_int("EvaluationConfig.public_goods_players", self.public_goods_players, minimum=2)
        for name in ("episodes", "rounds", "seed"):
            check_int(f"EvaluationConfig.{name}", getattr(self, name), minimum=0 if name == "seed" else 1)
        check_choice("EvaluationConfig.table_order", self.table_order, TABLE_ORDERS)
        unknown = [kind for kind in self.other_prompts if kind not in OTHER_PROMPTS]
        if unknown:
            raise ValueError(
                f"EvaluationConfig.other_prompts must be a subset of {list(OTHER_PROMPTS)}, got {unknown}."
            )
        check_probability("EvaluationConfig.opponent_cooperation_probability", self.opponent_cooperation_probability)
        check_finite("EvaluationConfig.deontological_penalty", self.deontological_penalty, example="4", minimum=0.0)
        check_finite("EvaluationConfig.illegal_reward", self.illegal_reward, example="-6")
        if self.illegal_reward >= 0:
            raise ValueError(
                f"EvaluationConfig.illegal_reward must be negative (the paper's -6), got {self.illegal_reward!r}."
            )
        make_strategy(self.opponent)  # fail early on an unknown opponent name

    def to_dict(self) -> dict[str, Any]:
        """The protocol as plain JSON values, for ``summary.json``."""
        return {
            "games": list(self.games),
            "episodes": self.episodes,
            "rounds": self.rounds,
            "labels": list(self.labels),
            "table_order": self.table_order,
            "other_prompts": list(self.other_prompts),
            "other_prompts_game": OTHER_PROMPTS_GAME,
            "other_prompts_questions": self.episodes * self.rounds,
            "opponent": self.opponent,
            "opponent_cooperation_probability": self.opponent_cooperation_probability,
            "seed": self.seed,
            "deontological_penalty": self.deontological_penalty,
            "illegal_reward": self.illegal_reward,
            "public_goods_players": self.public_goods_players,
        }


def episode_seeds(seed: int, section: Section, count: int) -> list[int]:
    """The environment seeds of the first ``count`` episodes of a section, the same for every game and policy.

    Child ``e`` of ``SeedSequence([seed, section_index])`` seeds episode ``e``, so a longer evaluation extends a shorter
    one instead of reshuffling it.
    """
    section_index = {"games": 0, "other_prompts": 1}[section]
    children = np.random.SeedSequence([seed, section_index]).spawn(count)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in children]


def stage_game(config: EvaluationConfig, game: str) -> Game:
    """The game behind a test game id (the public goods game with the protocol's number of players)."""
    name = game_of(game)
    if name == PUBLIC_GOODS:
        return PublicGoodsGame(num_players=config.public_goods_players)
    return get_game(name)


def game_settings(config: EvaluationConfig, game: str, prompt_kind: str, num_rounds: int) -> GameSettings:
    """The environment of one test game: the paper's episode from a random previous round, text, illegal answers."""
    return GameSettings(
        game=stage_game(config, game),
        num_rounds=num_rounds,
        initial_state="random",
        observation_type="text",
        action_labels=config.labels,
        prompt=prompt_kind,  # type: ignore[arg-type]
        allow_illegal=True,
        illegal_reward=config.illegal_reward,
    )


def _make_env(config: EvaluationConfig, game: str, prompt_kind: str, num_rounds: int) -> IteratedMatrixGameVsStrategy:
    opponent_kwargs = {"p": config.opponent_cooperation_probability} if config.opponent == "random" else {}
    return IteratedMatrixGameVsStrategy(
        game_settings(config, game, prompt_kind, num_rounds),
        opponent=make_strategy(config.opponent, **opponent_kwargs),
    )


def play_section(
    policy: Policy, config: EvaluationConfig, section: Section, slots: Sequence[tuple[str, str]]
) -> list[RoundLog]:
    """Play one section: for each ``(game, prompt_kind)`` slot group, all its episodes, every game in lockstep.

    Args:
        policy: The agent under evaluation.
        config: The protocol.
        section: ``"games"``: ``config.episodes`` episodes of ``config.rounds`` rounds per slot; ``"other_prompts"``:
            ``config.episodes * config.rounds`` one-round questions per slot.
        slots: The ``(game, prompt_kind)`` pairs to play.
    """
    if section == "games":
        num_episodes, num_rounds = config.episodes, config.rounds
    else:
        num_episodes, num_rounds = config.episodes * config.rounds, 1
    seeds = episode_seeds(config.seed, section, num_episodes)
    games = []  # one entry per (slot, episode): (game, prompt_kind, episode, env)
    observations, states = [], []
    for game, prompt_kind in slots:
        for episode, seed in enumerate(seeds):
            env = _make_env(config, game, prompt_kind, num_rounds)
            text, info = env.reset(seed=seed)
            games.append((game, prompt_kind, episode, env))
            observations.append(text)
            states.append(info["previous_actions"])
    policy.reset(len(games))
    records: list[list[RoundLog]] = [[] for _ in games]  # per game, so rounds.csv reads episode by episode
    for round_index in range(num_rounds):
        batch = [_observation(text, state, config.labels) for text, state in zip(observations, states, strict=True)]
        decisions = policy.act(batch)
        _check_decisions(policy, decisions, len(batch))
        for index, ((game, prompt_kind, episode, env), decision) in enumerate(zip(games, decisions, strict=True)):
            text, _, _, _, info = env.step(int(decision.action))
            outcome = info["outcome"]
            records[index].append(
                RoundLog(
                    outcome=outcome,
                    episode=episode,
                    round=round_index,
                    game=game,
                    section=section,
                    prompt_kind=prompt_kind,
                    labels=config.labels,
                    prompt=batch[index].text,
                    answer=decision.answer,
                )
            )
            observations[index], states[index] = text, outcome.state_after
    for *_, env in games:
        env.close()
    return [record for game_records in records for record in game_records]


def _observation(text: str, state: tuple[int | None, ...], labels: tuple[str, str]) -> Observation:
    """What the evaluated player (``player_0``) sees, given every player's state."""
    if len(state) == 2:
        return Observation(text, state[0], state[1], labels)
    return Observation(text, state[0], majority_move(state[1:]), labels, others_previous_actions=tuple(state[1:]))


def play(policy: Policy, config: EvaluationConfig) -> list[RoundLog]:
    """Every round of the protocol: the game section, then the other prompts (if any)."""
    records = play_section(policy, config, "games", [(game, config.table_order) for game in config.games])
    if config.other_prompts:
        slots = [(OTHER_PROMPTS_GAME, kind) for kind in config.other_prompts]
        records += play_section(policy, config, "other_prompts", slots)
    return records


def _check_decisions(policy: Policy, decisions: Sequence[Decision], expected: int) -> None:
    if len(decisions) != expected:
        raise ValueError(f"Policy {policy.name!r} returned {len(decisions)} decisions for {expected} observations.")
    for decision in decisions:
        if decision.action not in (0, 1, 2):
            raise ValueError(
                f"Policy {policy.name!r} returned action {decision.action!r}; expected 0 (C), 1 (D) or 2 (illegal)."
            )
