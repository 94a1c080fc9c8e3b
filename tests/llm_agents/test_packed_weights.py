"""Frozen linear layers on packed oneDNN weights (``llm_agents.agent.packed_weights``): the same numbers as the plain
layers, bit for bit in bfloat16, with and without gradients, through peft's LoRA; plain wherever packing does not
apply."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from llm_agents.agent import packed_weights
from llm_agents.agent.packed_weights import PackedLinear, pack_frozen_linears, packing_matches_plain

pytestmark = pytest.mark.skipif(
    not packing_matches_plain(torch.bfloat16),
    reason="no oneDNN weight packing here, or its bfloat16 products differ from plain torch's on this CPU (then "
    "pack_frozen_linears leaves bfloat16 layers plain: test_no_packing_where_it_would_change_the_numbers)",
)


def frozen_linear(in_features: int, out_features: int, *, bias: bool, dtype: torch.dtype, seed: int = 0) -> nn.Linear:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layer = nn.Linear(in_features, out_features, bias=bias).to(dtype)
    layer.requires_grad_(False)
    return layer


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(1, 48), (5, 48), (2, 37, 48), (1, 300, 48)])
def test_bfloat16_forward_and_input_gradient_are_bit_identical(shape, bias):
    plain = frozen_linear(48, 80, bias=bias, dtype=torch.bfloat16)
    packed = copy.deepcopy(plain)
    assert pack_frozen_linears(packed) == 1 and isinstance(packed, PackedLinear)
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(*shape, generator=generator).to(torch.bfloat16)
    grad = torch.randn(*shape[:-1], 80, generator=generator).to(torch.bfloat16)

    results = []
    for layer in (plain, packed):
        x = inputs.clone().requires_grad_(True)
        output = layer(x)
        output.backward(grad)
        results.append((output, x.grad))
    assert packed.uses_packing(inputs)
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])
    with torch.no_grad():
        assert torch.equal(plain(inputs), packed(inputs))


def test_non_contiguous_inputs_give_the_plain_result():
    plain = frozen_linear(48, 16, bias=False, dtype=torch.bfloat16)
    packed = copy.deepcopy(plain)
    pack_frozen_linears(packed)
    inputs = torch.randn(7, 3, 48).to(torch.bfloat16).transpose(0, 1)
    assert not inputs.is_contiguous()
    assert torch.equal(plain(inputs), packed(inputs))


def test_a_changed_weight_is_packed_again():
    layer = frozen_linear(48, 16, bias=False, dtype=torch.bfloat16)
    pack_frozen_linears(layer)
    inputs = torch.randn(4, 48).to(torch.bfloat16)
    before = layer(inputs)
    with torch.no_grad():
        layer.weight.mul_(2)  # in place: same storage, new version
    assert torch.equal(layer(inputs), nn.functional.linear(inputs, layer.weight))
    assert not torch.equal(layer(inputs), before)
    layer.weight = nn.Parameter(torch.randn(16, 48).to(torch.bfloat16), requires_grad=False)  # new storage
    assert torch.equal(layer(inputs), nn.functional.linear(inputs, layer.weight))


def test_a_weight_changed_between_forward_and_backward_is_refused():
    layer = frozen_linear(48, 16, bias=False, dtype=torch.bfloat16)
    pack_frozen_linears(layer)
    inputs = torch.randn(4, 48).to(torch.bfloat16).requires_grad_(True)
    output = layer(inputs)
    with torch.no_grad():
        layer.weight.add_(1)
    with pytest.raises(RuntimeError, match="modified in place between its forward and its backward"):
        output.sum().backward()


def test_a_trainable_weight_float32_float64_and_mixed_dtypes_stay_plain():
    layer = frozen_linear(48, 16, bias=True, dtype=torch.bfloat16)
    pack_frozen_linears(layer)
    inputs = torch.randn(4, 48).to(torch.bfloat16)
    layer.weight.requires_grad_(True)
    assert not layer.uses_packing(inputs)
    layer(inputs).sum().backward()  # the weight gets its gradient through the plain path
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    layer.weight.requires_grad_(False)
    assert layer.uses_packing(inputs)
    assert not layer.uses_packing(inputs.float())  # input dtype differs from the weight's
    for dtype in (torch.float32, torch.float64):
        other = frozen_linear(48, 16, bias=False, dtype=dtype)
        pack_frozen_linears(other)
        assert isinstance(other, PackedLinear) and not other.uses_packing(torch.randn(4, 48, dtype=dtype))


def test_float32_packing_on_request_agrees_to_float_rounding():
    plain = frozen_linear(96, 64, bias=True, dtype=torch.float32)
    packed = copy.deepcopy(plain)
    pack_frozen_linears(packed, dtypes=(torch.float32,))
    inputs = torch.randn(2, 30, 96)
    assert packed.uses_packing(inputs)
    torch.testing.assert_close(packed(inputs), plain(inputs), rtol=1e-5, atol=1e-5)


def test_lora_on_a_packed_model_gives_the_same_logits_and_gradients(make_tiny_llama):
    from peft import LoraConfig, get_peft_model

    def lora_model(pack: bool):
        base = make_tiny_llama().to(torch.bfloat16)
        if pack:
            assert pack_frozen_linears(base) == sum(1 for m in base.modules() if isinstance(m, nn.Linear))
        config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return get_peft_model(base, config)

    vocabulary = make_tiny_llama().config.vocab_size
    input_ids = torch.randint(3, vocabulary, (2, 11), generator=torch.Generator().manual_seed(0))
    outputs = []
    for pack in (False, True):
        model = lora_model(pack)
        logits = model(input_ids=input_ids).logits
        logits.float().square().mean().backward()
        grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
        with torch.no_grad(), model.disable_adapter():
            reference = model(input_ids=input_ids).logits
        outputs.append((logits.detach(), grads, reference))
    packed_layers = [m for m in model.modules() if isinstance(m, PackedLinear)]
    assert len(packed_layers) == 15  # 7 per layer and the (tied) output head
    # every layer ran on its packed weight; its transposed copy served the backward wherever the layer's input needed
    # a gradient: everywhere but the first layer's q, k and v projections, whose input comes from frozen embeddings
    layers = {name: m for name, m in model.named_modules() if isinstance(m, PackedLinear)}
    packed = {name: set(layer.__dict__.get("_packed", {})) for name, layer in layers.items()}
    first = {
        name
        for name in packed
        if ".layers.0.self_attn." in name and name.split(".")[-2] in ("q_proj", "k_proj", "v_proj")
    }
    assert len(first) == 3
    assert all(kinds == ({False} if name in first else {False, True}) for name, kinds in packed.items()), packed
    assert torch.equal(outputs[0][0], outputs[1][0])
    assert torch.equal(outputs[0][2], outputs[1][2])
    assert outputs[0][1].keys() == outputs[1][1].keys() and outputs[0][1]
    for name, grad in outputs[0][1].items():
        assert torch.equal(grad, outputs[1][1][name]), name


def test_a_packed_layer_can_be_copied_and_saved(tmp_path):
    layer = frozen_linear(48, 16, bias=True, dtype=torch.bfloat16)
    pack_frozen_linears(layer)
    inputs = torch.randn(3, 48).to(torch.bfloat16)
    expected = layer(inputs)  # the packed copy now exists
    torch.save(layer, tmp_path / "layer.pt")
    for other in (copy.deepcopy(layer), torch.load(tmp_path / "layer.pt", weights_only=False)):
        assert isinstance(other, PackedLinear) and torch.equal(other(inputs), expected)


def test_packing_twice_changes_nothing_more_than_the_dtypes():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    assert pack_frozen_linears(model, dtypes=(torch.float32,)) == 2
    assert pack_frozen_linears(model) == 2
    assert all(type(m) is PackedLinear and m.dtypes == (torch.bfloat16,) for m in model if isinstance(m, nn.Linear))


def test_torch_compile_traces_the_plain_layer():
    """Inductor cannot lower a packed weight it did not make: a compiled forward takes the plain path, and works."""
    torch._dynamo.reset()
    layer = frozen_linear(48, 16, bias=False, dtype=torch.bfloat16)
    pack_frozen_linears(layer)
    inputs = torch.randn(5, 48).to(torch.bfloat16)
    compiled = torch.compile(layer, backend="inductor")
    torch.testing.assert_close(compiled(inputs), nn.functional.linear(inputs, layer.weight), rtol=1e-2, atol=1e-2)


def test_no_packing_where_it_would_change_the_numbers(monkeypatch):
    """A CPU where packed bfloat16 products differ from plain torch's: the default packs nothing, an explicit request
    still packs."""
    monkeypatch.setattr(packed_weights, "packing_matches_plain", lambda dtype: False)
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    assert pack_frozen_linears(model) == 0
    assert all(type(m) is nn.Linear for m in model)
    assert pack_frozen_linears(model, dtypes=(torch.bfloat16,)) == 2
