"""An LLM as a ``Policy``: a fine-tuned adapter, the base model ("no fine-tuning"), or the base model with a preface.

``LLMPolicy`` wraps an ``LLMAgent`` (which samples, parses and records answers) and answers the evaluation's batch
in chunks of ``batch_size`` prompts. ``load_llm_policy`` builds one from what the command line names: a model, an
adapter folder (or a training run folder, whose final adapter and base model it finds), and a value preface.

Every answer is sampled at the agent's settings (the paper's: temperature 1, no filtering; the length derived from
the labels), for the game prompts and the other prompts alike. The paper sampled 5 tokens for the other prompts;
with strict parsing a longer answer can only be illegal more often, so one length for all keeps them comparable.

An adapter is loaded only onto the base model it was trained on (``agent.adapters.load_adapter``): ``--model`` naming
another base, or the run's model folder replaced by another, is refused unless ``force`` is set.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_agents.agent.adapters import adapter_weight_shapes, load_adapter, read_adapter_config
from llm_agents.agent.config import EMBEDDED_MODEL, VALUE_PREFACES, GenerationConfig, ModelConfig, PromptConfig
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.agent.models import load_model
from llm_agents.evaluation.policies import Decision, Observation
from llm_agents.runs.folder import RunFolder, find_adapter, run_folder_of
from llm_agents.runs.naming import NO_FINE_TUNING, model_label
from llm_agents.sequences.decoding import PrefixCache
from matrix_games.envs.settings import GameSettings
from matrix_games.play.markov import TablePlayer
from matrix_games.text.label_pools import LabelPool, pool_of


class LLMPolicy:
    """An ``LLMAgent`` behind the ``Policy`` interface.

    Args:
        agent: The agent (its model, tokenizer, sampling, parsing and preface).
        batch_size: The most prompts per generation call.
        description: What the policy is, for ``summary.json`` (model, adapter, preface, label...).
        training_pool: The label pool the adapter was trained on, if any: test labels from it are refused (a test
            of unseen labels must not use labels the model trained on).
    """

    def __init__(
        self,
        agent: LLMAgent,
        *,
        batch_size: int = 64,
        description: dict[str, Any] | None = None,
        training_pool: LabelPool | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        self.agent = agent
        self.training_pool = training_pool
        self.batch_size = batch_size
        self._description = dict(description or {})
        self.name = str(self._description.get("label") or "llm")
        self._prefixes = PrefixCache()

    def reset(self, batch_size: int) -> None:
        """New games: the agent answers each prompt on its own (the state is in the text), so only the prefix cache
        starts afresh (the policy is fixed for the whole evaluation; a section shares every prompt's work)."""
        self._prefixes = PrefixCache()

    def act(self, observations: Sequence[Observation]) -> list[Decision]:
        labels = {observation.labels for observation in observations}
        if len(labels) > 1:
            raise ValueError(f"One act() call must use one label pair, got {sorted(labels)}.")
        if labels and self.training_pool is not None:
            self.training_pool.check_unseen(next(iter(labels)), where=f"the adapter {self._description.get('adapter')}")
        if labels and labels != {self.agent.labels}:
            self.agent = self.agent.with_labels(labels.pop())
        decisions = []
        for start in range(0, len(observations), self.batch_size):
            chunk = [observation.text for observation in observations[start : start + self.batch_size]]
            with self.agent.sharing_prefixes(self._prefixes):
                records = self.agent.respond(chunk)
            decisions += [Decision(action=record.action, answer=record.completion_text) for record in records]
        return decisions

    def exact_player(self, settings: GameSettings, game_id: str) -> tuple[TablePlayer, dict[str, Any]]:
        """The policy's exact table on one environment, as a Markov-chain player and as ``analysis.json`` holds
        it (``evaluate --exact``)."""
        from llm_agents.analysis.table import analyse_policy

        if self.training_pool is not None:
            self.training_pool.check_unseen(
                settings.action_labels, where=f"the adapter {self._description.get('adapter')}"
            )
        table = analyse_policy(self.agent, settings, game_id)
        return table.chain_player(self.name), table.to_dict()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "llm",
            **self._description,
            "labels_parsed": list(self.agent.labels),
            "parse_mode": self.agent.parse_mode,
            "generation": {
                "max_new_tokens": self.agent.generation.max_new_tokens,
                "temperature": self.agent.generation.temperature,
                "top_k": self.agent.generation.top_k,
                "top_p": self.agent.generation.top_p,
            },
        }


def default_label(run_config: dict[str, Any] | None, adapter: Path | None, preface: str | None) -> str:
    """A model name for reports: the paper's name of the training reward, or "No fine-tuning" for the base model."""
    if adapter is None:
        if preface is None:
            return NO_FINE_TUNING
        return f"{NO_FINE_TUNING}, {preface} prompt" if preface in VALUE_PREFACES else f"{NO_FINE_TUNING}, prefaced"
    return adapter.name if run_config is None else model_label(run_config)


def load_llm_policy(
    *,
    model: str | None = None,
    adapter: str | Path | None = None,
    preface: str | None = None,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "auto",
    quantization: str = "none",
    batch_size: int = 64,
    max_new_tokens: int | None = None,
    parse_mode: str = "strict",
    force: bool = False,
) -> LLMPolicy:
    """Load the LLM policy the arguments name (the labels are set by the evaluation's first batch).

    Args:
        model: The base model; default: the training run's model, else the embedded SmolLM2.
        adapter: A LoRA adapter folder or a training run folder; None plays the base model ("no fine-tuning").
        preface: A value preface ("deontological", "utilitarian" or any text) put before every prompt.
        seed: Seeds the agent's sampling.
        device: Where the model runs.
        dtype: The weight dtype (``ModelConfig.dtype``).
        quantization: ``"4bit"`` for NF4 weights (``ModelConfig.quantization``).
        batch_size: The most prompts per generation call.
        max_new_tokens: Answer length; None derives it from the labels.
        parse_mode: "strict" (the paper's) or "lenient".
        force: Load the adapter even onto a base model other than its own, or one whose layers do not take all its
            LoRA weights (a warning instead of the refusal).

    Raises:
        ValueError: a damaged adapter folder, or a base model other than the adapter's (naming both and the fix).
    """
    adapter_dir = find_adapter(adapter) if adapter is not None else None
    if adapter_dir is not None and "checkpoints" in adapter_dir.parts:
        print(
            f"llm-agents: {adapter} has no final adapter yet (the run is unfinished); using the newest checkpoint's, "
            f"{adapter_dir}",
            file=sys.stderr,
        )
    run_folder = run_folder_of(adapter_dir) if adapter_dir is not None else None
    run_config = RunFolder(run_folder).read_config() if run_folder is not None else None
    model_name = model or (run_config or {}).get("model", {}).get("name") or EMBEDDED_MODEL
    if adapter_dir is not None:  # a damaged adapter is refused before the model loads
        read_adapter_config(adapter_dir)
        adapter_weight_shapes(adapter_dir)
    loaded, tokenizer = load_model(
        ModelConfig(name=model_name, device=device, dtype=dtype, quantization=quantization)  # type: ignore[arg-type]
    )
    if adapter_dir is not None:
        loaded = load_adapter(loaded, adapter_dir, is_trainable=False, force=force)
    agent = LLMAgent(
        loaded,
        tokenizer,
        generation=GenerationConfig(max_new_tokens=max_new_tokens),
        prompt=PromptConfig(preface=preface),
        parse_mode=parse_mode,  # type: ignore[arg-type]
        seed=seed,
    )
    description = {
        "model": model_name,
        "dtype": dtype,
        "quantization": quantization,
        "adapter": None if adapter_dir is None else str(adapter_dir),
        "run": None if run_folder is None else str(run_folder),
        "training": None if run_config is None else {k: run_config.get(k) for k in ("reward", "opponent", "seed")},
        "preface": preface,
        "seed": seed,
        "label": default_label(run_config, adapter_dir, preface),
    }
    training_pool = pool_of((run_config or {}).get("labels"))
    return LLMPolicy(agent, batch_size=batch_size, description=description, training_pool=training_pool)
