"""The main job, on a laptop CPU: fine-tune the embedded SmolLM2-135M-Instruct on the iterated Prisoner's Dilemma
against tit-for-tat with a moral reward, and show what it learned (``make demo``; its time on our machine is in
docs/training.md, "The demo").

1. The base model plays fresh evaluation games against tit-for-tat: it rarely gives a legal answer at all.
2. PPO fine-tunes a LoRA adapter with the settings of ``configs/demo.yaml`` (chosen by measurement, see
   docs/training.md); the progress bar shows the running cooperation and illegal rates.
3. The fine-tuned adapter plays the same evaluation games (same seeds); before and after are printed side by side,
   with the run's own first-vs-last summary, the action-type plot and the run folder.

Usage::

    python examples/train_demo.py [--config configs/demo.yaml] [--output-dir runs/demo] [--episodes N]
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import time
from pathlib import Path

from llm_agents.agent.adapters import load_adapter
from llm_agents.agent.hardware import release_freed_memory
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import load_model
from llm_agents.training import load_config, train
from llm_agents.training.quick_eval import evaluate_agent
from matrix_games.metrics import ACTION_BANDS

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "demo.yaml", help="the run's settings")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "runs" / "demo", help="run folder (replaced)")
    parser.add_argument("--episodes", type=int, default=None, help="override the config's number of episodes")
    parser.add_argument("--eval-games", type=int, default=10, help="evaluation games before and after [10]")
    return parser.parse_args()


def make_agent(model, tokenizer, config, **kwargs) -> LLMAgent:
    return LLMAgent.from_config(model, tokenizer, config.agent, seed=config.seed, **kwargs)


def print_comparison(before: dict, after: dict, games: int, rounds: int) -> None:
    print(f"\nEvaluation: {games} fresh games x {rounds} rounds against the training opponent (same seeds)")
    print(f"  {'':24}{'base model':>12}{'fine-tuned':>12}")
    for key in ("cooperation_rate", "defection_rate", "illegal_rate", "mean_training_reward", "mean_game_reward"):
        print(f"  {key.replace('_', ' '):24}{before[key]:12.2f}{after[key]:12.2f}")
    for name in ACTION_BANDS:
        key = f"share {name}"
        print(f"  {'share of ' + name:24}{before[key]:12.2f}{after[key]:12.2f}")


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    overrides = {"output_dir": str(args.output_dir)}
    if args.episodes is not None:
        overrides["episodes"] = args.episodes
    config = load_config(args.config, overrides)
    if config.output_dir.exists():
        print(f"Replacing the previous demo run in {config.output_dir}")
        shutil.rmtree(config.output_dir)
    print(
        f"Fine-tuning {config.model.name} (LoRA r={config.model.lora.r}) on {config.game} against {config.opponent} "
        f"with the {config.reward} reward: {config.num_episodes} PPO updates of {config.games_per_update} games x "
        f"{config.num_rounds} rounds, lr {config.ppo.learning_rate:g}, labels {config.labels}."
    )
    model, tokenizer = load_model(config.model)
    before = evaluate_agent(make_agent(model, tokenizer, config), config, args.eval_games)
    print(f"Base model: cooperation {before['cooperation_rate']:.2f}, illegal answers {before['illegal_rate']:.2f}")

    result = train(config, model=model, tokenizer=tokenizer)
    del model  # the trained weights are in the run folder; free them before loading the base model again
    gc.collect()
    release_freed_memory()

    fresh_model, tokenizer = load_model(config.model)
    trained = load_adapter(fresh_model, result.adapters["player_0"], is_trainable=False)
    after = evaluate_agent(make_agent(trained, tokenizer, config, adapter_name="default"), config, args.eval_games)

    print("\nDuring training (from the run's rounds.jsonl):")
    print(result.summary_text)
    print_comparison(before, after, args.eval_games, config.num_rounds)
    evaluation = {"games": args.eval_games, "base_model": before, "fine_tuned": after}
    (result.output_dir / "demo_evaluation.json").write_text(json.dumps(evaluation, indent=1))
    print(f"\nRun folder: {result.output_dir}")
    print(f"  plot: {result.plot}")
    print(f"  adapter: {result.adapters['player_0']}")
    print(f"Total wall time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    from llm_agents.console import one_line_warnings, quiet_libraries

    with quiet_libraries(), one_line_warnings("train_demo"):  # as the llm-agents commands: libraries' noise off
        main()
