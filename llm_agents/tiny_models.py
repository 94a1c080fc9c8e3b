"""A tiny offline tokenizer and Llama for tests and hardware checks: built in memory in milliseconds, no download.

``build_tiny_tokenizer()`` is a word-level fast tokenizer over a few game words (with pad/bos/eos/unk, left padding
and a small chat template); ``build_tiny_llama(tokenizer, seed)`` a 2-layer Llama (hidden size 32, 4 heads over 2
key-value heads, tied embeddings) whose weights are fixed by ``seed``. Our test suite and ``benchmarks/gpu_check.py``
build their models from here; a project that plugs its own code into ours can test it the same way, e.g.::

    tokenizer = build_tiny_tokenizer()
    model = build_tiny_llama(tokenizer)
    model.save_pretrained(folder); tokenizer.save_pretrained(folder)  # then ModelConfig(name=str(folder))

Its answers are random words, not moves: it tests plumbing and numbers, not behaviour. torch, tokenizers and
transformers are imported when a builder is called, not with this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

WORD_TEXT = (
    "you are playing the iterated prisoner's dilemma . answer with one letter : C or D "
    "round last opponent played your action ? cooperate defect score reward payoff history none "
    "action1 action2 1 2 3 4 5 6 7 8 9 0"
)
"""The tiny tokenizer's words (every other word reads as ``<unk>``)."""

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|> ' + m['content'] + ' <eos> ' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|> ' }}{% endif %}"
)


def build_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer over ``WORD_TEXT``, with pad/bos/eos/unk, left padding and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *sorted(set(WORD_TEXT.split()))])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins tokens with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        padding_side="left",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_llama(tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> LlamaForCausalLM:
    """A 2-layer Llama with hidden size 32 and tied embeddings over ``tokenizer``'s vocabulary, in eval mode, its
    weights drawn from ``seed`` (the global random state is left as it was)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return model.eval()
