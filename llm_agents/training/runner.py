"""``train(TrainConfig) -> TrainResult``: the fine-tuning loop, top to bottom.

One update = one episode of ``games_per_update`` games (``episodes.play_episode``), then one step of the run's
algorithm (PPO or GRPO, ``algorithms.py``) per learner on all the rounds it played. Against an LLM both players
learn, each with its own adapter and trainer on the same base model (one copy of the weights; the reference policy
is that model with adapters disabled).

Randomness comes from ``config.seed`` only: adapter initialisation (inside ``torch.random.fork_rng``, so torch's
global state is left as it was), each learner's sampling generator, the trainers' own generators, and the
environments' per-episode seeds. Sampling and the update's passes run in eval mode, so dropout never draws. A run is
therefore reproducible on the same machine, and a resumed run equals an uninterrupted one.

A write that fails for a reason outside the program (a full disk, a read-only folder) stops the run with one
``WriteFailed`` line: what happened, the fix, and how to go on (the last complete checkpoint is intact, so
``--resume`` continues from it). ``--resume`` on a finished run says so and changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from llm_agents.agent.adapters import add_adapter, attach_lora, save_adapter
from llm_agents.agent.config import AgentConfig
from llm_agents.agent.generation import label_token_count
from llm_agents.agent.hardware import release_freed_memory
from llm_agents.agent.llm_agent import LLMAgent, check_labels_fit
from llm_agents.agent.models import load_model
from llm_agents.policy_update import NonFiniteError
from llm_agents.runs.folder import JsonlLog, RunFolder, WriteFailed, complete_checkpoints, read_jsonl, writing
from llm_agents.threads import configure_threads, refresh_threads
from llm_agents.training.algorithms import ALGORITHMS, Trainer
from llm_agents.training.checkpoints import write_checkpoint
from llm_agents.training.config import TrainConfig
from llm_agents.training.config_io import config_to_dict, save_config
from llm_agents.training.diagnostics import analysis_due, state_tables
from llm_agents.training.episodes import GameTable, play_episode, reward_functions
from llm_agents.training.resume import finished_run, prepare_folder, restore
from llm_agents.training.summary import format_summary, plot_action_types, summarize_run
from llm_agents.training.trackers import ProgressBar, Tracker, Trackers, make_tracker
from matrix_games.core.seeding import spawn_rngs


def _streams(learners: tuple[str, ...]) -> tuple[str, ...]:
    """The run's named random streams; a stream's seed depends only on its position, so adding learners keeps the
    earlier ones (a two-learner run draws what it always drew)."""
    return ("adapters", *(f"sampling_{player}" for player in learners))


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        config: The run's config.
        output_dir: The run folder.
        episodes_done: Episodes finished (all of them, counting those before a resume).
        adapters: The final adapter folder of each learner (peft format).
        summary: The summary also written to ``summary.json``.
        summary_text: The same, as printable lines.
        plot: The action-type plot.
        wall_time_s: Seconds the run took (model loading included); for a run that was finished already, the
            seconds its ``summary.json`` recorded.
        already_finished: The run was finished before this call (a ``--resume`` of it, which changed nothing).
    """

    config: TrainConfig
    output_dir: Path
    episodes_done: int
    adapters: dict[str, Path]
    summary: dict[str, Any]
    summary_text: str
    plot: Path
    wall_time_s: float
    already_finished: bool = False


@dataclass
class Learners:
    """The model with one adapter per learner, and each learner's trainer and sampling agent."""

    model: torch.nn.Module
    trainers: dict[str, Trainer]
    agents: dict[str, LLMAgent]


def train(
    config: TrainConfig,
    *,
    model: torch.nn.Module | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    observer: Tracker | None = None,
) -> TrainResult:
    """Fine-tune LoRA adapter(s) as ``config`` says (PPO by default) and write the run folder.

    Args:
        config: The run.
        model: A base model already loaded (no adapters yet); by default ``config.model`` is loaded.
        tokenizer: Its tokenizer (required with ``model``).
        observer: A ``Tracker`` that also receives every logged value (a grid's progress lines use it).

    Example:
        >>> config = TrainConfig(reward="deontological", episodes=50, output_dir=Path("runs/de"))
        >>> result = train(config)  # doctest: +SKIP
        >>> print(result.summary_text)  # doctest: +SKIP
    """
    configure_threads(config.threads)  # first: before torch spins up its threads
    started = time.perf_counter()
    if (model is None) != (tokenizer is None):
        raise ValueError("Pass both model and tokenizer, or neither (then config.model is loaded).")
    folder = RunFolder(config.output_dir)
    try:
        with writing(folder.root), folder.lock() as held:  # first thing: no second process reads or writes it
            try:
                checkpoint = prepare_folder(folder, config)
            except ValueError:
                held.leave_as_found()  # a refused start or resume leaves the folder as it found it
                raise
            if checkpoint is not None and finished_run(folder, config, checkpoint):
                held.leave_as_found()
                return _already_finished(folder, config)
            if model is None:
                model, tokenizer = load_model(config.model)
            learners = _build_learners(model, tokenizer, config)  # type: ignore[arg-type]
            start = restore(checkpoint, learners.trainers, learners.agents, config)
            save_config(config, folder.config)
            folder.summary.unlink(missing_ok=True)  # a summary of fewer episodes, if any: the run is not finished
            _run_episodes(folder, learners, config, start, observer)
            return _finish(folder, learners, config, started)
    except WriteFailed as failure:
        raise WriteFailed(f"{failure}, then {_how_to_go_on(folder)}", failure.path) from None


def _how_to_go_on(folder: RunFolder) -> str:
    """After a failed write: resume from the last complete checkpoint (intact: checkpoints are written whole or not
    at all), or start again when none was reached."""
    saved = complete_checkpoints(folder)
    if saved:
        return (
            f"resume with --resume (llm-agents train --config {folder.config} --resume): the last complete "
            f"checkpoint, {saved[-1]}, is intact"
        )
    if folder.holds_a_run():
        return "start the run again with --overwrite (it stopped before its first checkpoint)"
    return "start the run again"


def _already_finished(folder: RunFolder, config: TrainConfig) -> TrainResult:
    """The result of a finished run, read from its folder, which is left as it is."""
    summary = json.loads(folder.summary.read_text(encoding="utf-8"))
    print(
        f"llm_agents: {folder.root} is finished ({config.num_episodes} of {config.num_episodes} episodes); nothing "
        f"was changed. To train it further, resume with more episodes (--episodes N, N > {config.num_episodes}).",
        file=sys.stderr,
    )
    return TrainResult(
        config=config,
        output_dir=folder.root,
        episodes_done=config.num_episodes,
        adapters={player: folder.adapter(player) for player in config.learners},
        summary=summary,
        summary_text=format_summary(summary, config.learners),
        plot=folder.plot,
        wall_time_s=float(summary.get("wall_time_s", 0.0)),
        already_finished=True,
    )


class TrainingDiverged(FloatingPointError):
    """An update produced a non-finite number; the run stopped before writing it anywhere."""


def _build_learners(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, config: TrainConfig) -> Learners:
    """One fresh LoRA adapter, trainer and sampling agent per learner, all on the same base model.

    The adapters are initialised from the run seed without touching the global torch random state (LoRA's A
    matrices are drawn from it).
    """
    seeds = {
        name: int(rng.integers(2**31 - 1)) for name, rng in spawn_rngs(config.seed, *_streams(config.learners)).items()
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds["adapters"])
        peft_model = attach_lora(model, config.model.lora, adapter_name=config.learners[0])
        for player in config.learners[1:]:
            add_adapter(peft_model, player, config.model.lora)
    build = ALGORITHMS[config.algorithm].build
    trainers = {player: build(peft_model, config, index, player) for index, player in enumerate(config.learners)}
    agent_config = _agent_config(config, tokenizer)
    agents = {
        player: LLMAgent.from_config(
            peft_model,
            tokenizer,
            agent_config,
            adapter_name=player,
            seed=seeds[f"sampling_{player}"],
            batching=config.batching,
        )
        for player in config.learners
    }
    return Learners(peft_model, trainers, agents)


def _agent_config(config: TrainConfig, tokenizer: PreTrainedTokenizerBase) -> AgentConfig:
    """The learners' ``AgentConfig``; with a label pool, one answer length for the whole run (its longest label's)."""
    agent, pool = config.agent, config.label_pool
    if pool is None:
        return agent
    if agent.generation.max_new_tokens is not None:  # every label of the pool must fit, checked before episode 0
        check_labels_fit(tokenizer, sorted(pool.labels), agent.generation.max_new_tokens)
        return agent
    generation = dataclasses.replace(agent.generation, max_new_tokens=label_token_count(tokenizer, sorted(pool.labels)))
    return dataclasses.replace(agent, generation=generation)


def _run_episodes(
    folder: RunFolder, learners: Learners, config: TrainConfig, start: int, observer: Tracker | None = None
) -> None:
    """Episodes ``start`` to the end: play, log, one update per learner, checkpoint when due."""
    rounds_log, stats_log = JsonlLog(folder.rounds), JsonlLog(folder.statistics(config.algorithm))
    analysis_log = JsonlLog(folder.analysis) if config.analysis_every else None
    tracker = make_tracker(config.tracker, folder.root, config_to_dict(config), resume=start > 0)
    if observer is not None:
        tracker = Trackers(tracker, observer)
    progress = ProgressBar(config.learners, config.num_episodes, start, enabled=config.progress)
    table, rewards, schedule = GameTable.for_run(config), reward_functions(config), config.schedule
    try:
        if start == 0:
            _diagnose(analysis_log, tracker, learners, config, 0)
        for episode in range(start, config.num_episodes):
            refresh_threads()  # other llm_agents processes may have started or stopped (llm_agents.threads)
            reward_name = schedule.reward_name(episode)
            if episode > 0 and reward_name != schedule.reward_name(episode - 1):
                for trainer in learners.trainers.values():
                    trainer.reset_at_switch(config.reset_at_switch)
            t_rollout = time.perf_counter()
            result = play_episode(
                table,
                learners.agents,
                episode=episode,
                run_seed=config.seed,
                reward_name=reward_name,
                rewards=rewards,
                rounds=config.num_rounds,
                game_id=config.env_id,
                generations=config.generations_per_state,
            )
            rollout_time = time.perf_counter() - t_rollout
            for log in result.logs:
                rounds_log.write(log)
            for player, trainer in learners.trainers.items():
                batch = result.batches[player]
                stats = _step(trainer, batch, episode, player, folder, config)
                stats["time/rollout"] = rollout_time
                stats_log.write({"episode": episode, "player": player, "reward_name": reward_name, **stats})
                tracker.log({f"{player}/{k}": v for k, v in stats.items()}, step=episode)
            tracker.log(progress.update(result.logs), step=episode)
            done = episode + 1
            _diagnose(analysis_log, tracker, learners, config, done)
            rounds_log.flush()
            stats_log.flush()
            release_freed_memory()
            if done == config.num_episodes or (config.checkpoint_every and done % config.checkpoint_every == 0):
                _checkpoint(folder, done, learners, [rounds_log, stats_log, analysis_log])
    finally:
        progress.close()
        for log in (rounds_log, stats_log, analysis_log):
            if log is not None:
                log.close()
        tracker.close()


def _diagnose(log: JsonlLog | None, tracker: Tracker, learners: Learners, config: TrainConfig, done: int) -> None:
    """The exact per-state diagnostics after ``done`` updates, when due (``diagnostics.py``)."""
    if log is None or not analysis_due(config, done):
        return
    reward_name = config.schedule.reward_name(min(done, config.num_episodes - 1))
    for line in state_tables(config, learners.agents, done, reward_name):
        log.write(line)
        values = {
            f"{line['player']}/exact/{state}/{key}": value
            for state, probabilities in line["states"].items()
            for key, value in probabilities.items()
        }
        tracker.log(values, step=done)
    log.flush()


def _finish(folder: RunFolder, learners: Learners, config: TrainConfig, started: float) -> TrainResult:
    """Save the final adapters, the action-type plot and, last, the summary (whose presence says the run is
    finished)."""
    players = config.learners
    adapters = {player: save_adapter(learners.model, folder.adapter(player), player) for player in players}
    logs = folder.read_rounds(config_to_dict(config))
    summary = summarize_run(logs, config.num_episodes, players)
    plot = plot_action_types(
        logs,
        folder.plot,
        episodes=config.num_episodes,
        players=players,
        title=_plot_title(config),
        switch_episodes=config.schedule.switch_episodes(config.num_episodes),
        diagnostics=list(read_jsonl(folder.analysis)) if folder.analysis.exists() else [],
    )
    summary["wall_time_s"] = time.perf_counter() - started
    with writing(folder.summary):  # last: a whole summary.json says the run is finished
        folder.summary.write_text(json.dumps(summary, indent=1, default=str))
    return TrainResult(
        config=config,
        output_dir=folder.root,
        episodes_done=config.num_episodes,
        adapters=adapters,
        summary=summary,
        summary_text=format_summary(summary, players),
        plot=plot,
        wall_time_s=summary["wall_time_s"],
    )


def _step(trainer: Trainer, batch, episode: int, player: str, folder: RunFolder, config: TrainConfig) -> dict:
    """One update; a non-finite loss, gradient or weight stops the run with what to change."""
    try:
        return trainer.step(batch.queries, batch.responses, batch.scores)
    except NonFiniteError as error:
        saved = complete_checkpoints(folder)
        kept = f"the last checkpoint ({saved[-1]}) and its adapter are untouched" if saved else "no checkpoint was made"
        rate = ALGORITHMS[config.algorithm].learning_rate(config)
        raise TrainingDiverged(
            f"stopped at episode {episode}: {error} for {player}. Likely causes: a learning rate too high for this "
            f"model ({config.algorithm}.learning_rate={rate:g}) or rewards on a large scale (keep "
            f"ppo.use_score_scaling on, or lower the rewards). Nothing non-finite was saved; {kept}."
        ) from None


def _checkpoint(folder: RunFolder, done: int, learners: Learners, logs: list[JsonlLog | None]) -> None:
    def save_adapters(directory: Path) -> None:
        for player in learners.trainers:
            save_adapter(learners.model, directory / player, player)

    write_checkpoint(
        folder,
        done,
        save_adapters=save_adapters,
        trainer_states={player: trainer.state_dict() for player, trainer in learners.trainers.items()},
        run_state={
            "sampling_generators": {player: agent.generator.get_state() for player, agent in learners.agents.items()},
            "log_sizes": {log.path.stem: log.size() for log in logs if log is not None},
            "log_rows": {log.path.stem: log.rows() for log in logs if log is not None},
        },
    )


def _plot_title(config: TrainConfig) -> str:
    model = Path(config.model.name).name if "/" in config.model.name else config.model.name
    return f"{model} vs {config.opponent} on {config.game}, reward {config.reward} (seed {config.seed})"
