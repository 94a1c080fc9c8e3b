"""``LLMAgent``: an LLM that plays any ``matrix_games`` environment, one batch of observations per call.

The agent reads each observation's text (a plain string, or the ``"text"`` entry of a dict observation), renders
it with the tokenizer's chat template, samples answers for the whole batch at once, and parses each answer with the
action labels. ``respond`` returns every answer as a frozen ``StepRecord`` with the token ids and log-probabilities
PPO needs (``query = record.prompt_ids``, ``response = record.completion_ids``); ``act`` returns only the actions.
The agent keeps no records itself.

Illegal answers (neither label) are handled as ``on_illegal`` says, never silently:

- ``"illegal"`` (default): action 2, which environments built with ``allow_illegal=True`` score with the illegal
  reward (the paper's setting);
- ``"raise"``: a ValueError naming the answer;
- ``"random"``: a uniformly random legal action drawn from the agent's generator (the record keeps ``legal=False``).

Two agents can share one base model: give each its own ``adapter_name`` (set before every generation), or
``reference=True`` for the base model with adapters disabled.

Inside ``with agent.sharing_prefixes():`` the agent keeps the prefix tree and KV cache of everything it read
(``sequences.decoding.PrefixCache``), so a prompt it has seen before, or a shared prefix, is not computed again. Use
it while the weights stay fixed (one rollout, one evaluation); outside it, only a batch's own prompts share work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from llm_agents.agent.adapters import load_adapter, reference_policy, use_adapter
from llm_agents.agent.chat import encode_prompts
from llm_agents.agent.config import AgentConfig, GenerationConfig, ModelConfig, OnIllegal, PromptConfig
from llm_agents.agent.generation import sample_completions
from llm_agents.agent.models import load_model
from llm_agents.agent.parsing import ParseMode, parse_action
from llm_agents.sequences import BATCHINGS, Batching
from llm_agents.sequences.decoding import PrefixCache
from matrix_games.core.actions import DEFAULT_LABELS, ILLEGAL
from matrix_games.core.validation import check_choice

Observation = str | Mapping[str, Any]


@dataclass(frozen=True)
class StepRecord:
    """One answer of the agent: what it read, what it said, and what that meant.

    Attributes:
        observation_text: The environment's text.
        prompt_text: The string the model read (chat-templated, with any preface).
        completion_text: The answer, decoded with special tokens skipped.
        prompt_ids: Prompt token ids, shape (P,) (PPO's query).
        completion_ids: Answer token ids, ending with EOS if one was sampled, shape (T,) (PPO's response).
        logprobs: Log-probability of each answer token under the sampling policy at temperature 1, shape (T,).
        parsed: 0 or 1 when the answer is a label, None when it is illegal.
        action: The action sent to the environment (``parsed``, or what ``on_illegal`` made of an illegal answer).
        adapter_name: The adapter that answered; None for a model without adapters or the reference policy.
    """

    observation_text: str
    prompt_text: str
    completion_text: str
    prompt_ids: torch.Tensor
    completion_ids: torch.Tensor
    logprobs: torch.Tensor
    parsed: int | None
    action: int
    adapter_name: str | None

    @property
    def legal(self) -> bool:
        return self.parsed is not None


def observation_texts(observations: Sequence[Observation] | Mapping[str, Any]) -> list[str]:
    """The text of each observation: strings as they are, dicts by their ``"text"`` entry.

    A dict whose ``"text"`` is a sequence of strings (a Gymnasium vector env's batch) gives one text per entry.
    """
    if isinstance(observations, Mapping):
        texts = observations.get("text")
        if texts is None or isinstance(texts, str):
            raise TypeError("act() takes a list of observations; wrap a single observation in a list.")
        return [str(text) for text in texts]
    if isinstance(observations, str):
        raise TypeError("act() takes a list of observations; wrap a single observation in a list: act([obs]).")
    texts = []
    for observation in observations:
        if isinstance(observation, str):
            texts.append(observation)
        elif isinstance(observation, Mapping) and isinstance(observation.get("text"), str):
            texts.append(observation["text"])
        else:
            raise TypeError(
                f"An LLM agent reads text: each observation must be a str or a dict with a 'text' entry "
                f"(build the env with observation_type='text' or 'dict'), got {type(observation).__name__}."
            )
    return texts


def check_labels_fit(tokenizer: PreTrainedTokenizerBase, labels: Sequence[str], max_new_tokens: int | None) -> None:
    """Refuse a ``generation.max_new_tokens`` too short for one of ``labels``: no answer could ever be that label.

    A label fits when it takes at most that many tokens alone or after a space (how models often start an answer).
    Unset (None), the answer length is derived from the labels and always fits.
    """
    if max_new_tokens is None:
        return
    for label in labels:
        needed = min(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in (label, " " + label))
        if needed > max_new_tokens:
            raise ValueError(
                f"generation.max_new_tokens is {max_new_tokens}, but the label {label!r} takes {needed} tokens of this "
                f"model's tokenizer, so no answer could ever be it; raise generation.max_new_tokens to at least "
                f"{needed}, or leave it unset (then it is the labels' own length)."
            )


class LLMAgent:
    """An LLM player: observations in, actions out, every answer recorded.

    Args:
        model: A causal LM, optionally a peft PeftModel with LoRA adapters.
        tokenizer: Its tokenizer (left padding; see ``models.prepare_tokenizer``).
        labels: The (C, D) action labels the environment uses (its ``action_labels``).
        generation: Sampling options (the paper's by default).
        prompt: Prompt options (chat template, preface, system message).
        parse_mode: ``"strict"`` (the paper's rule) or ``"lenient"``; see ``parsing``.
        on_illegal: What an illegal answer becomes: ``"illegal"`` (action 2), ``"raise"`` or ``"random"``.
        adapter_name: The adapter this agent plays with (made active before each generation).
        reference: Play with the base model, all adapters disabled (the paper's "no fine-tuning" reference).
        seed: Seeds the agent's own torch.Generator (sampling and random fallbacks).
        batching: ``"tree"`` computes each distinct prompt prefix of a batch once (and, inside
            ``sharing_prefixes()``, once for a whole rollout); ``"padded"`` is the plain batch. The samples are the
            same up to float rounding.

    Example:
        >>> agent = LLMAgent.load(ModelConfig(), labels=("action1", "action2"), seed=0)  # doctest: +SKIP
        >>> agent.act([observation])  # doctest: +SKIP
        [2]
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        *,
        labels: Sequence[str] = DEFAULT_LABELS,
        generation: GenerationConfig | None = None,
        prompt: PromptConfig | None = None,
        parse_mode: ParseMode = "strict",
        on_illegal: OnIllegal = "illegal",
        adapter_name: str | None = None,
        reference: bool = False,
        seed: int = 0,
        batching: Batching = "tree",
    ) -> None:
        if adapter_name is not None and reference:
            raise ValueError("Give adapter_name or reference=True, not both: the reference policy has no adapter.")
        self.config = AgentConfig(
            labels=tuple(labels),  # type: ignore[arg-type]
            generation=generation or GenerationConfig(),
            prompt=prompt or PromptConfig(),
            parse_mode=parse_mode,
            on_illegal=on_illegal,
        )
        check_labels_fit(tokenizer, self.config.labels, self.config.generation.max_new_tokens)
        self.model = model
        self.tokenizer = tokenizer
        self.labels = self.config.labels
        self.generation = self.config.generation
        self.prompt = self.config.prompt
        self.parse_mode = self.config.parse_mode
        self.on_illegal = self.config.on_illegal
        self.adapter_name = adapter_name
        self.reference = reference
        self.batching = check_choice("batching", batching, BATCHINGS)
        if adapter_name is not None:
            use_adapter(model, adapter_name)  # fails early on a missing adapter
        device = next(model.parameters()).device
        self.generator = torch.Generator(device=device).manual_seed(int(seed))
        self._prefixes: PrefixCache | None = None

    @contextlib.contextmanager
    def sharing_prefixes(self, cache: PrefixCache | None = None) -> Iterator[None]:
        """Inside this block, prompts and prefixes seen before are not computed again (the weights must not change);
        pass a ``cache`` to keep sharing with an earlier block."""
        outer = self._prefixes
        self._prefixes = cache if cache is not None else PrefixCache()
        try:
            yield
        finally:
            self._prefixes = outer

    @classmethod
    def from_config(
        cls,
        model: torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        config: AgentConfig,
        *,
        adapter_name: str | None = None,
        reference: bool = False,
        seed: int = 0,
        batching: Batching = "tree",
    ) -> LLMAgent:
        """An agent that plays as ``config`` says (the one way training, evaluation and the demo build agents)."""
        return cls(
            model,
            tokenizer,
            labels=config.labels,
            generation=config.generation,
            prompt=config.prompt,
            parse_mode=config.parse_mode,
            on_illegal=config.on_illegal,
            adapter_name=adapter_name,
            reference=reference,
            seed=seed,
            batching=batching,
        )

    def with_labels(self, labels: Sequence[str]) -> LLMAgent:
        """The same agent (model, adapter, settings and sampling stream) answering with other labels."""
        relabelled = LLMAgent.from_config(
            self.model,
            self.tokenizer,
            AgentConfig(tuple(labels), self.generation, self.prompt, self.parse_mode, self.on_illegal),  # type: ignore[arg-type]
            adapter_name=self.adapter_name,
            reference=self.reference,
            batching=self.batching,
        )
        relabelled.generator = self.generator  # one sampling stream
        return relabelled

    @classmethod
    def load(
        cls,
        model_config: ModelConfig | None = None,
        *,
        adapter: str | Path | None = None,
        force: bool = False,
        **kwargs: Any,
    ) -> LLMAgent:
        """Load the model ``model_config`` names (the embedded SmolLM2 by default), with a saved adapter if given
        (refused on a base model other than its own unless ``force``, which warns instead)."""
        model, tokenizer = load_model(model_config)
        if adapter is not None:
            model = load_adapter(model, adapter, is_trainable=False, force=force)
        return cls(model, tokenizer, **kwargs)

    def act(self, observations: Sequence[Observation] | Mapping[str, Any]) -> list[int]:
        """Answer a batch of observations in one generation; return one action per observation."""
        return [record.action for record in self.respond(observations)]

    def act_on(self, observations: Mapping[str, Observation]) -> dict[str, int]:
        """Act for several players at once (a PettingZoo parallel env's ``{agent: observation}``)."""
        names = list(observations)
        return dict(zip(names, self.act([observations[name] for name in names]), strict=True))

    def respond(
        self, observations: Sequence[Observation] | Mapping[str, Any], labels: Sequence[tuple[str, str]] | None = None
    ) -> list[StepRecord]:
        """Like ``act``, but return every answer's ``StepRecord``.

        ``labels`` gives each observation its own (C, D) pair (games drawn from a label pool); by default every
        answer is read with the agent's ``labels``. Without ``generation.max_new_tokens`` the answer length is that
        of the longest label in the call.
        """
        texts = observation_texts(observations)
        if not texts:
            return []
        rows = [self.labels] * len(texts) if labels is None else [tuple(pair) for pair in labels]
        if len(rows) != len(texts):
            raise ValueError(f"respond() got {len(texts)} observations but {len(rows)} label pairs; give one each.")
        prompt_texts, prompt_ids = encode_prompts(texts, self.tokenizer, self.prompt)
        with self.acting():
            samples = sample_completions(
                self.model,
                self.tokenizer,
                prompt_ids,
                generator=self.generator,
                config=self.generation,
                labels=sorted({label for pair in rows for label in pair}),
                cache=self._prefixes,
                batching=self.batching,
            )
        records = []
        for text, prompt_text, sample, pair in zip(texts, prompt_texts, samples, rows, strict=True):
            parsed = parse_action(sample.text, pair, self.parse_mode)  # type: ignore[arg-type]
            records.append(
                StepRecord(
                    observation_text=text,
                    prompt_text=prompt_text,
                    completion_text=sample.text,
                    prompt_ids=sample.prompt_ids,
                    completion_ids=sample.completion_ids,
                    logprobs=sample.logprobs,
                    parsed=parsed,
                    action=self._action(parsed, sample.text, pair),
                    adapter_name=None if self.reference else self._active_adapter(),
                )
            )
        return records

    def _action(self, parsed: int | None, text: str, labels: tuple[str, str]) -> int:
        if parsed is not None:
            return parsed
        if self.on_illegal == "raise":
            raise ValueError(
                f"The model answered {text!r}, which is neither label of {labels} (parse_mode="
                f"{self.parse_mode!r}); use on_illegal='illegal' with an env built with allow_illegal=True to score "
                "it as illegal, or on_illegal='random'."
            )
        if self.on_illegal == "random":
            return int(torch.randint(2, (1,), generator=self.generator, device=self.generator.device).item())
        return int(ILLEGAL)

    def acting(self) -> contextlib.AbstractContextManager:
        """The block in which the model is this agent's policy: its adapter active, or all adapters disabled for the
        reference policy (what every generation, and the exact analysis, runs inside)."""
        if self.reference:
            return reference_policy(self.model)
        if self.adapter_name is not None:
            use_adapter(self.model, self.adapter_name)
        return contextlib.nullcontext()

    def _active_adapter(self) -> str | None:
        return getattr(self.model, "active_adapter", None) if hasattr(self.model, "peft_config") else None
