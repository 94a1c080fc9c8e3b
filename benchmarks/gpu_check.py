"""Everything the CUDA path needs checked and timed, as one command that cannot waste a lent GPU's minutes.

usage: python benchmarks/gpu_check.py [--device cuda|cpu] [--tiny] [--episodes N] [--skip-timing]
                                      [--budget-s S] [--tokenizer DIR] [--out FILE]

Part 1, the checks, on a tiny random model built in memory (the test suite's 2-layer llama and word-level tokenizer,
``llm_agents.tiny_models``; no hub), saved to a temporary folder and loaded the way a run loads a model:

- ``train+resume+evaluate[float32|bfloat16]``: a 3-episode run equals a 2-episode run resumed to 3 (the same
  ``rounds.jsonl``), and ``llm-agents evaluate`` reads its adapter back;
- ``tree=padded[llama|gemma2]``: one PPO step in the ``tree`` and the ``padded`` layout gives the same statistics
  and weights to 1e-5 (float32), on a llama and on a Gemma-2 (the paper's architecture: soft-capping, sliding window);
- ``qlora-4bit``: NF4 weights through bitsandbytes: finite, non-zero LoRA gradients, a 2-episode run, its adapter
  saved, reloaded and evaluated (CUDA only: SKIP on a CPU, where bitsandbytes' 4-bit kernels corrupt LoRA gradients);
- ``grpo``: a 2-episode GRPO run with 4 answers per state;
- ``exact-analysis``: ``llm-agents analyse`` on the trained adapter.

Each check prints PASS, FAIL (with its error's last line) or SKIP (with why); one failure does not stop the others.

Part 2, the timings (``--skip-timing`` leaves them out): the paper's setting (configs/paper/game_vs_tit_for_tat.yaml:
one game of 5 rounds per update against tit-for-tat, the paper's prompt, 2-token answers, LoRA r 64 / alpha 32 /
dropout 0.05 on all linear layers) on a model of Gemma-2-2b's shape with random weights (``GEMMA2_2B``), in 4-bit NF4
and in bfloat16, with PPO and with GRPO (4 answers per state); then on a model of SmolLM2-135M's shape, the padded
path beside the tree path. The timings do not depend on the weights' values, only on the shapes and the sequence
lengths: the prompt's token count is reported beside the paper's (about 233 on Gemma's tokenizer). Per episode, after
one warm-up episode, the medians of: generation (``time/rollout``), the update's passes (``time/{algorithm}/total``),
the whole episode (wall time between updates); the peak GPU memory (on a CPU: the process's peak resident memory);
and the projected hours of 1000 episodes beside the paper's 5 h on one A100.

The tokenizer of the timings: ``--tokenizer DIR``, else ``gpu-wheels/smollm2-tokenizer`` (``make gpu-wheels`` writes
it), else the embedded SmolLM2's cache, else the tiny word-level one (its prompts are shorter in tokens).

``--tiny``: the same code on tiny models only (tiny Gemma-2- and SmolLM2-shaped ones for the timings) and few
episodes, for a CPU and the test suite (tests/test_gpu_check.py), in well under two minutes.

The command first checks that every package it needs imports (a missing wheel is one line and exit status 2, before
any model is built), then runs the checks, then the timing rows while ``--budget-s`` allows: a row that would not
fit is reported SKIP, and a row that fails on the tree path is timed again on the padded one. The table is
printed, and written as JSON to ``--out`` after every row, so a run stopped by a timeout still leaves what it
measured. Exit status: 0 when no check or row failed, 1 otherwise, 2 for a missing
package or no CUDA with ``--device cuda``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import itertools
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a copied checkout, installed or not

from llm_agents.tiny_models import build_tiny_llama, build_tiny_tokenizer  # noqa: E402 (light: imports nothing heavy)

PAPER_CONFIG = ROOT / "configs" / "paper" / "game_vs_tit_for_tat.yaml"
PAPER_HOURS_PER_1000 = 5.0
"""The paper's time for 1000 episodes of Gemma-2-2b-it in 4-bit on one A100 (at most, docs/paper.md)."""
PAPER_PROMPT_TOKENS = 233
"""The paper's training prompt in Gemma-2's tokens, about (benchmarks/ppo_step.py)."""

GEMMA2_2B = dict(
    hidden_size=2304,
    num_hidden_layers=26,
    num_attention_heads=8,
    num_key_value_heads=4,
    head_dim=256,
    intermediate_size=9216,
    vocab_size=256000,
    max_position_embeddings=8192,
    sliding_window=4096,
    query_pre_attn_scalar=256,
    attn_logit_softcapping=50.0,
    final_logit_softcapping=30.0,
    hidden_activation="gelu_pytorch_tanh",
    tie_word_embeddings=True,
)
"""google/gemma-2-2b-it's architecture (its config.json), for a model of its shape with random weights."""

SMOLLM2_135M = dict(
    hidden_size=576,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    head_dim=64,
    intermediate_size=1536,
    vocab_size=49152,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
)
"""SmolLM2-135M-Instruct's architecture (a llama)."""

TINY_GEMMA2 = dict(GEMMA2_2B, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                   head_dim=8, intermediate_size=64, vocab_size=96, query_pre_attn_scalar=8)  # fmt: skip
"""A Gemma-2 small enough for a CPU; its vocabulary is larger than the tiny tokenizer's, as Gemma-2-2b's is larger
than SmolLM2's (answers may hold ids the tokenizer does not know)."""

TINY_SMOLLM2 = dict(SMOLLM2_135M, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    head_dim=8, intermediate_size=64, vocab_size=64)  # fmt: skip

REQUIRED = ("numpy", "yaml", "torch", "transformers", "peft", "accelerate", "safetensors", "gymnasium", "pettingzoo")
"""What the checks import; bitsandbytes too on CUDA. matplotlib is optional (see ``plots_or_none``)."""

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


def build_shaped_model(shape: dict, kind: str, tokenizer, dtype, device: str, seed: int = 0):
    """A causal LM of architecture ``kind`` (``gemma2`` or ``llama``) with ``shape``'s sizes and random weights,
    built directly on ``device`` in ``dtype``, with the tokenizer's special ids; the vocabulary is at least the
    tokenizer's."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    sizes = dict(shape, vocab_size=max(shape["vocab_size"], len(tokenizer)))
    special = dict(
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id
    )
    config = AutoConfig.for_model(kind, **sizes, **special)
    with torch.random.fork_rng(devices=[]), torch.device(device):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.eval()


def save_model(model, tokenizer, folder: Path) -> Path:
    """Write ``model`` and ``tokenizer`` as a model folder (what ``ModelConfig.name`` accepts)."""
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# ----------------------------------------------------------------------------------------------------------------
# Helpers


def missing_packages(device: str) -> list[str]:
    """The modules of ``REQUIRED`` (and bitsandbytes on CUDA) that do not import here."""
    needed = [*REQUIRED, *(["bitsandbytes"] if device == "cuda" else [])]
    return [name for name in needed if importlib.util.find_spec(name) is None]


def plots_or_none() -> str:
    """Without matplotlib, a run would fail at its end, drawing its action-type plot (``training.runner._finish``).
    The plot is no part of what is checked here, so it is written as an empty file instead; returns a note saying so
    ("" when matplotlib imports)."""
    if importlib.util.find_spec("matplotlib") is not None:
        return ""
    from llm_agents.training import runner

    def no_plot(logs, path, **_):
        Path(path).write_bytes(b"")
        return Path(path)

    runner.plot_action_types = no_plot
    return "matplotlib is missing: each run's action_types.png is left empty"


def cli(*argv: str) -> str:
    """Run ``llm-agents ARGV`` in this process; its stdout, or a RuntimeError with its error line."""
    from llm_agents.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    except SystemExit as stop:
        status = stop.code
    if status != 0:
        lines = [line for line in err.getvalue().splitlines() if line.strip()] or [f"exit status {status}"]
        raise RuntimeError(f"llm-agents {argv[0]} failed: {lines[-1]}")
    return out.getvalue()


def last_line(error: BaseException) -> str:
    lines = [line for line in "".join(traceback.format_exception_only(type(error), error)).splitlines() if line]
    return lines[-1] if lines else type(error).__name__


def peak_memory_gib(device: str) -> float:
    """The peak GPU memory allocated since the last reset, or on a CPU the process's peak resident memory (GiB)."""
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30


def reset_peak_memory(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def tiny_config(folder: Path, out: Path, device: str, dtype: str, **changes):
    """A short deontological run of the tiny model against tit-for-tat with labels C/D (conftest's ``make_config``,
    on ``device``)."""
    from llm_agents.agent.config import GenerationConfig, LoRAConfig, ModelConfig
    from llm_agents.training import TrainConfig

    quantization = changes.pop("quantization", "none")
    settings = dict(
        opponent="tit_for_tat",
        reward="deontological",
        episodes=3,
        rounds_per_episode=2,
        games_per_update=2,
        labels=("C", "D"),
        output_dir=out,
        checkpoint_every=1,
        analysis_every=0,
        progress=False,
        model=ModelConfig(
            name=str(folder),
            device=device,
            dtype=dtype,
            quantization=quantization,
            lora=LoRAConfig(r=2, alpha=4, dropout=0.0),
        ),
        generation=GenerationConfig(max_new_tokens=2),
    )
    settings.update(changes)
    return TrainConfig(**settings)


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def adapter_weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def check_finite_stats(steps: list[dict], where: str) -> None:
    for step in steps:
        for key, value in step.items():
            if isinstance(value, float) and not math.isfinite(value) and not key.startswith("time/"):
                raise AssertionError(f"{where}: {key} = {value} at episode {step.get('episode')}")


# ----------------------------------------------------------------------------------------------------------------
# Part 1: the checks


class Checks:
    """The checks of part 1 on ``device``; each method raises on failure and returns a short detail on success."""

    def __init__(self, device: str, work: Path) -> None:
        self.device, self.work = device, work
        self.tokenizer = build_tiny_tokenizer()
        self.folders: dict[str, Path] = {}
        self.adapters: dict[str, Path] = {}

    def model_folder(self, dtype: str) -> Path:
        """The tiny llama saved once per dtype."""
        import torch

        if dtype not in self.folders:
            model = build_tiny_llama(self.tokenizer).to(getattr(torch, dtype))
            self.folders[dtype] = save_model(model, self.tokenizer, self.work / f"tiny_llama_{dtype}")
        return self.folders[dtype]

    def train_resume_evaluate(self, dtype: str) -> str:
        from llm_agents.training import train

        folder = self.model_folder(dtype)
        whole = train(tiny_config(folder, self.work / f"whole_{dtype}", self.device, dtype))
        cut = tiny_config(folder, self.work / f"resumed_{dtype}", self.device, dtype)
        train(cut.replace(episodes=2))
        resumed = train(cut.replace(resume=True))
        a, b = (result.output_dir / "rounds.jsonl" for result in (whole, resumed))
        if a.read_text() != b.read_text():
            first = next(
                i for i, (x, y) in enumerate(zip(read_log(a), read_log(b), strict=False)) if x != y
            )  # the rows are (episode, round, ...) in order
            raise AssertionError(f"the resumed run's rounds.jsonl differs from the whole run's at row {first}")
        steps = read_log(whole.output_dir / "ppo.jsonl")
        check_finite_stats(steps, "ppo.jsonl")
        adapter = whole.adapters["player_0"]
        self.adapters[dtype] = adapter
        weights = adapter_weights(adapter)
        if not any(float(w.abs().max()) > 0 for name, w in weights.items() if "lora_B" in name):
            raise AssertionError("training left every LoRA B matrix at zero: no update reached the adapter")
        out = self.work / f"eval_{dtype}"
        cli("evaluate", "--model", str(folder), "--adapter", str(adapter), "--device", self.device, "--dtype", dtype,
            "--games", "IPD-v0", "--labels", "C,D", "--episodes", "2", "--rounds", "2", "--other-prompts", "none",
            "--no-figures", "--out", str(out))  # fmt: skip
        summary = json.loads((out / "summary.json").read_text())
        cooperation = summary["games"]["IPD-v0"]["cooperation_rate"]
        if not 0.0 <= cooperation <= 1.0:
            raise AssertionError(f"evaluate's cooperation rate {cooperation} is not a rate")
        return f"3 episodes = 2 + resume; evaluate: cooperation {cooperation:.2f}"

    def tree_equals_padded(self, kind: str) -> str:
        import torch
        from peft import LoraConfig, get_peft_model

        from llm_agents.ppo import PPOConfig, PPOTrainer

        queries, responses, scores = shared_batch(len(self.tokenizer))
        results = {}
        for batching in ("padded", "tree"):
            if kind == "llama":
                base = build_tiny_llama(self.tokenizer).to(self.device)
            else:
                base = build_shaped_model(TINY_GEMMA2, "gemma2", self.tokenizer, torch.float32, self.device)
            lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", init_lora_weights=False)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(3)
                model = get_peft_model(base, lora).eval()
            config = PPOConfig(learning_rate=1e-3, ppo_epochs=2, mini_batch_size=4, seed=5)
            trainer = PPOTrainer(model, config, batching=batching)
            stats = trainer.step(queries, responses, scores)
            results[batching] = (stats, [p.detach().float().cpu() for p in trainer.trainable_parameters])
        (padded, padded_weights), (tree, tree_weights) = results["padded"], results["tree"]
        worst, where = 0.0, ""
        for key, value in padded.items():
            if key.startswith(("time/", "batch/")) or not isinstance(value, float) or math.isnan(value):
                continue
            gap = abs(tree[key] - value)
            if gap > worst:
                worst, where = gap, key
        if worst > 1e-5:
            raise AssertionError(f"{where}: tree {tree[where]!r} vs padded {padded[where]!r} (gap {worst:.2e} > 1e-5)")
        for a, b in zip(padded_weights, tree_weights, strict=True):
            gap = float((a - b).norm())
            if gap > 1e-5 * max(float(a.norm()), 1.0):
                raise AssertionError(f"updated weights differ by {gap:.2e} (norm {float(a.norm()):.3g})")
        computed = tree["batch/computed_tokens"], padded["batch/computed_tokens"]
        return f"largest gap {worst:.1e}; computed tokens tree {computed[0]:g} vs padded {computed[1]:g}"

    def qlora_4bit(self) -> str:
        import torch

        from llm_agents.agent.adapters import attach_lora
        from llm_agents.agent.config import LoRAConfig, ModelConfig
        from llm_agents.agent.models import load_model
        from llm_agents.training import train

        if self.device != "cuda":
            raise Skipped("4-bit needs CUDA (bitsandbytes' CPU 4-bit kernels corrupt LoRA gradients)")
        folder = self.model_folder("bfloat16")
        config = ModelConfig(name=str(folder), device="cuda", dtype="bfloat16", quantization="4bit")
        model, tokenizer = load_model(config)
        if not getattr(model, "is_loaded_in_4bit", False):
            raise AssertionError("quantization='4bit' loaded a model that is not in 4 bits")
        peft_model = attach_lora(model, LoRAConfig(r=2, alpha=4, dropout=0.0))
        with torch.no_grad():  # B = 0 at the start: give B values so that A gets gradients too
            for name, parameter in peft_model.named_parameters():
                if "lora_B" in name:
                    parameter.normal_(0, 0.1)
        ids = tokenizer(["you are playing the iterated prisoner's dilemma"], return_tensors="pt").to("cuda")
        peft_model.train()
        loss = peft_model(**ids).logits.float().logsumexp(-1).mean()
        loss.backward()
        grads = [p.grad for n, p in peft_model.named_parameters() if "lora_" in n and p.requires_grad]
        if not grads or any(g is None or not torch.isfinite(g).all() for g in grads):
            raise AssertionError(f"LoRA gradients missing or non-finite on 4-bit weights ({len(grads)} tensors)")
        norm = float(torch.stack([g.float().norm() for g in grads]).norm())
        if norm == 0:
            raise AssertionError("every LoRA gradient is zero on 4-bit weights")
        del peft_model, model
        run = train(tiny_config(folder, self.work / "qlora", "cuda", "bfloat16", quantization="4bit", episodes=2))
        check_finite_stats(read_log(run.output_dir / "ppo.jsonl"), "ppo.jsonl")
        weights = adapter_weights(run.adapters["player_0"])
        if not all(torch.isfinite(w).all() for w in weights.values()):
            raise AssertionError("the saved 4-bit run's adapter holds non-finite weights")
        out = self.work / "eval_qlora"
        cli("evaluate", "--model", str(folder), "--adapter", str(run.adapters["player_0"]), "--device", "cuda",
            "--dtype", "bfloat16", "--quantization", "4bit", "--games", "IPD-v0", "--labels", "C,D", "--episodes",
            "2", "--rounds", "2", "--other-prompts", "none", "--no-figures", "--out", str(out))  # fmt: skip
        json.loads((out / "summary.json").read_text())
        return f"LoRA gradient norm {norm:.3g}; 2 episodes, adapter saved, reloaded in 4 bits and evaluated"

    def grpo(self) -> str:
        from llm_agents.grpo.config import GRPOConfig
        from llm_agents.training import train

        dtype = "float32"
        config = tiny_config(self.model_folder(dtype), self.work / "grpo", self.device, dtype, episodes=2)
        config = config.replace(algorithm="grpo", grpo=GRPOConfig(learning_rate=1e-3, num_generations=4))
        run = train(config)
        steps = read_log(run.output_dir / "grpo.jsonl")
        check_finite_stats(steps, "grpo.jsonl")
        return f"{len(steps)} updates of {config.samples_per_update} answers"

    def exact_analysis(self) -> str:
        dtype = "float32"
        adapter = self.adapters.get(dtype)
        if adapter is None:
            raise Skipped("no trained float32 adapter (its check failed)")
        out = self.work / "analysis"
        cli("analyse", "--model", str(self.model_folder(dtype)), "--adapter", str(adapter), "--device", self.device,
            "--dtype", dtype, "--games", "IPD-v0", "--labels", "C,D", "--other-prompts", "none", "--no-figures",
            "--out", str(out))  # fmt: skip
        states = json.loads((out / "analysis.json").read_text())["games"]["IPD-v0"]["states"]
        total = max(abs(p["p_c"] + p["p_d"] + p["p_illegal"] - 1) for p in states.values())
        if set(states) != {"CC", "CD", "DC", "DD"} or total > 1e-6:
            raise AssertionError(f"analysis.json's states {sorted(states)} do not each sum to 1 (off by {total:.1e})")
        return "P(C), P(D), P(illegal) of 4 states, each summing to 1"


class Skipped(Exception):
    """A check that does not apply here (its message says why)."""


def shared_batch(vocabulary: int, seed: int = 0):
    """8 rows from 3 prompts sharing a 6-token prefix, answered with 1 or 2 tokens (tests/llm_agents/
    test_sequences.py's batch, smaller)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    high = min(vocabulary, 40)
    prefix, middle = torch.randint(7, high, (6,), generator=g), torch.randint(7, high, (4,), generator=g)
    prompts = [
        torch.cat([prefix, middle, torch.randint(7, high, (3,), generator=g)]),
        torch.cat([prefix, middle, torch.randint(7, high, (2,), generator=g)]),
        torch.cat([prefix, torch.randint(7, high, (5,), generator=g)]),
    ]
    answers = [torch.randint(7, high, (n,), generator=g) for n in (1, 2, 2, 1)]
    queries = [prompts[row % 3] for row in range(8)]
    responses = [answers[(row * 7) % 4] for row in range(8)]
    return queries, responses, torch.randn(8, generator=g).tolist()


def run_check(name: str, function: Callable[[], str], rows: list[dict]) -> dict:
    """Run one check, print its line at once and append its row."""
    started = time.perf_counter()
    try:
        status, detail = PASS, function()
    except Skipped as skip:
        status, detail = SKIP, str(skip)
    except Exception as error:  # every failure is reported, and the other checks still run
        status, detail = FAIL, last_line(error)
    row = {"check": name, "status": status, "seconds": round(time.perf_counter() - started, 2), "detail": detail}
    print(f"{status:<5} {name:<32} {row['seconds']:>7.1f} s  {detail}", flush=True)
    rows.append(row)
    return row


# ----------------------------------------------------------------------------------------------------------------
# Part 2: the timings


class EpisodeClock:
    """A tracker (``train``'s ``observer``) that notes the wall time of each update's end."""

    def __init__(self) -> None:
        self.times: dict[int, float] = {}

    def log(self, values: dict, step: int) -> None:
        self.times[step] = time.perf_counter()

    def close(self) -> None:
        pass


def timing_rows(tiny: bool, device: str) -> list[dict]:
    """The rows to time: the paper's model shape in 4 bits and in bfloat16 with PPO and GRPO, then SmolLM2's shape
    padded beside tree. ``--tiny`` gives the same rows on tiny models."""
    gemma = ("tiny gemma-2-shaped" if tiny else "gemma-2-2b-shaped", TINY_GEMMA2 if tiny else GEMMA2_2B, "gemma2")
    smol = ("tiny smollm2-shaped" if tiny else "smollm2-135m-shaped", TINY_SMOLLM2 if tiny else SMOLLM2_135M, "llama")
    rows = []
    for weights in ("nf4", "bfloat16"):
        for algorithm in ("ppo", "grpo"):
            rows.append(dict(model=gemma, weights=weights, algorithm=algorithm, batching="tree"))
    for algorithm in ("ppo", "grpo"):
        for batching in ("padded", "tree"):
            rows.append(dict(model=smol, weights="bfloat16", algorithm=algorithm, batching=batching))
    return rows


def timing_tokenizer(tiny: bool, option: Path | None):
    """The timings' tokenizer and where it came from (see the module docstring)."""
    from transformers import AutoTokenizer

    from llm_agents.agent.config import default_cache_dir
    from llm_agents.agent.models import embedded_cache_path, prepare_tokenizer

    if tiny:
        return build_tiny_tokenizer(), "tiny word-level"
    candidates = [option] if option is not None else []
    candidates += [ROOT / "gpu-wheels" / "smollm2-tokenizer", embedded_cache_path(default_cache_dir())]
    for folder in candidates:
        if folder is not None and (Path(folder) / "tokenizer.json").is_file():
            return prepare_tokenizer(AutoTokenizer.from_pretrained(str(folder))), f"SmolLM2's ({folder})"
    if option is not None:
        raise FileNotFoundError(
            f"--tokenizer {option} holds no tokenizer.json; give a folder that save_pretrained wrote"
        )
    return build_tiny_tokenizer(), "tiny word-level (no SmolLM2 tokenizer found: prompts are shorter in tokens)"


def time_row(spec: dict, folder: Path, device: str, episodes: int, work: Path) -> dict:
    """Train ``episodes + 1`` episodes of the paper's run with ``spec``'s settings; the medians after the first."""
    from llm_agents.training import load_config, train

    quantized = spec["weights"] == "nf4"
    overrides = {
        "model.name": str(folder),
        "model.device": device,
        "model.dtype": "bfloat16",
        "model.quantization": "4bit" if quantized else "none",
        "episodes": episodes + 1,
        "output_dir": str(work / "run"),
        "checkpoint_every": 0,
        "analysis_every": 0,
        "progress": False,
        "batching": spec["batching"],
        "algorithm": spec["algorithm"],
    }
    if spec["algorithm"] == "grpo":
        overrides["grpo.num_generations"] = 4
    config = load_config(PAPER_CONFIG, overrides)
    clock = EpisodeClock()
    reset_peak_memory(device)
    train(config, observer=clock)
    memory = peak_memory_gib(device)
    steps = read_log(config.output_dir / f"{config.algorithm}.jsonl")[1:]  # the first episode warms up
    ends = [clock.times[step] for step in sorted(clock.times)]
    episode_s = statistics.median(b - a for a, b in itertools.pairwise(ends))
    answers = config.samples_per_update
    tokens = statistics.median(step.get("batch/tokens", math.nan) for step in steps) / answers
    answer_tokens = config.generation.max_new_tokens or 0
    return {
        "episodes_timed": len(steps),
        "answers_per_update": answers,
        "prompt_tokens": None if math.isnan(tokens) else round(tokens - answer_tokens, 1),
        "generation_s": statistics.median(step["time/rollout"] for step in steps),
        "update_s": statistics.median(step[f"time/{config.algorithm}/total"] for step in steps),
        "episode_s": episode_s,
        "peak_memory_gib": memory,
        "projected_1000_h": 1000 * episode_s / 3600,
    }


def run_timings(args, device: str, deadline: float, rows: list[dict], write: Callable[[], None]) -> None:
    """Build each model shape once (random weights, on the device), save it, and time its rows while time allows."""
    import torch

    tokenizer, source = timing_tokenizer(args.tiny, args.tokenizer)
    print(f"timings: tokenizer {source}; {args.episodes} episodes after 1 warm-up per row", flush=True)
    built: dict[str, Path] = {}
    specs = timing_rows(args.tiny, device)
    while specs:
        spec = specs.pop(0)
        label, shape, kind = spec["model"]
        row = {"model": label, **{k: spec[k] for k in ("weights", "algorithm", "batching")}, "device": device}
        row["paper_1000_h"] = PAPER_HOURS_PER_1000
        needed = 20 if args.tiny else (150 if label not in built and shape is GEMMA2_2B else 60)
        started = time.perf_counter()
        try:
            if spec["weights"] == "nf4" and device != "cuda":
                raise Skipped("4-bit needs CUDA")
            if deadline - started < needed:
                raise Skipped(f"--budget-s: {deadline - started:.0f} s left, a row needs about {needed} s")
            if label not in built:  # saved once, loaded by each row as a run loads its model
                model = build_shaped_model(shape, kind, tokenizer, torch.bfloat16, device)
                built[label] = save_model(model, tokenizer, Path(args.work) / label.replace(" ", "_"))
                del model
                if device == "cuda":
                    torch.cuda.empty_cache()
            with tempfile.TemporaryDirectory(dir=args.work) as scratch:
                row.update(time_row(spec, built[label], device, args.episodes, Path(scratch)))
            row["status"] = PASS
        except Skipped as skip:
            row.update(status=SKIP, detail=str(skip))
        except Exception as error:  # a failed row is reported; the next row still runs
            row.update(status=FAIL, detail=last_line(error))
            if spec["batching"] == "tree":  # the same row on the padded path, so that the model is still timed
                specs.insert(0, dict(spec, batching="padded"))
        row["seconds"] = round(time.perf_counter() - started, 1)
        print(format_timing(row), flush=True)
        rows.append(row)
        write()


# ----------------------------------------------------------------------------------------------------------------
# The table


TIMING_HEADER = (
    f"{'model':<22}{'weights':<10}{'alg':<6}{'batching':<9}{'prompt':>7}{'gen s':>8}{'update s':>9}{'episode s':>10}"
    f"{'peak GiB':>9}{'1000 ep h':>10}{'paper h':>8}"
)


def format_timing(row: dict) -> str:
    head = f"{row['model']:<22}{row['weights']:<10}{row['algorithm']:<6}{row['batching']:<9}"
    if row["status"] != PASS:
        return f"{head}{row['status']}: {row.get('detail', '')}"
    prompt = "-" if row["prompt_tokens"] is None else f"{row['prompt_tokens']:.0f}"
    return (
        f"{head}{prompt:>7}{row['generation_s']:>8.3f}{row['update_s']:>9.3f}{row['episode_s']:>10.3f}"
        f"{row['peak_memory_gib']:>9.2f}{row['projected_1000_h']:>10.2f}{row['paper_1000_h']:>8.1f}"
    )


def format_table(result: dict) -> str:
    lines = [f"gpu_check on {result['machine']}", f"{'status':<7}{'check':<33}{'seconds':>8}  detail"]
    for row in result["checks"]:
        lines.append(f"{row['status']:<7}{row['check']:<33}{row['seconds']:>8.1f}  {row['detail']}")
    if result["timings"]:
        lines += ["", TIMING_HEADER, *(format_timing(row) for row in result["timings"])]
    lines.append(f"{result['failures']} failed, wall {result['wall_s']:.0f} s")
    return "\n".join(lines)


def machine(device: str) -> dict:
    import torch

    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0]}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    else:
        info["gpu"] = None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny models only, few episodes (a CPU, the test suite)")
    parser.add_argument("--episodes", type=int, default=None, help="timed episodes per row, after 1 warm-up [5; 2]")
    parser.add_argument("--skip-timing", action="store_true", help="the checks only")
    parser.add_argument("--budget-s", type=float, default=480.0, help="stop starting timing rows after this [480]")
    parser.add_argument("--tokenizer", type=Path, default=None, help="the timings' tokenizer folder")
    parser.add_argument("--out", type=Path, default=None, help="write the table as JSON here (after every row)")
    args = parser.parse_args(argv)
    args.episodes = args.episodes if args.episodes is not None else (2 if args.tiny else 5)
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    started = time.perf_counter()
    missing = missing_packages(args.device)
    if missing:
        print(
            f"gpu_check: missing packages {', '.join(missing)}: install the wheels first (docs/gpu.md: "
            "pip install --no-index --find-links gpu-wheels gpu-wheels/*.whl)",
            file=sys.stderr,
        )
        return 2
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: --device cuda, but torch sees no CUDA device; use --device cpu --tiny here", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded
    note = plots_or_none()
    if note:
        print(f"gpu_check: {note}", flush=True)
    result: dict[str, Any] = {
        "machine": f"{args.device} ({machine(args.device)['gpu'] or 'no GPU'})",
        **machine(args.device),
        "device": args.device,
        "tiny": args.tiny,
        "episodes": args.episodes,
        "note": note,
        "checks": [],
        "timings": [],
        "failures": 0,
        "wall_s": 0.0,
    }

    def write() -> None:
        rows = result["checks"] + result["timings"]
        result["failures"] = sum(row["status"] == FAIL for row in rows)
        result["wall_s"] = time.perf_counter() - started
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=1))

    with tempfile.TemporaryDirectory(prefix="gpu_check_") as work:
        args.work = work
        checks = Checks(args.device, Path(work))
        for name, function in (
            ("train+resume+evaluate[float32]", lambda: checks.train_resume_evaluate("float32")),
            ("train+resume+evaluate[bfloat16]", lambda: checks.train_resume_evaluate("bfloat16")),
            ("tree=padded[llama]", lambda: checks.tree_equals_padded("llama")),
            ("tree=padded[gemma2]", lambda: checks.tree_equals_padded("gemma2")),
            ("qlora-4bit", checks.qlora_4bit),
            ("grpo", checks.grpo),
            ("exact-analysis", checks.exact_analysis),
        ):
            run_check(name, function, result["checks"])
            write()
        if not args.skip_timing:
            run_timings(args, args.device, started + args.budget_s, result["timings"], write)
    write()
    print()
    print(format_table(result))
    if args.out is not None:
        print(f"wrote {args.out}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
