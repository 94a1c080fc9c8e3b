"""``TrainConfig``: everything one fine-tuning run needs, as one frozen dataclass (paper defaults, paper.md §5-§7).

The run's own choices live here; the model, its LoRA shape, sampling and PPO settings are the nested configs of
``llm_agents.config`` and ``llm_agents.ppo``. Derived values are resolved once in ``__post_init__`` and kept in the
fields, so the ``config.yaml`` a run saves is complete and re-running it gives the same run:

- ``rounds_per_episode`` None becomes the paper's 5 against a strategy, 3 against a second LLM;
- ``episodes`` None becomes the schedule's total (e.g. 1000 for ``"game:500,deontological:500"``), else 1000;
- ``ppo.batch_size`` becomes ``rounds_per_episode * games_per_update`` (all the rounds of one update) and
  ``ppo.mini_batch_size`` that divided by ``ppo_minibatches`` (1, the paper's: one minibatch per epoch);
- ``ppo.seed`` is derived from ``seed`` (one run seed drives every random stream).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from llm_agents.config import GenerationConfig, ModelConfig, PromptConfig
from llm_agents.parsing import PARSE_MODES
from llm_agents.ppo import PPOConfig
from matrix_games.actions import DEFAULT_LABELS, validate_labels
from matrix_games.games import GAMES
from matrix_games.morality import DEFAULT_DEONTOLOGICAL_PENALTY, DEFAULT_ILLEGAL_REWARD
from matrix_games.registration import ENV_IDS, NAMESPACE
from matrix_games.seeding import spawn_rngs
from matrix_games.strategies import STRATEGIES
from matrix_games.text import PROMPT_KINDS
from matrix_games.wrappers import RewardSchedule, as_schedule

LLM_OPPONENT = "llm"
"""The opponent name for a second learner: its own adapter and PPO state on the same base model."""

ResetAtSwitch = Literal["nothing", "score_stats", "optimizer_and_score_stats"]
RESET_AT_SWITCH: tuple[str, ...] = get_args(ResetAtSwitch)

Tracker = Literal["none", "tensorboard", "wandb"]
TRACKERS: tuple[str, ...] = get_args(Tracker)

PAPER_ROUNDS_VS_STRATEGY = 5
PAPER_ROUNDS_VS_LLM = 3
PAPER_EPISODES = 1000


def game_name_of(game: str) -> str:
    """The ``GAMES`` name behind an environment id (``"IPD-v0"``, ``"matrix_games/IPD-v0"``) or a game name."""
    if game in GAMES:
        return game
    env_id = game if game.startswith(f"{NAMESPACE}/") else f"{NAMESPACE}/{game}"
    if env_id in ENV_IDS:
        return ENV_IDS[env_id]
    known = [env_id.split("/", 1)[1] for env_id in ENV_IDS]
    close = difflib.get_close_matches(str(game), [*known, *GAMES], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown game {game!r}.{hint} Known games: {known} (or a game name from {sorted(GAMES)}).")


@dataclass(frozen=True)
class TrainConfig:
    """One PPO fine-tuning run of an LLM's LoRA adapter on an iterated matrix game.

    Attributes:
        game: The environment id (``"IPD-v0"``, ``"StagHunt-v0"``, ...) or a game name (``"prisoners_dilemma"``).
        opponent: A baseline strategy name (the paper's ``tit_for_tat``, ``random``, ``always_cooperate``,
            ``always_defect``, or any other in ``matrix_games.strategies.STRATEGIES``), or ``"llm"``: a second
            learner with its own adapter and its own PPO trainer on the same base model (one copy of the weights).
        reward: The training reward: ``game``, ``deontological``, ``utilitarian``, ``game_deontological``, or a
            schedule by episodes such as ``"game:500,deontological:500"`` (the paper's unlearning runs, §7).
        reset_at_switch: What a reward switch resets. ``"nothing"`` (the paper's: LoRA weights, Adam state, KL
            coefficient and running score statistics all carry over, so the score normaliser mixes the two reward
            scales for a while, paper.md §11.8); ``"score_stats"`` restarts the running score mean/std;
            ``"optimizer_and_score_stats"`` also gives the adapter a fresh Adam optimizer.
        rounds_per_episode: Rounds of one episode, each from the state the previous one left; an episode starts
            from a random previous round. None: the paper's 5 against a strategy, 3 against an LLM.
        games_per_update: Games played in lockstep per PPO update (batched generation). 1 is the paper's
            structure, one PPO step on the ``rounds_per_episode`` answers of one game; more is faster per round.
        ppo_minibatches: Minibatches per PPO epoch (``ppo.mini_batch_size`` is derived from it); 1 is the paper's.
        episodes: PPO updates in the run (the paper's T = 1000). None: the schedule's total, else 1000.
        seed: Reproduces the run exactly on the same machine: initial states, prompt shuffles, strategies,
            sampling, LoRA initialisation and minibatch order all come from it.
        labels: The (C, D) answer labels shown in the prompt (the paper trained with ``action1``/``action2``).
        illegal_reward: The reward of an answer that is neither label, under every reward (the paper's -6).
        deontological_penalty: The xi of the deontological rewards (the paper trained with 3).
        prompt_kind: The environment's prompt variant (``"original"`` is the paper's training prompt).
        parse_mode: ``"strict"`` (the paper's: the whole answer must be a label) or ``"lenient"``.
        output_dir: The run folder (created; must be empty or hold this same run when resuming).
        checkpoint_every: Save a checkpoint every this many episodes (0: only at the end).
        resume: Continue from the last complete checkpoint in ``output_dir`` (its logs are cut back to it).
        tracker: Also log to ``"tensorboard"`` or ``"wandb"`` (imported only then); ``"none"`` writes files only.
        progress: Show a progress bar with the running cooperation and illegal rates.
        model: The base model, its loading and the shape of the LoRA adapter(s).
        generation: How answers are sampled (the paper's: temperature 1, no filtering).
        prompt: How the observation text becomes chat messages (preface, system message, chat template).
        ppo: The PPO settings of each learner (the batch sizes and seed are resolved as the module doc says).
    """

    game: str = "IPD-v0"
    opponent: str = "tit_for_tat"
    reward: str = "game"
    reset_at_switch: ResetAtSwitch = "nothing"
    rounds_per_episode: int | None = None
    games_per_update: int = 1
    ppo_minibatches: int = 1
    episodes: int | None = None
    seed: int = 0
    labels: tuple[str, str] = DEFAULT_LABELS
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD
    deontological_penalty: float = DEFAULT_DEONTOLOGICAL_PENALTY
    prompt_kind: str = "original"
    parse_mode: str = "strict"
    output_dir: Path = Path("runs/train")
    checkpoint_every: int = 100
    resume: bool = False
    tracker: Tracker = "none"
    progress: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.game, str):
            raise ValueError(f"game must be an environment id such as 'IPD-v0', got {self.game!r}.")
        game_name_of(self.game)
        if self.opponent != LLM_OPPONENT and self.opponent not in STRATEGIES:
            close = difflib.get_close_matches(str(self.opponent), [*STRATEGIES, LLM_OPPONENT], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown opponent {self.opponent!r}.{hint} Use a strategy from {sorted(STRATEGIES)} or "
                f"{LLM_OPPONENT!r} for a second learning LLM."
            )
        if not isinstance(self.reward, str):
            raise ValueError(
                f"reward must be a string such as 'deontological' or 'game:500,utilitarian:500', got {self.reward!r}."
            )
        schedule = as_schedule(self.reward)  # raises a ValueError naming the bad part
        _check_choice("reset_at_switch", self.reset_at_switch, RESET_AT_SWITCH)
        _check_choice("tracker", self.tracker, TRACKERS)
        _check_choice("prompt_kind", self.prompt_kind, PROMPT_KINDS)
        _check_choice("parse_mode", self.parse_mode, PARSE_MODES)
        for name in ("seed", "games_per_update", "ppo_minibatches", "checkpoint_every"):
            _check_int(name, getattr(self, name), minimum=0 if name in ("seed", "checkpoint_every") else 1)
        for name in ("resume", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        for name in ("illegal_reward", "deontological_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}.")
            set_(self, name, float(value))
        set_(self, "labels", validate_labels(self.labels))
        if not isinstance(self.output_dir, (str, Path)):
            raise ValueError(f"output_dir must be a path, got {self.output_dir!r}.")
        set_(self, "output_dir", Path(self.output_dir))
        for name, kind in (
            ("model", ModelConfig),
            ("generation", GenerationConfig),
            ("prompt", PromptConfig),
            ("ppo", PPOConfig),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a {kind.__name__}, got {type(getattr(self, name)).__name__}.")

        if self.rounds_per_episode is None:
            set_(self, "rounds_per_episode", PAPER_ROUNDS_VS_LLM if self.against_llm else PAPER_ROUNDS_VS_STRATEGY)
        _check_int("rounds_per_episode", self.rounds_per_episode, minimum=1)
        set_(self, "episodes", _resolve_episodes(self.episodes, schedule))
        set_(self, "ppo", _resolve_ppo(self.ppo, self.samples_per_update, self.ppo_minibatches, self.seed))

    @property
    def against_llm(self) -> bool:
        """True when the opponent is a second learning LLM."""
        return self.opponent == LLM_OPPONENT

    @property
    def game_name(self) -> str:
        """The ``GAMES`` name of the game played."""
        return game_name_of(self.game)

    @property
    def schedule(self) -> RewardSchedule:
        """The reward by episode (a fixed reward is a one-phase schedule)."""
        return as_schedule(self.reward)

    @property
    def samples_per_update(self) -> int:
        """Answers per PPO step of one learner: ``rounds_per_episode * games_per_update``."""
        return int(self.rounds_per_episode) * self.games_per_update  # type: ignore[arg-type]

    @property
    def learners(self) -> tuple[str, ...]:
        """The players that learn (their adapter names): ``player_0``, and ``player_1`` against an LLM."""
        return ("player_0", "player_1") if self.against_llm else ("player_0",)

    def replace(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (and everything derived resolved again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Invalid {name} {value!r}.{hint} Expected one of {list(choices)}.")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _resolve_episodes(episodes: int | None, schedule: RewardSchedule) -> int:
    counts = [count for _, count in schedule.phases]
    finite_total = sum(counts) if None not in counts else None
    if episodes is None:
        return finite_total or PAPER_EPISODES
    _check_int("episodes", episodes, minimum=1)
    if finite_total is not None and len(counts) > 1 and finite_total != episodes:
        raise ValueError(
            f"The reward schedule {str(schedule)!r} covers {finite_total} episodes but episodes={episodes}; "
            f"set episodes={finite_total}, leave it unset, or leave the last phase open (e.g. '...,deontological')."
        )
    covered = sum(count for count in counts[:-1] if count is not None)
    if len(counts) > 1 and covered >= episodes:
        raise ValueError(
            f"The reward schedule {str(schedule)!r} switches after episode {covered}, but the run has only "
            f"{episodes} episodes; its last phase would never run. Raise episodes or shorten the phases."
        )
    return episodes


def _resolve_ppo(ppo: PPOConfig, samples_per_update: int, minibatches: int, seed: int) -> PPOConfig:
    """The PPO config with the run's batch and minibatch sizes and a seed derived from the run seed."""
    mini_batch_size, remainder = divmod(samples_per_update, minibatches)
    if remainder or samples_per_update % (mini_batch_size * ppo.gradient_accumulation_steps):
        raise ValueError(
            f"A PPO update holds rounds_per_episode * games_per_update = {samples_per_update} answers, which cannot "
            f"be split into ppo_minibatches={minibatches} equal minibatches accumulated "
            f"{ppo.gradient_accumulation_steps} at a time; choose ppo_minibatches (and "
            f"ppo.gradient_accumulation_steps) dividing {samples_per_update}."
        )
    ppo_seed = int(spawn_rngs(seed, "ppo")["ppo"].integers(2**31 - 1))
    return dataclasses.replace(ppo, batch_size=samples_per_update, mini_batch_size=mini_batch_size, seed=ppo_seed)
