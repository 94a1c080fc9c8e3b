"""Shared fixtures for the llm_agents tests: a tiny offline tokenizer and llama, and peft LoRA wrappers of it.

Everything is built in memory in well under a second (``llm_agents.tiny_models``: a word-level tokenizer, a 2-layer
llama); no hub is touched.

Fixtures:
- ``tiny_tokenizer`` (session): a word-level fast tokenizer with a small chat template, left padding.
- ``tiny_llama_dir`` (session): a folder holding the tiny llama and its tokenizer, loadable with ``from_pretrained``.
- ``make_tiny_llama`` (session): a factory ``make_tiny_llama(seed=0) -> LlamaForCausalLM``; every call gives a fresh,
  unshared copy (wrapping a model in peft mutates it), with weights fixed by ``seed``.
- ``tiny_llama``: a fresh tiny llama (seed 0).
- ``tiny_bytes_tokenizer`` (session): a byte-level BPE tokenizer (GPT-2's decoding) of 38 tokens: letters of
  ``action``, ``C``, ``D``, digits, a few punctuation marks, space and newline, merges up to `` action``, and tokens
  holding the first bytes of a multi-byte character (``\xe2``, ``\xe2\x80``: a prefix of U+2000, a space).
- ``make_bytes_llama`` (session): ``make_bytes_llama(seed=0) -> LlamaForCausalLM`` over it, in float64 (the exact
  analysis is compared with brute force to 1e-12).
- ``make_lora_model`` (session): a factory ``make_lora_model(adapter_names=("default",), *, r=4, lora_alpha=8,
  init_lora_weights=True, seed=0, model_seed=0) -> PeftModel``: a fresh tiny llama with one LoRA adapter per name
  (all-linear, no dropout), the first one active. ``init_lora_weights=False`` gives random B (policy != reference),
  drawn from ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from llm_agents.tiny_models import build_tiny_llama, build_tiny_tokenizer


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module's in-process trainings (``pytestmark = pytest.mark.usefixtures(...)``): the tiny
    model's ops are too small for threads to pay, and one thread keeps the tests fast on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    return build_tiny_tokenizer()


def build_bytes_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer small enough to enumerate every answer of three tokens (see the module doc)."""
    from llm_agents.analysis.token_texts import gpt2_byte_table

    written = {byte: char for char, byte in gpt2_byte_table().items()}

    def chars(text: str) -> str:
        return "".join(written[byte] for byte in text.encode())

    alphabet = [chars(c) for c in "acti on CD1234.*x!\n"] + [written[b] for b in (0xE2, 0x80, 0xC3, 0xA9)]
    merges = [
        ("a", "c"), ("ac", "t"), ("act", "i"), ("acti", "o"), ("actio", "n"), (chars(" "), "action"),
        (chars(" "), "C"), (chars(" "), "D"), (chars("\n"), chars("\n")), (written[0xE2], written[0x80]),
        (written[0xC3], written[0xA9]), ("C", "."),
    ]  # fmt: skip
    vocab: dict[str, int] = {}
    for token in ["<pad>", "<eos>", "<|user|>", "<|assistant|>", *alphabet, *(a + b for a, b in merges)]:
        vocab.setdefault(token, len(vocab))
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        eos_token="<eos>",
        additional_special_tokens=["<|user|>", "<|assistant|>"],
        padding_side="left",
    )


@pytest.fixture(scope="session")
def tiny_bytes_tokenizer() -> PreTrainedTokenizerFast:
    return build_bytes_tokenizer()


@pytest.fixture(scope="session")
def make_bytes_llama(tiny_bytes_tokenizer: PreTrainedTokenizerFast) -> Callable[..., LlamaForCausalLM]:
    def make(seed: int = 0) -> LlamaForCausalLM:
        return build_tiny_llama(tiny_bytes_tokenizer, seed).double()

    return make


@pytest.fixture(scope="session")
def make_tiny_llama(tiny_tokenizer: PreTrainedTokenizerFast) -> Callable[..., LlamaForCausalLM]:
    states: dict[int, dict[str, torch.Tensor]] = {}

    def make(seed: int = 0) -> LlamaForCausalLM:
        if seed not in states:
            states[seed] = build_tiny_llama(tiny_tokenizer, seed).state_dict()
        model = build_tiny_llama(tiny_tokenizer, seed)
        model.load_state_dict(states[seed])
        return model

    return make


@pytest.fixture
def tiny_llama(make_tiny_llama: Callable[..., LlamaForCausalLM]) -> LlamaForCausalLM:
    return make_tiny_llama()


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, make_tiny_llama, tiny_tokenizer):
    folder = tmp_path_factory.mktemp("tiny_llama")
    make_tiny_llama().save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def make_lora_model(make_tiny_llama: Callable[..., LlamaForCausalLM]) -> Callable[..., torch.nn.Module]:
    from peft import LoraConfig, get_peft_model

    def make(
        adapter_names: Sequence[str] = ("default",),
        *,
        r: int = 4,
        lora_alpha: int = 8,
        init_lora_weights: bool = True,
        seed: int = 0,
        model_seed: int = 0,
    ):
        if not adapter_names:
            raise ValueError("make_lora_model needs at least one adapter name.")

        def lora_config() -> LoraConfig:
            return LoraConfig(
                r=r,
                lora_alpha=lora_alpha,
                lora_dropout=0.0,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
                init_lora_weights=init_lora_weights,
            )

        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = get_peft_model(make_tiny_llama(model_seed), lora_config(), adapter_name=adapter_names[0])
            for name in adapter_names[1:]:
                model.add_adapter(name, lora_config())
        model.set_adapter(adapter_names[0])
        return model.eval()

    return make


@pytest.fixture
def make_config(tiny_llama_dir, tmp_path):
    """A factory ``make_config(name="run", **changes) -> TrainConfig``: a 3-episode deontological run of the tiny
    llama against tit-for-tat in ``tmp_path / name``, checkpointed every episode, that any field can change."""
    from llm_agents.agent.config import GenerationConfig, LoRAConfig, ModelConfig
    from llm_agents.training import TrainConfig

    def make(name: str = "run", **changes):
        settings = dict(
            opponent="tit_for_tat",
            reward="deontological",
            episodes=3,
            rounds_per_episode=2,
            games_per_update=2,
            output_dir=tmp_path / name,
            checkpoint_every=1,
            progress=False,
            model=ModelConfig(
                name=str(tiny_llama_dir), device="cpu", dtype="float32", lora=LoRAConfig(r=2, alpha=4, dropout=0.0)
            ),
            # Two tokens: the tiny model's answers then differ in length, as real ones do.
            generation=GenerationConfig(max_new_tokens=2),
        )
        settings.update(changes)
        return TrainConfig(**settings)

    return make
