"""Time the tree forward's attention: the dense T x T tree mask against the chunked attention that computes only the
pairs the tree allows (``llm_agents/sequences/tree_attention.py``), on the real batches of a demo-config update.

usage: python benchmarks/tree_attention.py [--config configs/demo.yaml] [--episodes 3] [--repeats 5]
                                           [--call-cost N ...] [--set KEY=VALUE]

Plays ``--episodes`` episodes of the config (the demo's by default: the embedded SmolLM2, its dtype, LoRA r=8 on
every linear layer) with a fresh adapter, and packs each episode's learner batch as the update packs it
(``pack_tree``). For each tree it prints its size (T nodes, the pairs the dense mask computes and the pairs the chunks
compute), then the time of a forward without gradients (old and reference log-probs) and of a forward and
backward through the LoRA parameters and a value head (the update's epochs), dense and chunked: the median of
``--repeats`` runs, the two paths interleaved (dense, chunked, dense, ...) after a warm-up of each, and the ratio of
the medians (dense / chunked; above 1, chunked is faster). It ends with the largest absolute differences of the answer
log-probs, of the values and of the LoRA and value-head gradients between the two paths and the padded batch (in
bfloat16 all three differ by bfloat16 rounding; ``--set model.dtype=float32`` shows them within ~1e-5).

``--call-cost`` times the chunked path again for each value, interleaved with the others: the fixed cost of one
chunk's attention call, in pairs, that sets how chains are grouped into chunks (to check the default). Timings move
with the machine and its load: quote them with the machine, as ratios measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from llm_agents.agent.adapters import attach_lora
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import dtype_choice, load_model
from llm_agents.ppo import ValueHead
from llm_agents.runs.config_files import parse_override
from llm_agents.sequences import tree_attention
from llm_agents.sequences.forward import PaddedBatch, TreeBatch, pack, pack_tree
from llm_agents.sequences.tree_attention import TreeLayout, chains
from llm_agents.training import load_config
from llm_agents.training.episodes import GameTable, play_episode, reward_functions

ROOT = Path(__file__).resolve().parent.parent


def interleaved(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The median seconds of each function, run in turn ``repeats`` times after one warm-up call of each."""
    for function in functions.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def gradients(model: torch.nn.Module, head: torch.nn.Module, batch: TreeBatch | PaddedBatch) -> list[torch.Tensor]:
    """The LoRA and value-head gradients of the sum of the answer tokens' log-probs and values."""
    output = batch.forward(model, head)
    ((output.logprobs * batch.mask).sum() + (output.values * batch.mask).sum()).backward()
    trained = [p for p in [*model.parameters(), *head.parameters()] if p.requires_grad]
    grads = [p.grad.detach().clone() for p in trained]
    model.zero_grad(set_to_none=True)
    head.zero_grad(set_to_none=True)
    return grads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "demo.yaml")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--call-cost", type=int, nargs="*", default=[])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = load_config(args.config, dict(parse_override(text) for text in args.settings))
    model, tokenizer = load_model(config.model)
    player = config.learners[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = attach_lora(model, config.model.lora, adapter_name=player)
    device = next(model.parameters()).device
    head = ValueHead(model.config.hidden_size).to(device).eval()  # no dropout: the paths must agree
    agent = LLMAgent.from_config(model, tokenizer, config.agent, adapter_name=player, seed=config.seed)
    table, rewards = GameTable.for_run(config), reward_functions(config)
    print(
        f"{config.model.name} ({dtype_choice(config.model).name}) on {device}, LoRA r={config.model.lora.r}, "
        f"attention {model.config._attn_implementation}; torch threads {torch.get_num_threads()}; "
        f"{config.games_per_update} games x {config.num_rounds} rounds per update; median of {args.repeats}, "
        "interleaved\n"
    )
    for episode in range(args.episodes):
        result = play_episode(
            table,
            {player: agent},
            episode=episode,
            run_seed=config.seed,
            reward_name=config.schedule.reward_name(episode),
            rewards=rewards,
            rounds=config.num_rounds,
            game_id=config.env_id,
        )
        queries, responses = result.batches[player].queries, result.batches[player].responses
        batches = {name: pack_tree(queries, responses, 0, device, attention=name) for name in ("dense", "chunked")}
        tree = batches["dense"].tree
        layout = TreeLayout.of(tree, dtype=torch.float32, device=device)
        print(
            f"episode {episode}: T={len(tree)} nodes, {len(chains(tree))} chains in {len(layout.chunks)} chunks, "
            f"pairs dense {len(tree) ** 2} / chunked {layout.pairs} ({len(tree) ** 2 / layout.pairs:.2f}x fewer)"
        )

        def forward(batch: TreeBatch) -> Callable[[], None]:
            def run() -> None:
                with torch.no_grad():
                    batch.forward(model, head)

            return run

        def forward_backward(batch: TreeBatch) -> Callable[[], None]:
            return lambda: gradients(model, head, batch)

        def at_cost(call_cost: int, run: Callable[[], None]) -> Callable[[], None]:
            def timed() -> None:  # chunks chosen with another cost per call
                default, tree_attention.CALL_COST = tree_attention.CALL_COST, call_cost
                try:
                    run()
                finally:
                    tree_attention.CALL_COST = default

            return timed

        model.eval()
        for title, make in (("forward, no gradients", forward), ("forward + backward (LoRA)", forward_backward)):
            functions = {name: make(batch) for name, batch in batches.items()}
            for call_cost in args.call_cost:
                functions[f"cost {call_cost}"] = at_cost(call_cost, make(batches["chunked"]))
            times = interleaved(functions, args.repeats)
            print(
                f"  {title:28} dense {times['dense']:7.3f} s   chunked {times['chunked']:7.3f} s   "
                f"ratio {times['dense'] / times['chunked']:5.2f}"
            )
            for call_cost in args.call_cost:
                default, tree_attention.CALL_COST = tree_attention.CALL_COST, call_cost
                chunks = len(TreeLayout.of(tree, dtype=torch.float32, device=device).chunks)
                tree_attention.CALL_COST = default
                seconds = times[f"cost {call_cost}"]
                print(
                    f"    call cost {call_cost:6d}: {chunks:3d} chunks {seconds:7.3f} s   "
                    f"ratio {times['dense'] / seconds:5.2f}"
                )

        padded = pack(queries, responses, 0, device)
        with torch.no_grad():
            outputs = {name: batch.forward(model, head) for name, batch in {**batches, "padded": padded}.items()}
        grads = {name: gradients(model, head, batch) for name, batch in {**batches, "padded": padded}.items()}
        mask = padded.mask
        largest = max(float(g.abs().max()) for g in grads["dense"])
        print(f"  largest differences (the largest gradient is {largest:.2e}):")
        for one, other in (("chunked", "dense"), ("chunked", "padded"), ("dense", "padded")):
            a, b = outputs[one], outputs[other]
            gap = max(float((x - y).abs().max()) for x, y in zip(grads[one], grads[other], strict=True))
            print(
                f"    |{one} - {other}|: log-probs {float(((a.logprobs - b.logprobs) * mask).abs().max()):.2e}, "
                f"values {float(((a.values - b.values) * mask).abs().max()):.2e}, gradients {gap:.2e}"
            )
        print()


if __name__ == "__main__":
    main()
