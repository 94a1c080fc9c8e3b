"""``llm-agents play``: one LLM plays one iterated game against a baseline strategy, printing every round.

The environment is the registered Gymnasium view (``matrix_games/IPD-v0`` and the like) built with
``allow_illegal=True``, so an answer that is neither label is scored with the illegal reward (the paper's setting).
The summary uses ``matrix_games.metrics`` with the paper's test-time parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import gymnasium

from llm_agents.agent.config import EMBEDDED_MODEL, GenerationConfig, ModelConfig
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.parsing import ParseMode
from llm_agents.runs.folder import adapter_and_run, run_labels
from matrix_games.core.actions import DEFAULT_LABELS, move_name
from matrix_games.envs.registration import NAMESPACE, env_id
from matrix_games.metrics import rates, summarize
from matrix_games.rewards import make_reward_fn


@dataclass(frozen=True)
class PlayOptions:
    """What ``llm-agents play`` plays (the command's arguments).

    ``adapter`` is an adapter folder or a training run folder (its final adapter, as ``evaluate`` takes it); with a
    run folder, ``model`` and ``labels`` default to the run's. ``model`` None is the embedded model otherwise.
    ``force`` loads the adapter even onto a base model other than its own (a warning instead of the refusal).
    """

    game: str = "IPD-v0"
    opponent: str = "tit_for_tat"
    rounds: int = 20
    model: str | None = None
    adapter: Path | None = None
    seed: int = 0
    labels: tuple[str, str] | None = None
    parse_mode: ParseMode = "strict"
    max_new_tokens: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    quantization: str = "none"
    force: bool = False


def play(options: PlayOptions, *, as_json: bool = False, print_fn=print) -> dict:
    """Play ``options.rounds`` rounds, print each, and return the summary (also printed, as JSON if asked)."""
    game_id = env_id(options.game)
    adapter, run_config = adapter_and_run(options.adapter) if options.adapter is not None else (None, None)
    model = options.model or (run_config or {}).get("model", {}).get("name") or EMBEDDED_MODEL
    labels = options.labels or run_labels(run_config) or DEFAULT_LABELS
    env = gymnasium.make(
        f"{NAMESPACE}/{game_id}",
        opponent=options.opponent,
        num_rounds=options.rounds,
        allow_illegal=True,
        action_labels=labels,
        observation_type="dict",
    )
    agent = LLMAgent.load(
        ModelConfig(name=model, device=options.device, dtype=options.dtype, quantization=options.quantization),  # type: ignore[arg-type]
        adapter=adapter,
        force=options.force,
        labels=labels,
        parse_mode=options.parse_mode,
        generation=GenerationConfig(max_new_tokens=options.max_new_tokens),
        seed=options.seed,
    )
    deontological, utilitarian = make_reward_fn("deontological"), make_reward_fn("utilitarian")
    observation, info = env.reset(seed=options.seed)
    previous = (info["previous_action"], info["opponent_previous_action"])
    outcomes = []
    for round_number in range(1, options.rounds + 1):
        state = f"you {_move(previous[0])}, opponent {_move(previous[1])}"
        (record,) = agent.respond([observation])
        observation, _, terminated, truncated, info = env.step(record.action)
        outcome = info["outcome"]
        previous = outcome.state_after  # a step's info holds the state *before* that round
        outcomes.append(outcome)
        print_fn(
            f"round {round_number:>3} | last round: {state} | answer {record.completion_text!r} -> "
            f"{move_name(record.action)} | opponent {move_name(outcome.opponent_action)} | rewards: "
            f"game {outcome.game_reward:g}, deontological {deontological(outcome):g}, "
            f"utilitarian {utilitarian(outcome):g}"
        )
        if terminated or truncated:
            break
    metrics, shares = summarize(outcomes, env.unwrapped.game), rates(outcomes)
    summary = {
        "game": game_id,
        "opponent": options.opponent,
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "seed": options.seed,
        "labels": list(labels),
        "rounds": metrics.rounds,
        "cooperation_rate": metrics.cooperation_rate,
        "illegal_rate": shares["illegal_rate"],
        "mean_game_reward": shares["mean_game_reward"],
        "deontological_regret": metrics.deontological_regret,
        "utilitarian_regret": metrics.utilitarian_regret,
    }
    print_fn(json.dumps(summary) if as_json else _summary_line(summary))
    return summary


def _summary_line(summary: dict) -> str:
    values = (f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items())
    return "summary: " + ", ".join(values)


def _move(action: int | None) -> str:
    return move_name(action) or "none"
