"""An evaluation as data: ``PolicySpec`` (what to evaluate and how it is loaded) and ``protocol_from`` (the protocol
from plain values), so the command line and a grid file describe one the same way and call the same functions
(``evaluate.evaluate_run``). Both load no torch until a policy is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from llm_agents.agent.options import DTYPES, QUANTIZATIONS
from llm_agents.agent.parsing import PARSE_MODES
from llm_agents.evaluation.policies import Policy, StrategyPolicy
from llm_agents.evaluation.protocol import EvaluationConfig
from matrix_games.core.validation import check_choice, check_int
from matrix_games.strategies import make_strategy


@dataclass(frozen=True)
class PolicySpec:
    """What an evaluation tests, and how it is loaded and named.

    Attributes:
        strategy: A baseline strategy (``always_defect``, ``tit_for_tat``, ``random``...), or None for an LLM.
        strategy_p: P(C) of the ``random`` strategy.
        model: The base model (the embedded SmolLM2, a folder, a hub id); None: the run's, else the embedded one.
        adapter: A LoRA adapter folder or a training run folder; None: the base model ("No fine-tuning").
        preface: A value preface (``deontological``, ``utilitarian`` or any text) before every prompt.
        label: The model's name in reports; None: the policy's own (the run's model name, the strategy).
        seed: Seeds the policy's own sampling.
        device, dtype, quantization: How the model is loaded (``ModelConfig``).
        batch_size: The most prompts per generation call.
        max_new_tokens: The answer length; None: the labels' length.
        parse_mode: ``strict`` (the paper's) or ``lenient``.
        force: Load the adapter even onto a base model other than its own (a warning instead of the refusal).
    """

    strategy: str | None = None
    strategy_p: float | None = None
    model: str | None = None
    adapter: Path | None = None
    preface: str | None = None
    label: str | None = None
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    quantization: str = "none"
    batch_size: int = 64
    max_new_tokens: int | None = None
    parse_mode: str = "strict"
    force: bool = False

    def __post_init__(self) -> None:
        llm = [name for name in ("model", "adapter", "preface") if getattr(self, name) is not None]
        if self.strategy is not None:
            if llm:
                raise ValueError(f"--policy names a strategy; it cannot be combined with --{llm[0]}.")
            kwargs = {} if self.strategy_p is None else {"p": self.strategy_p}
            make_strategy(self.strategy, **kwargs)  # an unknown name or a bad p is refused here
        elif not llm:
            raise ValueError(
                "Say what to evaluate: --policy STRATEGY (e.g. always_defect), or --model NAME for a base model, "
                "or --adapter DIR for a fine-tuned adapter."
            )
        if self.adapter is not None:
            object.__setattr__(self, "adapter", Path(self.adapter))
        check_int("seed", self.seed, minimum=0)
        check_int("batch_size", self.batch_size, minimum=1)
        if self.max_new_tokens is not None:
            check_int("max_new_tokens", self.max_new_tokens, minimum=1)
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("quantization", self.quantization, QUANTIZATIONS)
        check_choice("parse_mode", self.parse_mode, PARSE_MODES)

    @property
    def is_strategy(self) -> bool:
        return self.strategy is not None

    def replace(self, **changes: Any) -> PolicySpec:
        from dataclasses import replace

        return replace(self, **changes)


def make_policy(spec: PolicySpec, *, exact: bool = False) -> Policy:
    """The ``Policy`` ``spec`` names: a ``StrategyPolicy``, or an ``LLMPolicy`` (loading the model). An exact
    evaluation runs the model in float32 unless a dtype was asked for (``exact_dtype``)."""
    if spec.strategy is not None:
        kwargs = {} if spec.strategy_p is None else {"p": spec.strategy_p}
        return StrategyPolicy(spec.strategy, seed=spec.seed, **kwargs)
    from llm_agents.evaluation.llm_policy import load_llm_policy

    return load_llm_policy(
        model=spec.model,
        adapter=spec.adapter,
        preface=spec.preface,
        seed=spec.seed,
        device=spec.device,
        dtype=exact_dtype(spec.dtype) if exact else spec.dtype,
        quantization=spec.quantization,
        batch_size=spec.batch_size,
        max_new_tokens=spec.max_new_tokens,
        parse_mode=spec.parse_mode,
        force=spec.force,
    )


def exact_dtype(dtype: str) -> str:
    """The dtype of an exact analysis: ``auto`` means float32. In bfloat16 a prompt's next-token distribution is the
    model's only up to a few points of probability, and moves with what shares its forward pass (docs/analysis.md),
    which an exact number should not carry; an explicit dtype is kept."""
    return "float32" if dtype == "auto" else dtype


def protocol_from(values: Mapping[str, Any]) -> EvaluationConfig:
    """An ``EvaluationConfig`` from plain values by field name, the command line's text forms accepted: ``games``
    and ``other_prompts`` as comma-separated text (``"none"`` for no other prompts), ``labels`` as ``"C,D"``."""
    known = {field.name for field in fields(EvaluationConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"Unknown protocol setting {unknown[0]!r}; the protocol has {sorted(known)}.")
    settings = dict(values)
    for name in ("games", "other_prompts", "labels"):
        if isinstance(settings.get(name), str):
            text = settings[name].strip()
            settings[name] = () if name == "other_prompts" and text.lower() in ("", "none") else _split(text)
    if "labels" in settings and len(settings["labels"]) != 2:
        raise ValueError(f"labels takes two labels, e.g. action3,action4; got {values['labels']!r}.")
    return EvaluationConfig(**settings)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
