"""Time a batch of 16 answers from the embedded model, and measure its legal-answer rate on the paper's prompt.

Usage::

    python benchmarks/generation.py [--samples 64] [--seed 0] [--labels action1 action2] [--device auto]

Prints the batch-16 generation time (prompt encoding + one batched sampling call, after one warm-up batch), the
legal-answer rate of the base model (no adapter) over ``--samples`` answers under the paper's strict rule and under the
lenient rule, and the most frequent answers. The prompt is the paper's IPD training prompt (``matrix_games.text``),
with random previous moves, in the model's chat template; answers have the labels' token length (2 for action1/2).
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np
import torch
from timing import repeat_seconds

from llm_agents.agent.chat import encode_prompts
from llm_agents.agent.config import ModelConfig
from llm_agents.agent.generation import sample_completions
from llm_agents.agent.models import load_model
from llm_agents.agent.parsing import parse_action
from matrix_games.core.games import PRISONERS_DILEMMA
from matrix_games.text import render_prompt


def paper_prompts(count: int, labels: tuple[str, str], rng: np.random.Generator) -> list[str]:
    moves = rng.integers(0, 2, size=(count, 2))
    return [
        render_prompt(PRISONERS_DILEMMA, int(own), int(other), option_rng=rng, answer_rng=rng, labels=labels)
        for own, other in moves
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", nargs=2, default=["action1", "action2"])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    labels = tuple(args.labels)
    rng = np.random.default_rng(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    start = time.perf_counter()
    model, tokenizer = load_model(ModelConfig(device=args.device))
    print(f"model: SmolLM2-135M-Instruct (embedded), loaded in {time.perf_counter() - start:.1f} s on {model.device}")
    if model.device.type != "cpu":
        generator = torch.Generator(device=model.device).manual_seed(args.seed)

    batch = paper_prompts(16, labels, rng)
    _, ids = encode_prompts(batch, tokenizer)

    def answer_batch() -> None:
        sample_completions(model, tokenizer, encode_prompts(batch, tokenizer)[1], generator=generator, labels=labels)

    times = repeat_seconds(answer_batch, 3)
    print(
        f"batch of 16 answers ({len(ids[0])}-token prompts, labels' length): median {np.median(times):.2f} s "
        f"over 3 runs (min {min(times):.2f}, max {max(times):.2f})"
    )

    texts = []
    for first in range(0, args.samples, 16):
        _, ids = encode_prompts(paper_prompts(min(16, args.samples - first), labels, rng), tokenizer)
        texts += [s.text for s in sample_completions(model, tokenizer, ids, generator=generator, labels=labels)]
    for mode in ("strict", "lenient"):
        legal = sum(parse_action(text, labels, mode) is not None for text in texts)
        print(f"legal answers ({mode}): {legal}/{len(texts)} = {legal / len(texts):.3f}")
        print(f"  legal ({mode}):", sorted({text for text in texts if parse_action(text, labels, mode) is not None}))
    print("most frequent answers:", collections.Counter(texts).most_common(12))


if __name__ == "__main__":
    main()
