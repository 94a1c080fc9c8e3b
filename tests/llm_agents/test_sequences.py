"""Distinct sequences computed once: the prefix tree, the tree batch and decoder against the padded ones, the memo.

The tree layout must give the numbers of the plain padded layout: the same forward outputs, the same PPO step (stats
within 1e-5, updated weights within 1e-5 relative), the same samples from the same seed, and an exact resume.
"""

from __future__ import annotations

import io
import itertools

import pytest
import torch
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from llm_agents.agent.config import GenerationConfig
from llm_agents.agent.generation import sample_completions
from llm_agents.ppo import PPOConfig, PPOTrainer
from llm_agents.sequences import tree_attention
from llm_agents.sequences.decoding import PrefixCache
from llm_agents.sequences.forward import pack, pack_tree
from llm_agents.sequences.prefix_tree import PrefixTree
from llm_agents.sequences.reference import ReferenceMemo
from llm_agents.sequences.tree_attention import TreeLayout, chains, chunk_bounds


def shared_batch(seed: int = 0):
    """12 rows from 3 prompts that share a 6-token prefix (2 of them 4 more tokens), each answered twice or more."""
    g = torch.Generator().manual_seed(seed)
    prefix = torch.randint(7, 40, (6,), generator=g)
    middle = torch.randint(7, 40, (4,), generator=g)
    prompts = [
        torch.cat([prefix, middle, torch.randint(7, 40, (3,), generator=g)]),
        torch.cat([prefix, middle, torch.randint(7, 40, (2,), generator=g)]),
        torch.cat([prefix, torch.randint(7, 40, (5,), generator=g)]),
    ]
    answers = [torch.randint(7, 40, (n,), generator=g) for n in (1, 2, 2, 1)]
    queries, responses = [], []
    for row in range(12):
        queries.append(prompts[row % 3])
        responses.append(answers[(row * 7) % 4])
    scores = torch.randn(12, generator=g).tolist()
    return queries, responses, scores


def test_the_tree_keeps_one_node_per_distinct_prefix():
    tree = PrefixTree()
    assert tree.add([1, 2, 3]) == [0, 1, 2]
    assert tree.add([1, 2, 4, 5]) == [0, 1, 3, 4]
    assert tree.add([1, 2, 3]) == [0, 1, 2]
    assert tree.add([9]) == [5]
    assert (len(tree), tree.depths, tree.parents) == (6, [0, 1, 2, 2, 3, 0], [-1, 0, 1, 1, 3, -1])
    mask = tree.attention_mask([2, 4], 6, dtype=torch.float32, device=torch.device("cpu"))[0, 0]
    assert (mask == 0).tolist() == [[True, True, True, False, False, False], [True, True, False, True, True, False]]


def test_a_tree_batch_computes_the_distinct_tokens_and_reads_what_the_padded_batch_reads(make_lora_model):
    model = make_lora_model(init_lora_weights=False)
    queries, responses, _ = shared_batch()
    padded = pack(queries, responses, 0, torch.device("cpu"))
    tree = pack_tree(queries, responses, 0, torch.device("cpu"))
    sizes = tree.sizes()
    assert (
        sizes["batch/tokens"]
        == padded.sizes()["batch/tokens"]
        == sum(len(q) + len(r) for q, r in zip(queries, responses, strict=True))
    )
    assert sizes["batch/computed_tokens"] < sizes["batch/tokens"] / 3  # 12 rows, 3 prompts sharing a prefix
    from llm_agents.ppo import ValueHead

    head = ValueHead(32).eval()
    with torch.no_grad():
        a, b = padded.forward(model, head), tree.forward(model, head)
    torch.testing.assert_close(b.logprobs * tree.mask, a.logprobs * padded.mask, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b.values * tree.mask, a.values * padded.mask, atol=1e-5, rtol=1e-5)
    assert torch.equal(tree.mask, padded.mask) and torch.equal(
        tree.response_tokens * tree.mask.long(), padded.response_tokens * padded.mask.long()
    )


def test_the_chunks_cover_the_tree_and_restrict_its_mask_to_the_keys_they_read():
    tree = PrefixTree()
    for sequence in ([1, 2, 3, 4], [1, 2, 5], [1, 2, 5, 6, 7], [1, 8], [1, 2, 3, 9], [4, 4]):
        tree.add(sequence)
    assert chains(tree) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 7), (7, 8), (8, 9), (9, 11)]
    dense = tree.attention_mask(range(len(tree)), len(tree), dtype=torch.float32, device=torch.device("cpu"))[0, 0]
    for call_cost in (0, 10, 10**6):
        bounds = chunk_bounds(tree, call_cost)
        assert bounds[0][0] == 0 and bounds[-1][1] == len(tree)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))  # consecutive runs
        layout = TreeLayout.of(tree, dtype=torch.float32, device=torch.device("cpu"), call_cost=call_cost)
        rebuilt = torch.full_like(dense, torch.finfo(torch.float32).min)
        for chunk in layout.chunks:
            keys = torch.arange(chunk.stop) if chunk.keys is None else chunk.keys
            rebuilt[chunk.start : chunk.stop, keys] = chunk.mask
        assert torch.equal(rebuilt, dense)
        assert layout.pairs <= len(tree) ** 2
    assert len(chunk_bounds(tree, 0)) == len(chains(tree)) and chunk_bounds(tree, 10**6) == [(0, len(tree))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("call_cost", [0, 40, 10**6])
def test_the_chunked_tree_attention_gives_the_dense_and_padded_numbers_and_gradients(
    make_lora_model, monkeypatch, call_cost, dtype
):
    """One chunk per chain, a few chunks, one chunk: the same log-probs, values and LoRA and value-head gradients as
    the dense tree mask and the padded batch, with and without gradients.

    In float64 the chunked and the dense tree agree to 1e-10 in everything, and with the padded batch in log-probs
    and values; the padded batch's gradients differ from both by float32-sized steps (relative 7e-8, measured: some
    step of its backward rounds to float32), so they are compared to 1e-6 there. In float32 the log-probs and values
    agree to 1e-5; a gradient element sums many terms in an order each layout's kernels choose, and one of 128 once
    differed by 1.7e-5 (relative 1.2e-4) in a loaded CI run, so gradients are compared to 1e-4 there."""
    from llm_agents.ppo import ValueHead

    monkeypatch.setattr(tree_attention, "CALL_COST", call_cost)
    model = make_lora_model(init_lora_weights=False).to(dtype)
    head = ValueHead(32).to(dtype).eval()
    close, gradients_close = (1e-10, {"dense": 1e-10, "padded": 1e-6}) if dtype == torch.float64 else (1e-5, None)
    queries, responses, _ = shared_batch()
    cpu = torch.device("cpu")
    batches = {
        "padded": pack(queries, responses, 0, cpu),
        "dense": pack_tree(queries, responses, 0, cpu, attention="dense"),
        "chunked": pack_tree(queries, responses, 0, cpu, attention="chunked"),
        "auto": pack_tree(queries, responses, 0, cpu),  # chunked on CPU
    }
    trained = [p for p in [*model.parameters(), *head.parameters()] if p.requires_grad]
    results = {}
    for name, batch in batches.items():
        with torch.no_grad():
            detached = batch.forward(model, head)
        output = batch.forward(model, head)
        ((output.logprobs * batch.mask).sum() + (output.values * batch.mask).sum()).backward()
        results[name] = (detached, output, [p.grad.clone() for p in trained])
        model.zero_grad(set_to_none=True)
        head.zero_grad(set_to_none=True)
    mask = batches["padded"].mask
    for name in ("chunked", "auto"):
        for other in ("dense", "padded"):
            (a_free, a, a_grads), (b_free, b, b_grads) = results[name], results[other]
            for x, y in ((a_free, b_free), (a, b)):
                torch.testing.assert_close(x.logprobs * mask, y.logprobs * mask, atol=close, rtol=close)
                torch.testing.assert_close(x.values * mask, y.values * mask, atol=close, rtol=close)
            tolerance = gradients_close[other] if gradients_close else 1e-4
            for x, y in zip(a_grads, b_grads, strict=True):
                torch.testing.assert_close(x, y, atol=tolerance * max(1.0, y.abs().max().item()), rtol=tolerance)
    assert model.config._attn_implementation == "sdpa"  # the model's own attention again after the forward


def test_the_chunked_tree_attention_runs_only_in_the_tree_forward(make_lora_model, monkeypatch):
    model = make_lora_model(init_lora_weights=False)
    queries, responses, _ = shared_batch()
    calls = []
    chunked = tree_attention.chunked_attention

    def counted(*args, **kwargs):
        calls.append(tree_attention.LAYOUT_KWARG in kwargs)
        return chunked(*args, **kwargs)

    monkeypatch.setitem(ALL_ATTENTION_FUNCTIONS, tree_attention.ATTENTION, counted)
    with torch.no_grad():
        pack_tree(queries, responses, 0, torch.device("cpu"), attention="dense").forward(model, None)
        assert calls == []
        pack_tree(queries, responses, 0, torch.device("cpu")).forward(model, None)
        assert calls == [True] * model.config.num_hidden_layers

        def failing(*args, **kwargs):
            raise RuntimeError("a failure inside the forward")

        monkeypatch.setitem(ALL_ATTENTION_FUNCTIONS, tree_attention.ATTENTION, failing)
        with pytest.raises(RuntimeError, match="inside the forward"):
            pack_tree(queries, responses, 0, torch.device("cpu")).forward(model, None)
    assert model.config._attn_implementation == "sdpa"  # restored after the error
    with pytest.raises(ValueError, match="attention"):
        pack_tree(queries, responses, 0, torch.device("cpu"), attention="sparse")


@pytest.mark.parametrize(("epochs", "minibatches"), [(1, 1), (2, 3)])
def test_one_ppo_step_is_the_same_in_both_layouts(make_lora_model, epochs, minibatches):
    batch = shared_batch()
    results = {}
    for batching in ("padded", "tree"):
        model = make_lora_model(init_lora_weights=False, seed=3)
        config = PPOConfig(learning_rate=1e-3, ppo_epochs=epochs, mini_batch_size=12 // minibatches, seed=5)
        trainer = PPOTrainer(model, config, batching=batching)
        stats = trainer.step(*batch)
        results[batching] = (stats, [p.detach().clone() for p in trainer.trainable_parameters])
    (padded_stats, padded_weights), (tree_stats, tree_weights) = results["padded"], results["tree"]
    for key, value in padded_stats.items():
        if key.startswith(("time/", "batch/")):
            continue
        assert tree_stats[key] == pytest.approx(value, abs=1e-5, nan_ok=True), key
    for a, b in zip(padded_weights, tree_weights, strict=True):
        assert float((a - b).norm()) <= 1e-5 * max(float(a.norm()), 1.0)
    assert tree_stats["batch/computed_tokens"] < padded_stats["batch/computed_tokens"] / 3


def test_the_reference_memo_serves_repeated_pairs_and_resumes_exactly(make_lora_model):
    batch = shared_batch()
    config = PPOConfig(learning_rate=1e-2, ppo_epochs=1, seed=1)
    original = PPOTrainer(make_lora_model(init_lora_weights=False), config)
    original.step(*batch)
    distinct_pairs = len({(tuple(q.tolist()), tuple(r.tolist())) for q, r in zip(*batch[:2], strict=True)})
    assert len(original.reference_memo) == distinct_pairs
    misses = original.reference_memo.misses
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    expected = original.step(*batch)
    assert original.reference_memo.misses == misses  # nothing recomputed the second time
    resumed = PPOTrainer(make_lora_model(init_lora_weights=False, seed=9), config)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    got = resumed.step(*batch)
    assert {k: v for k, v in got.items() if not k.startswith("time/")} == {
        k: v for k, v in expected.items() if not k.startswith("time/")
    }


def test_the_memo_is_bounded():
    memo = ReferenceMemo(max_entries=2)
    for token in range(3):
        memo.store(torch.tensor([token]), torch.tensor([1]), torch.tensor([0.0]))
    assert len(memo) == 2 and memo.lookup(torch.tensor([0]), torch.tensor([1])) is None


@pytest.mark.parametrize("max_new_tokens", [1, 3])
def test_tree_sampling_draws_what_padded_sampling_draws(tiny_llama, tiny_tokenizer, max_new_tokens):
    prompts = [[4, 10, 12, 13, 14], [4, 10, 12, 13, 15], [4, 10, 12, 13, 14], [4, 9]] * 3
    samples = {}
    for batching in ("padded", "tree"):
        config = GenerationConfig(max_new_tokens=max_new_tokens)
        generator = torch.Generator().manual_seed(11)
        samples[batching] = sample_completions(
            tiny_llama, tiny_tokenizer, prompts, generator=generator, config=config, batching=batching
        )
    for padded, tree in zip(samples["padded"], samples["tree"], strict=True):
        assert torch.equal(padded.completion_ids, tree.completion_ids)
        torch.testing.assert_close(tree.logprobs, padded.logprobs, atol=1e-5, rtol=1e-5)


def test_a_shared_prefix_cache_computes_a_repeated_prompt_once(tiny_llama, tiny_tokenizer):
    cache = PrefixCache()
    config = GenerationConfig(max_new_tokens=2)
    prompts = [[4, 10, 12, 13, 14], [4, 10, 12, 13, 15]]
    first = sample_completions(
        tiny_llama, tiny_tokenizer, prompts, generator=torch.Generator().manual_seed(0), config=config, cache=cache
    )
    nodes = len(cache.tree)
    seen = []
    handle = tiny_llama.register_forward_hook(
        lambda module, args, kwargs, output: seen.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        again = sample_completions(
            tiny_llama, tiny_tokenizer, prompts, generator=torch.Generator().manual_seed(0), config=config, cache=cache
        )
    finally:
        handle.remove()
    assert [s.completion_ids.tolist() for s in again] == [s.completion_ids.tolist() for s in first]
    assert len(cache.tree) == nodes and seen == []  # the same prompts and answers: nothing computed again


def test_models_with_a_soft_cap_or_a_sliding_window_keep_the_dense_tree_mask(make_tiny_llama):
    """Gemma-2 caps its attention logits and slides a window: the chunks implement neither, so it stays dense."""
    from transformers import Gemma2Config, Gemma2ForCausalLM

    from llm_agents.sequences.tree_attention import supports_tree_attention

    assert supports_tree_attention(make_tiny_llama())
    gemma = Gemma2ForCausalLM(
        Gemma2Config(
            vocab_size=64,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=8,
            attn_implementation="eager",  # transformers' choice for Gemma-2 (it has no SDPA path for it)
        )
    )
    assert gemma.config._attn_implementation == "eager" and not supports_tree_attention(gemma)
