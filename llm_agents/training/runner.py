"""``train(TrainConfig) -> TrainResult``: the fine-tuning loop, top to bottom.

One update = one episode of ``games_per_update`` games (``episodes.play_episode``), then one PPO step per learner on
all the rounds it played. Against an LLM both players learn, each with its own adapter and ``PPOTrainer`` on the same
base model (one copy of the weights; the reference policy is that model with adapters disabled).

Randomness comes from ``config.seed`` only: adapter initialisation (inside ``torch.random.fork_rng``, so torch's
global state is left as it was), each learner's sampling generator, the PPO trainers' own generators, and the
environments' per-episode seeds. Sampling and PPO passes run in eval mode, so dropout never draws. A run is
therefore reproducible on the same machine, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from llm_agents.adapters import add_adapter, attach_lora, save_adapter
from llm_agents.agent import LLMAgent
from llm_agents.models import load_model
from llm_agents.ppo import PPOTrainer
from llm_agents.ppo.maths import RunningMoments
from llm_agents.training.config import TrainConfig
from llm_agents.training.config_io import config_to_dict, read_yaml, save_config
from llm_agents.training.episodes import GameTable, play_episode, reward_functions
from llm_agents.training.report import format_summary, plot_action_types, summarize_run
from llm_agents.training.run_folder import JsonlLog, RunFolder, read_checkpoint, read_jsonl, write_checkpoint
from llm_agents.training.trackers import ProgressBar, make_tracker
from matrix_games.seeding import spawn_rngs

logger = logging.getLogger(__name__)

RESUME_MAY_CHANGE = ("episodes", "resume", "progress", "tracker", "checkpoint_every", "output_dir")
"""Settings a resumed run may change; every other one must match the saved config."""


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        config: The resolved config.
        output_dir: The run folder.
        episodes_done: Episodes finished (all of them, counting those before a resume).
        adapters: The final adapter folder of each learner (peft format).
        summary: The summary also written to ``summary.json``.
        summary_text: The same, as printable lines.
        plot: The action-type plot.
        wall_time_s: Seconds this call took (model loading included).
    """

    config: TrainConfig
    output_dir: Path
    episodes_done: int
    adapters: dict[str, Path]
    summary: dict[str, Any]
    summary_text: str
    plot: Path
    wall_time_s: float


def train(
    config: TrainConfig,
    *,
    model: torch.nn.Module | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
) -> TrainResult:
    """Fine-tune LoRA adapter(s) with PPO as ``config`` says and write the run folder.

    Args:
        config: The run.
        model: A base model already loaded (no adapters yet); by default ``config.model`` is loaded.
        tokenizer: Its tokenizer (required with ``model``).

    Example:
        >>> config = TrainConfig(reward="deontological", episodes=50, output_dir=Path("runs/de"))
        >>> result = train(config)  # doctest: +SKIP
        >>> print(result.summary_text)  # doctest: +SKIP
    """
    started = time.perf_counter()
    folder = RunFolder(config.output_dir)
    checkpoint = _prepare_folder(folder, config)
    if (model is None) != (tokenizer is None):
        raise ValueError("Pass both model and tokenizer, or neither (then config.model is loaded).")
    if model is None:
        model, tokenizer = load_model(config.model)
    seeds = {name: int(rng.integers(2**31 - 1)) for name, rng in spawn_rngs(config.seed, *_STREAMS).items()}
    peft_model = _attach_learners(model, config, seeds["adapters"])
    trainers = {
        player: PPOTrainer(
            peft_model, dataclasses.replace(config.ppo, seed=config.ppo.seed + index), adapter_name=player
        )
        for index, player in enumerate(config.learners)
    }
    agents = {
        player: LLMAgent(
            peft_model,
            tokenizer,
            labels=config.labels,
            generation=config.generation,
            prompt=config.prompt,
            parse_mode=config.parse_mode,  # type: ignore[arg-type]
            adapter_name=player,
            seed=seeds[f"sampling_{player}"],
        )
        for player in config.learners
    }
    start = 0
    if checkpoint is not None:
        trainer_states, run_state = read_checkpoint(checkpoint, config.learners)
        if run_state["episodes_done"] > config.episodes:  # type: ignore[operator]
            raise ValueError(
                f"{folder.root} has a checkpoint after episode {run_state['episodes_done']}, beyond episodes="
                f"{config.episodes}; resume with at least that many episodes."
            )
        for player in config.learners:
            trainers[player].load_state_dict(trainer_states[player])
            agents[player].generator.set_state(run_state["sampling_generators"][player])
        JsonlLog.truncate(folder.rounds, run_state["log_sizes"]["rounds"])
        JsonlLog.truncate(folder.ppo, run_state["log_sizes"]["ppo"])
        start = int(run_state["episodes_done"])
        logger.info("Resuming %s at episode %d from %s", folder.root, start, checkpoint)
    else:
        JsonlLog.truncate(folder.rounds, 0)
        JsonlLog.truncate(folder.ppo, 0)
    save_config(config, folder.config)

    rounds_log, ppo_log = JsonlLog(folder.rounds), JsonlLog(folder.ppo)
    tracker = make_tracker(config.tracker, folder.root, config_to_dict(config), resume=checkpoint is not None)
    progress = ProgressBar(config, start)
    table = GameTable(config)
    rewards = reward_functions(config)
    schedule = config.schedule
    try:
        for episode in range(start, config.episodes):  # type: ignore[arg-type]
            reward_name = schedule.reward_name(episode)
            if episode > 0 and reward_name != schedule.reward_name(episode - 1):
                _reset_at_switch(trainers, config)
            t_rollout = time.perf_counter()
            result = play_episode(
                table,
                agents,
                episode=episode,
                run_seed=config.seed,
                reward_name=reward_name,
                rewards=rewards,
                rounds=config.rounds_per_episode,  # type: ignore[arg-type]
            )
            rollout_time = time.perf_counter() - t_rollout
            for row in result.rows:
                rounds_log.write(row.to_dict())
            for player, trainer in trainers.items():
                batch = result.batches[player]
                stats = trainer.step(batch.queries, batch.responses, batch.scores)
                stats["time/rollout"] = rollout_time
                ppo_log.write({"episode": episode, "player": player, "reward_name": reward_name, **stats})
                tracker.log({f"{player}/{k}": v for k, v in stats.items()}, step=episode)
            tracker.log(progress.update(result.rows), step=episode)
            rounds_log.flush()
            ppo_log.flush()
            done = episode + 1
            if done == config.episodes or (config.checkpoint_every and done % config.checkpoint_every == 0):
                _checkpoint(folder, done, peft_model, trainers, agents, rounds_log, ppo_log)
    finally:
        progress.close()
        rounds_log.close()
        ppo_log.close()
        tracker.close()

    adapters = {player: save_adapter(peft_model, folder.adapter(player), player) for player in config.learners}
    rows = list(read_jsonl(folder.rounds))
    summary = summarize_run(rows, config.episodes, config.learners)  # type: ignore[arg-type]
    summary["wall_time_s"] = time.perf_counter() - started
    folder.summary.write_text(json.dumps(summary, indent=1, default=_json_default))
    plot = plot_action_types(
        rows,
        folder.plot,
        episodes=config.episodes,  # type: ignore[arg-type]
        players=config.learners,
        title=_plot_title(config),
        switch_episodes=_switch_episodes(config),
    )
    return TrainResult(
        config=config,
        output_dir=folder.root,
        episodes_done=config.episodes,  # type: ignore[arg-type]
        adapters=adapters,
        summary=summary,
        summary_text=format_summary(summary, config.learners),
        plot=plot,
        wall_time_s=summary["wall_time_s"],
    )


_STREAMS = ("adapters", "sampling_player_0", "sampling_player_1")


def _prepare_folder(folder: RunFolder, config: TrainConfig) -> Path | None:
    """Check the folder against ``config``; return the checkpoint to resume from (None: start afresh)."""
    if not config.resume:
        if folder.holds_a_run():
            raise ValueError(
                f"{folder.root} already holds a run (config.yaml or rounds.jsonl); pass resume=True (--resume) to "
                "continue it, or choose another output_dir."
            )
        folder.root.mkdir(parents=True, exist_ok=True)
        return None
    if not folder.config.exists():
        raise FileNotFoundError(f"Nothing to resume in {folder.root}: it has no config.yaml. Drop --resume to start.")
    saved, wanted = _comparable(read_yaml(folder.config)), _comparable(config_to_dict(config))
    differing = sorted(key for key in set(saved) | set(wanted) if saved.get(key) != wanted.get(key))
    if differing:
        raise ValueError(
            f"Cannot resume {folder.root} with a different config: {differing} differ from its config.yaml. "
            f"Only {list(RESUME_MAY_CHANGE)} may change; pass the saved config (--config {folder.config})."
        )
    return folder.last_resumable_checkpoint()


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """A saved or current config as plain data, without the settings a resume may change or the cache path."""
    data = {k: v for k, v in data.items() if k not in RESUME_MAY_CHANGE}
    data["model"] = {k: v for k, v in (data.get("model") or {}).items() if k != "cache_dir"}
    return {k: _normalise(v) for k, v in data.items()}


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _attach_learners(model: torch.nn.Module, config: TrainConfig, seed: int) -> torch.nn.Module:
    """One fresh LoRA adapter per learner on the same base model; initialised from ``seed`` without touching the
    global torch random state (LoRA's A matrices are drawn from it)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        peft_model = attach_lora(model, config.model.lora, adapter_name=config.learners[0])
        for player in config.learners[1:]:
            add_adapter(peft_model, player, config.model.lora)
    return peft_model


def _reset_at_switch(trainers: dict[str, PPOTrainer], config: TrainConfig) -> None:
    """Apply ``config.reset_at_switch`` when the reward changes (the paper carried everything over)."""
    if config.reset_at_switch == "nothing":
        return
    for trainer in trainers.values():
        if trainer.running_moments is not None:
            trainer.running_moments = RunningMoments()
        if config.reset_at_switch == "optimizer_and_score_stats":
            trainer.optimizer = torch.optim.Adam(trainer.trainable_parameters, lr=trainer.config.learning_rate)


def _checkpoint(folder, done, peft_model, trainers, agents, rounds_log, ppo_log) -> None:
    def save_adapters(directory: Path) -> None:
        for player in trainers:
            save_adapter(peft_model, directory / player, player)

    write_checkpoint(
        folder,
        done,
        save_adapters=save_adapters,
        trainer_states={player: trainer.state_dict() for player, trainer in trainers.items()},
        run_state={
            "sampling_generators": {player: agent.generator.get_state() for player, agent in agents.items()},
            "log_sizes": {"rounds": rounds_log.size(), "ppo": ppo_log.size()},
        },
    )


def _switch_episodes(config: TrainConfig) -> list[int]:
    switches, start = [], 0
    for _, count in config.schedule.phases[:-1]:
        start += count  # type: ignore[operator]
        switches.append(start)
    return switches


def _plot_title(config: TrainConfig) -> str:
    model = Path(config.model.name).name if "/" in config.model.name else config.model.name
    return f"{model} vs {config.opponent} on {config.game}, reward {config.reward} (seed {config.seed})"


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {value!r} to JSON.")
