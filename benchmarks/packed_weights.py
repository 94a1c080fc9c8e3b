"""Time SmolLM2-135M's linear layers on plain weights against weights packed once for oneDNN
(``llm_agents.agent.packed_weights``), forward and the backward's gradient to the input, at several token counts.

usage: python benchmarks/packed_weights.py [--dtype bfloat16|float32] [--threads N]

The 30 layers x 7 projections of SmolLM2-135M (hidden 576, key-value 192, MLP 1536), each with its own random weight
(so the weights come from memory, as in the model, not from a cache that holds one matrix), are run at 4 tokens (a
sampling step of four games), 40 (a round's new prompt tokens), 200 and 689 (a demo update's distinct tokens).
Prints the best of 5 timings per case and the largest difference between the two results (0 in bfloat16). Timings
move with the machine and its load: compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import time

import torch

from llm_agents.agent.packed_weights import PACKING_HINT, packing_available

LAYERS = 30
PROJECTIONS = ((576, 576), (576, 192), (576, 192), (576, 576), (576, 1536), (576, 1536), (1536, 576))
"""(in, out) features of SmolLM2-135M's q, k, v, o, gate, up and down projections."""
TOKENS = (4, 40, 200, 689)


def best_of(function, repeats: int = 5) -> float:
    for _ in range(2):
        function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", choices=("bfloat16", "float32"), default="bfloat16")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if not packing_available():
        raise SystemExit("This torch has no oneDNN weight packing (torch.ops.mkldnn._reorder_linear_weight).")
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    generator = torch.Generator().manual_seed(0)
    weights = [torch.randn(out, inp, generator=generator).to(dtype) for _ in range(LAYERS) for inp, out in PROJECTIONS]
    ops = torch.ops.mkldnn
    packed = [ops._reorder_linear_weight(w, PACKING_HINT) for w in weights]
    packed_t = [ops._reorder_linear_weight(w.t().contiguous(), PACKING_HINT) for w in weights]
    print(f"{LAYERS * len(PROJECTIONS)} linear layers of SmolLM2-135M, {args.dtype}, {torch.get_num_threads()} threads")
    header = ("tokens", "forward plain", "packed", "ratio", "grad->input plain", "packed", "ratio")
    print("{:>7} {:>14} {:>8} {:>6} {:>18} {:>8} {:>6}".format(*header))
    difference = 0.0
    for tokens in TOKENS:
        inputs = {n: torch.randn(1, tokens, n, generator=generator).to(dtype) for n in (192, 576, 1536)}
        cases = {  # the backward of a frozen nn.Linear computes grad @ W: its inputs have the layer's out features
            "forward plain": lambda x=inputs: [torch.nn.functional.linear(x[w.shape[1]], w) for w in weights],
            "forward packed": lambda x=inputs: [
                ops._linear_pointwise(x[w.shape[1]], p, None, "none", [], "")
                for w, p in zip(weights, packed, strict=True)
            ],
            "backward plain": lambda x=inputs: [torch.matmul(x[w.shape[0]], w) for w in weights],
            "backward packed": lambda x=inputs: [
                ops._linear_pointwise(x[w.shape[0]], p, None, "none", [], "")
                for w, p in zip(weights, packed_t, strict=True)
            ],
        }
        for part in ("forward", "backward"):
            for a, b in zip(cases[f"{part} plain"](), cases[f"{part} packed"](), strict=True):
                difference = max(difference, float((a.float() - b.float()).abs().max()))
        times = [best_of(function) * 1e3 for function in cases.values()]
        print(
            f"{tokens:7d} {times[0]:11.1f} ms {times[1]:5.1f} ms {times[0] / times[1]:5.2f}x "
            f"{times[2]:15.1f} ms {times[3]:5.1f} ms {times[2] / times[3]:5.2f}x"
        )
    print(f"largest difference between plain and packed results: {difference:.3g}")


if __name__ == "__main__":
    main()
