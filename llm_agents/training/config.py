"""``TrainConfig``: everything one fine-tuning run needs, as one frozen dataclass (paper defaults, docs/paper.md).

The config holds what the user asked for, as written to the run's ``config.yaml``; the values derived from it are
properties, computed when asked and never written back:

- ``num_rounds``: ``rounds_per_episode``, or the paper's 5 against a strategy and 3 against a second LLM;
- ``num_episodes``: ``episodes``, or the reward schedule's total (e.g. 1000 for ``"game:500,deontological:500"``),
  else the paper's 1000;
- ``ppo_for(index)``: the PPO settings of learner ``index`` with the batch of one update (``num_rounds *
  games_per_update`` answers), its minibatch size (divided by ``ppo_minibatches``) and a seed derived from ``seed``
  (one run seed drives every random stream) unless ``ppo.seed`` is set;
- ``game_settings``, ``agent``: the environment and the agent the run plays with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from llm_agents.agent.config import AgentConfig, GenerationConfig, ModelConfig, PromptConfig
from llm_agents.agent.parsing import PARSE_MODES, ParseMode
from llm_agents.grpo.config import GRPOConfig
from llm_agents.ppo.config import MAX_COUNT, MAX_SEED, PPOConfig
from llm_agents.runs.folder import RUN_FILES_MARGIN, check_creatable_folder, check_output_folder
from llm_agents.sequences import BATCHINGS, Batching
from llm_agents.threads import check_threads
from llm_agents.training.derived import check_episodes, check_groups, derived_ppo, stage_game_of
from matrix_games.core.actions import DEFAULT_LABELS
from matrix_games.core.game import Game
from matrix_games.core.validation import check_choice, check_finite, check_int, close_match, is_number
from matrix_games.envs.registration import env_id
from matrix_games.envs.settings import GAME_PARAMETERS, GameSettings
from matrix_games.envs.wrappers import RewardSchedule, as_schedule
from matrix_games.rewards import DEFAULT_ILLEGAL_REWARD, RewardParameters
from matrix_games.rewards.registry import MAX_REWARD
from matrix_games.strategies import STRATEGIES
from matrix_games.text import PROMPT_KINDS, PromptKind
from matrix_games.text.label_pools import LabelPool, as_labels

LLM_OPPONENT = "llm"
"""The opponent name for a second learner: its own adapter and PPO state on the same base model."""

ResetAtSwitch = Literal["nothing", "score_stats", "optimizer_and_score_stats"]
RESET_AT_SWITCH: tuple[str, ...] = get_args(ResetAtSwitch)

Algorithm = Literal["ppo", "grpo"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)

Tracker = Literal["none", "tensorboard", "wandb"]
TRACKERS: tuple[str, ...] = get_args(Tracker)

PAPER_ROUNDS_VS_STRATEGY = 5
PAPER_ROUNDS_VS_LLM = 3
PAPER_EPISODES = 1000


@dataclass(frozen=True)
class TrainConfig:
    """One PPO fine-tuning run of an LLM's LoRA adapter on an iterated matrix game.

    Attributes:
        game: The environment id (``"IPD-v0"``, ``"StagHunt-v0"``, ``"PublicGoods-v0"``, ...) or a game name.
        game_parameters: The public goods game's ``num_players`` [4], ``endowment`` [10] and ``multiplier`` [1.6].
        opponent: A baseline strategy name (the paper's ``tit_for_tat``, ``random``, ``always_cooperate``,
            ``always_defect``, or any other in ``matrix_games.strategies.STRATEGIES``; in the public goods game every
            other player plays it), or ``"llm"``: every other player learns too, each with its own adapter and PPO
            trainer on the same base model (one copy of the weights).
        reward: The training reward: ``game``, ``deontological``, ``utilitarian``, ``game_deontological``, or a
            schedule by episodes such as ``"game:500,deontological:500"`` (the paper's unlearning runs).
        reset_at_switch: What a reward switch resets. ``"nothing"`` (the paper's: LoRA weights, Adam state, KL
            coefficient and running score statistics all carry over, so the score normaliser mixes the two reward
            scales for a while); ``"score_stats"`` restarts the running score mean/std;
            ``"optimizer_and_score_stats"`` also gives the adapter a fresh Adam optimizer.
        rounds_per_episode: Rounds of one episode, each from the state the previous one left; an episode starts
            from a random previous round. None: the paper's 5 against a strategy, 3 against an LLM.
        games_per_update: Games played in lockstep per PPO update (batched generation). 1 is the paper's
            structure, one PPO step on the ``rounds_per_episode`` answers of one game; more is faster per round.
        ppo_minibatches: Minibatches per PPO epoch (the minibatch size is derived from it); 1 is the paper's.
        episodes: PPO updates in the run (the paper's T = 1000). None: the schedule's total, else 1000.
        seed: Reproduces the run exactly on the same machine: initial states, prompt shuffles, strategies,
            sampling, LoRA initialisation and minibatch order all come from it.
        labels: The (C, D) answer labels shown in the prompt (the paper trained with ``action1``/``action2``), or a
            pool from which every game draws its pair (``[[C, D], [X, Y]]``, a generator name such as ``letters``,
            or ``{generator: numbered, size: 16, seed: 0}``; ``matrix_games.text.label_pools``).
        illegal_reward: The reward of an answer that is neither label, under every reward (the paper's -6).
        reward_parameters: The frameworks' parameters by name: ``deontological_penalty`` (the xi of the deontological
            rewards; the paper trained with 3, the default), ``kindness``, ``inequity_alpha``, ``inequity_beta``
            (``matrix_games.rewards.RewardParameters``).
        prompt_kind: The environment's prompt variant (``"original"`` is the paper's training prompt).
        parse_mode: ``"strict"`` (the paper's: the whole answer must be a label) or ``"lenient"``.
        output_dir: The run folder (created; must be empty or hold this same run when resuming).
        checkpoint_every: Save a checkpoint every this many episodes (0: only at the end).
        analysis_every: Every this many updates (and before the first and after the last), log each learner's exact
            P(C), P(D) and P(illegal) at every state of the training game to ``analysis.jsonl`` (0: never);
            ``training/diagnostics.py``.
        resume: Continue from the last complete checkpoint in ``output_dir`` (its logs are cut back to it).
        overwrite: Start afresh in an ``output_dir`` that holds a run, removing that run's files first.
        tracker: Also log to ``"tensorboard"`` or ``"wandb"`` (imported only then); ``"none"`` writes files only.
        progress: Show a progress bar with the running cooperation and illegal rates.
        threads: The CPU threads torch may use, 1 to 4096; None: the free cores of this process's affinity mask
            (``llm_agents.threads``). Only the speed depends on it (and float rounding).
        model: The base model, its loading and the shape of the LoRA adapter(s).
        generation: How answers are sampled (the paper's: temperature 1, no filtering).
        prompt: How the observation text becomes chat messages (preface, system message, chat template).
        ppo: The PPO settings of each learner (its batch sizes and seed are derived, see the module docstring).
        batching: ``"tree"`` (default) computes each distinct sequence once: shared prompt prefixes in sampling and
            in every pass of the update, and each (prompt, answer) pair's reference log-probs once per run;
            ``"padded"`` is the plain padded batch. The same run up to float rounding (``llm_agents.sequences``).
            The run's one setting of it: the agents and the trainers are given it.
        algorithm: ``"ppo"`` (the paper's, with a value head) or ``"grpo"`` (critic-free: each answer's reward
            against the other answers to the same prompt in the update, ``llm_agents.grpo``).
        grpo: The GRPO settings of each learner (used with ``algorithm: grpo``; its seed is derived).
    """

    game: str = "IPD-v0"
    game_parameters: dict[str, float] = field(default_factory=dict)
    opponent: str = "tit_for_tat"
    reward: str = "game"
    reset_at_switch: ResetAtSwitch = "nothing"
    rounds_per_episode: int | None = None
    games_per_update: int = 1
    ppo_minibatches: int = 1
    episodes: int | None = None
    seed: int = 0
    labels: tuple[str, str] | LabelPool = DEFAULT_LABELS
    illegal_reward: float = DEFAULT_ILLEGAL_REWARD
    reward_parameters: dict[str, float] = field(default_factory=dict)
    prompt_kind: PromptKind = "original"
    parse_mode: ParseMode = "strict"
    output_dir: Path = Path("runs/train")
    checkpoint_every: int = 100
    analysis_every: int = 10
    resume: bool = False
    overwrite: bool = False
    tracker: Tracker = "none"
    progress: bool = True
    threads: int | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    batching: Batching = "tree"
    algorithm: Algorithm = "ppo"
    grpo: GRPOConfig = field(default_factory=GRPOConfig)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        env_id(self.game)  # raises with the registered ids
        _check_game_parameters(self.game, self.game_parameters)
        self.rewards_parameters  # noqa: B018 - checks the reward parameters
        if not isinstance(self.opponent, str):
            raise ValueError(f"opponent must be a strategy name or {LLM_OPPONENT!r}, got {self.opponent!r}.")
        if self.opponent != LLM_OPPONENT and self.opponent not in STRATEGIES:
            raise ValueError(
                f"Unknown opponent {self.opponent!r}.{close_match(self.opponent, [*STRATEGIES, LLM_OPPONENT])} "
                f"Use a strategy from {sorted(STRATEGIES)} or {LLM_OPPONENT!r} for a second learning LLM."
            )
        if not isinstance(self.reward, str):
            raise ValueError(
                f"reward must be a string such as 'deontological' or 'game:500,utilitarian:500', got {self.reward!r}."
            )
        schedule = as_schedule(self.reward)  # raises a ValueError naming the bad part
        check_choice("reset_at_switch", self.reset_at_switch, RESET_AT_SWITCH)
        check_choice("tracker", self.tracker, TRACKERS)
        check_choice("prompt_kind", self.prompt_kind, PROMPT_KINDS)
        check_choice("parse_mode", self.parse_mode, PARSE_MODES)
        check_choice("batching", self.batching, BATCHINGS)
        check_int("seed", self.seed, minimum=0, maximum=MAX_SEED, example=0)
        for name in ("games_per_update", "ppo_minibatches", "checkpoint_every", "analysis_every"):
            minimum = 0 if name in ("checkpoint_every", "analysis_every") else 1
            check_int(name, getattr(self, name), minimum=minimum, maximum=MAX_COUNT)
        if self.threads is not None:
            check_threads(self.threads, "threads")
        for name in ("resume", "overwrite", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        if self.resume and self.overwrite:
            raise ValueError(
                "resume and overwrite contradict each other: resume continues a run, overwrite removes it."
            )
        illegal = check_finite(
            "illegal_reward", self.illegal_reward, example="-6", minimum=-MAX_REWARD, maximum=MAX_REWARD
        )
        set_(self, "illegal_reward", illegal)
        set_(self, "labels", _labels(self.labels))
        set_(self, "output_dir", check_output_folder(self.output_dir))
        check_creatable_folder(self.output_dir, margin=RUN_FILES_MARGIN)
        for name, kind in (
            ("model", ModelConfig),
            ("generation", GenerationConfig),
            ("prompt", PromptConfig),
            ("ppo", PPOConfig),
            ("grpo", GRPOConfig),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a {kind.__name__}, got {type(getattr(self, name)).__name__}.")
        if self.rounds_per_episode is not None:
            check_int("rounds_per_episode", self.rounds_per_episode, minimum=1, maximum=MAX_COUNT)
        if self.episodes is not None:
            check_int("episodes", self.episodes, minimum=1, maximum=MAX_COUNT)
        check_episodes(self.episodes, schedule)
        if self.num_episodes > MAX_COUNT:
            raise ValueError(
                f"The reward schedule {self.reward!r} lasts {self.num_episodes} episodes, more than the {MAX_COUNT} a "
                "run may have; shorten its phases."
            )
        check_choice("algorithm", self.algorithm, ALGORITHMS)
        if self.samples_per_update > MAX_COUNT:
            raise ValueError(
                f"An update would hold rounds_per_episode * games_per_update * grpo.num_generations = "
                f"{self.samples_per_update} answers, more than {MAX_COUNT}; lower one of them."
            )
        check_groups(self.algorithm, self.grpo.num_generations, self.samples_per_update)
        self.ppo_for(0)  # the batch must split into the minibatches asked for

    @property
    def stage_game(self) -> Game:
        """The game played (the public goods game built from ``game_parameters``)."""
        return stage_game_of(self.game, self.game_parameters)

    @property
    def rewards_parameters(self) -> RewardParameters:
        """The frameworks' parameters: ``reward_parameters`` checked, the defaults filled in."""
        return RewardParameters.of(self.reward_parameters)

    @property
    def against_llm(self) -> bool:
        """True when the opponent is a second learning LLM."""
        return self.opponent == LLM_OPPONENT

    @property
    def env_id(self) -> str:
        """The environment id without namespace (``"IPD-v0"``)."""
        return env_id(self.game)

    @property
    def schedule(self) -> RewardSchedule:
        """The reward by episode (a fixed reward is a one-phase schedule)."""
        return as_schedule(self.reward)

    @property
    def num_rounds(self) -> int:
        """Rounds per episode: ``rounds_per_episode``, or the paper's 5 (3 against an LLM)."""
        if self.rounds_per_episode is not None:
            return self.rounds_per_episode
        return PAPER_ROUNDS_VS_LLM if self.against_llm else PAPER_ROUNDS_VS_STRATEGY

    @property
    def num_episodes(self) -> int:
        """PPO updates in the run: ``episodes``, or the schedule's total, or the paper's 1000."""
        if self.episodes is not None:
            return self.episodes
        return self.schedule.total_episodes or PAPER_EPISODES

    @property
    def generations_per_state(self) -> int:
        """Answers sampled per learner and state: GRPO's ``num_generations``, 1 for PPO."""
        return self.grpo.num_generations if self.algorithm == "grpo" else 1

    @property
    def samples_per_update(self) -> int:
        """Answers per PPO or GRPO step of one learner: ``num_rounds * games_per_update * generations_per_state``."""
        return self.num_rounds * self.games_per_update * self.generations_per_state

    @property
    def learners(self) -> tuple[str, ...]:
        """The players that learn (their adapter names): ``player_0``, and every other player against LLMs."""
        players = self.stage_game.num_players if self.against_llm else 1
        return tuple(f"player_{index}" for index in range(players))

    @property
    def label_pool(self) -> LabelPool | None:
        """The pool each game draws its labels from, or None when every game uses ``labels``."""
        return self.labels if isinstance(self.labels, LabelPool) else None

    @property
    def first_labels(self) -> tuple[str, str]:
        """The environments' and agents' labels before a game draws from the pool (``labels`` without a pool)."""
        return self.labels.members[0] if isinstance(self.labels, LabelPool) else self.labels

    @property
    def game_settings(self) -> GameSettings:
        """The environment every training game is played in: the paper's episode, text prompts, illegal answers."""
        return GameSettings(
            game=self.stage_game,
            num_rounds=self.num_rounds,
            initial_state="random",
            observation_type="text",
            action_labels=self.first_labels,
            prompt=self.prompt_kind,
            allow_illegal=True,
            illegal_reward=self.illegal_reward,
        )

    @property
    def agent(self) -> AgentConfig:
        """How the learners play: labels, sampling, prompt and parsing."""
        return AgentConfig(self.first_labels, self.generation, self.prompt, self.parse_mode)

    def ppo_for(self, index: int = 0) -> PPOConfig:
        """The PPO settings of learner ``index``: this run's batch and minibatch sizes and a seed of its own."""
        return derived_ppo(self.ppo, self.samples_per_update, self.ppo_minibatches, self.seed, index)

    def replace(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _check_game_parameters(game: str, parameters: object) -> None:
    """``game_parameters`` as a mapping of the public goods game's parameter names to numbers; the errors name it."""
    if not isinstance(parameters, Mapping) or not all(
        isinstance(key, str) and is_number(value) for key, value in parameters.items()
    ):
        raise ValueError(
            f"game_parameters must be a mapping of the public goods game's parameters to numbers, e.g. "
            f"{{num_players: 4, multiplier: 1.6}}, got {parameters!r}."
        )
    try:
        stage_game_of(game, parameters)
    except ValueError as error:  # the game's own checks name the bare parameter
        message = str(error)
        for name in GAME_PARAMETERS:
            if message.startswith(f"{name} "):
                message = f"game_parameters.{message}"
        raise ValueError(message) from None


def _labels(labels: object) -> tuple[str, str] | LabelPool:
    """``as_labels`` with errors that name this setting, ``labels`` (the shared checks speak of ``action_labels``)."""
    try:
        return as_labels(labels)
    except ValueError as error:
        raise ValueError(str(error).replace("action_labels", "labels")) from None
    except TypeError:  # a pool's fields of the wrong kind
        raise ValueError(
            f"labels must be a pair [C, D], a list of pairs, a generator name or a pool's settings "
            f"({{generator: letters, size: 8}}), got {labels!r}."
        ) from None
