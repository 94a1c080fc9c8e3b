"""Time training episodes end to end, split into their parts, next to a plain forward and a forward+backward.

usage: python benchmarks/train_episode.py [--config configs/demo.yaml] [--episodes 4] [--set KEY=VALUE ...]

Runs ``llm_agents.training.train`` for a few episodes of the given config (the demo's by default: the embedded
SmolLM2 on CPU) in a temporary folder and prints, per episode (the median after the first, a warm-up):

- generation: the rollout, i.e. every round's batched sampling plus the environments (``time/rollout``);
- old log-probs and values, reference log-probs, and the PPO epochs (the trainer's ``time/ppo/*``);

then, on a batch of the same shape (the prompts and answers of one more episode), one plain forward with no
gradient (logits for every position) and one forward+backward through the response positions, the floor that
compares a step with. Timings on a shared machine are sizes, not promises: say how loaded it was when you quote them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from timing import median_seconds

from llm_agents.agent.adapters import attach_lora
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import load_model
from llm_agents.ppo import ValueHead
from llm_agents.sequences.forward import pack, response_forward
from llm_agents.training import load_config, train
from llm_agents.training.config_io import parse_override
from llm_agents.training.episodes import GameTable, play_episode, reward_functions

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "demo.yaml")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        overrides = dict(parse_override(text) for text in args.settings)
        overrides.update(output_dir=folder, episodes=args.episodes, checkpoint_every=0, progress=False)
        config = load_config(args.config, overrides)
        started = time.perf_counter()
        train(config)
        wall = time.perf_counter() - started
        steps = [json.loads(line) for line in (Path(folder) / "ppo.jsonl").read_text().splitlines()]

    print(
        f"{config.model.name} ({config.model.dtype}), LoRA r={config.model.lora.r}: {args.episodes} episodes of "
        f"{config.games_per_update} game(s) x {config.num_rounds} rounds (batch {config.samples_per_update}), "
        f"ppo_epochs {config.ppo.ppo_epochs}; torch threads {torch.get_num_threads()}"
    )
    later = steps[1:] or steps
    row = "{:<58} {:8.2f} s"

    def part(key: str) -> float:
        return statistics.median(step[key] for step in later)

    generation = part("time/rollout")
    total = generation + part("time/ppo/total")
    print(f"\nper episode (median of episodes 2..{args.episodes}; {wall:.0f} s in all, model loading included)")
    print(row.format("generation (rollout of every round, batched)", generation))
    print(row.format("old log-probs and values (kept for the first epoch)", part("time/ppo/old_forward_pass")))
    print(row.format("reference log-probs (adapters disabled)", part("time/ppo/ref_forward_pass")))
    print(row.format(f"PPO epochs ({config.ppo.ppo_epochs})", part("time/ppo/optimize_step")))
    print(row.format("episode total", total))

    model, tokenizer = load_model(config.model)
    peft_model = attach_lora(model, config.model.lora, adapter_name="player_0")
    agent = LLMAgent.from_config(peft_model, tokenizer, config.agent, adapter_name="player_0")
    result = play_episode(
        GameTable.for_run(config),
        {"player_0": agent},
        episode=0,
        run_seed=config.seed,
        reward_name=config.schedule.reward_name(0),
        rewards=reward_functions(config),
        rounds=config.num_rounds,
        game_id=config.env_id,
    )
    batch_data = result.batches["player_0"]
    device = next(peft_model.parameters()).device
    batch = pack(batch_data.queries, batch_data.responses, tokenizer.pad_token_id, device)
    value_head = ValueHead(peft_model.config.get_text_config().hidden_size).to(device).eval()
    inputs = dict(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids)

    def plain_forward() -> None:
        with torch.no_grad():
            peft_model(**inputs, use_cache=False)

    def forward_backward() -> None:
        output = response_forward(peft_model, batch, value_head)
        (output.logprobs.sum() + output.values.sum()).backward()
        peft_model.zero_grad(set_to_none=True)
        value_head.zero_grad(set_to_none=True)

    queries = [len(q) for q in batch_data.queries]
    print(
        f"\nthe same batch shape: {len(queries)} prompts of {min(queries)}-{max(queries)} tokens (median of "
        f"{args.repeats} after a warm-up)"
    )
    forward = median_seconds(plain_forward, args.repeats)
    backward = median_seconds(forward_backward, args.repeats)
    print(row.format("plain forward, no gradient, logits for every position", forward))
    print(row.format("forward+backward, response positions only", backward))
    floor = generation + forward + config.ppo.ppo_epochs * backward
    print(row.format(f"floor: generation + 1 forward + {config.ppo.ppo_epochs} forward+backward", floor))
    print(f"{'episode / floor':<58} {total / floor:8.2f}")


if __name__ == "__main__":
    main()
