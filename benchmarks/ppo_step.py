"""Time one PPO step, split into its parts, next to a plain forward and a forward+backward on the same batch.

usage: python benchmarks/ppo_step.py [--model tiny|smollm2-135m-instruct|PATH] [--batch 5] [--query-len 233]
                                     [--response-len 2] [--rank 8] [--epochs 4] [--repeats 3] [--threads N]

The defaults are the paper's batch shape (5 prompts of about 233 tokens, 2-token answers). ``tiny`` is a random
2-layer llama built in memory (no files); ``smollm2-135m-instruct`` is the embedded model (loaded through
``llm_agents.agent.models``); any other value is a local transformers folder. Timings are the median of ``--repeats``
runs after one warm-up; read them as sizes on a shared machine, not promises.

The floor of a step is one forward for the old log-probs and values, one for the reference, and one
forward+backward per epoch; the script prints the step's ratio to it.
"""

from __future__ import annotations

import argparse
import resource
import statistics

import torch
from peft import LoraConfig, get_peft_model
from timing import median_seconds
from transformers import LlamaConfig, LlamaForCausalLM

from llm_agents.ppo import PPOConfig, PPOTrainer
from llm_agents.sequences.forward import pack, response_forward


def load_base_model(name: str) -> torch.nn.Module:
    if name == "tiny":
        config = LlamaConfig(
            vocab_size=64,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            tie_word_embeddings=True,
        )
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return LlamaForCausalLM(config).eval()
    from llm_agents.agent.config import ModelConfig
    from llm_agents.agent.models import load_model

    model, _ = load_model(ModelConfig(name=name, device="cpu", dtype="float32"))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--query-len", type=int, default=233)
    parser.add_argument("--response-len", type=int, default=2)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    base = load_base_model(args.model)
    vocab = base.config.get_text_config().vocab_size
    model = get_peft_model(
        base, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    g = torch.Generator().manual_seed(0)
    queries = [torch.randint(0, vocab, (args.query_len,), generator=g) for _ in range(args.batch)]
    responses = [torch.randint(0, vocab, (args.response_len,), generator=g) for _ in range(args.batch)]
    scores = torch.randn(args.batch, generator=g).tolist()
    config = PPOConfig(batch_size=args.batch, mini_batch_size=args.batch, ppo_epochs=args.epochs)
    trainer = PPOTrainer(model, config)
    batch = pack(queries, responses, pad_token_id=0, device=trainer.device)
    inputs = dict(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids)

    def full_forward() -> None:
        with torch.no_grad():
            model(**inputs, use_cache=False)

    def response_only_forward() -> None:
        with torch.no_grad():
            response_forward(model, batch, trainer.value_head)

    def forward_backward() -> None:
        output = response_forward(model, batch, trainer.value_head)
        (output.logprobs.sum() + output.values.sum()).backward()
        model.zero_grad(set_to_none=True)
        trainer.value_head.zero_grad(set_to_none=True)

    model.eval()
    print(
        f"model {args.model}: batch {args.batch} x ({args.query_len} + {args.response_len}) tokens, LoRA r={args.rank}"
    )
    print(f"torch threads {torch.get_num_threads()}, median of {args.repeats} after a warm-up\n", flush=True)
    row = "{:<52} {:8.3f} s"
    print(
        row.format("plain forward, logits for every position", median_seconds(full_forward, args.repeats)), flush=True
    )
    forward = median_seconds(response_only_forward, args.repeats)
    print(row.format("forward, logits for the response positions only", forward), flush=True)
    forward_backward_time = median_seconds(forward_backward, args.repeats)
    print(row.format("forward+backward, response positions only", forward_backward_time), flush=True)
    steps = []
    trainer.step(queries, responses, scores)  # warm-up
    for _ in range(args.repeats):
        steps.append(trainer.step(queries, responses, scores))

    def part(key: str) -> float:
        return statistics.median(s[key] for s in steps)

    floor = 2 * forward + args.epochs * forward_backward_time
    print()
    print(row.format("PPO step: reference log-probs", part("time/ppo/ref_forward_pass")))
    print(row.format("PPO step: old log-probs and values", part("time/ppo/old_forward_pass")))
    print(row.format(f"PPO step: {args.epochs} epochs", part("time/ppo/optimize_step")))
    print(row.format("PPO step: total", part("time/ppo/total")))
    print(row.format(f"floor: 2 forwards + {args.epochs} forward+backward", floor))
    print(f"{'step / floor':<52} {part('time/ppo/total') / floor:8.2f}")
    print(f"{'peak resident memory':<52} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")


if __name__ == "__main__":
    main()
