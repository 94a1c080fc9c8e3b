"""Frozen linear layers that run on weights packed once for oneDNN, the CPU matmul library under torch.

Why: on CPU, ``torch.nn.functional.linear`` in bfloat16 (and float32) goes through oneDNN, which reorders the weight
matrix into its blocked layout on every call. With LoRA the base weights never change, so that work is repeated for
nothing, and it is a large part of a call when few tokens pass (a sampling step). Measured on a 2-core CPU with
AVX512-BF16, SmolLM2-135M's 210 linear layers (``python benchmarks/packed_weights.py``, one run): bfloat16, 4 tokens
27.7 -> 16.6 ms, 40 tokens 52.6 -> 37.5 ms, 689 tokens 453 -> 398 ms; the gradient to the input (``grad @ W``, which
the backward of a LoRA fine-tune needs through every frozen layer) 30.1 -> 19.6 ms and 461 -> 427 ms with a packed copy
of the transposed weight. A demo training episode (``configs/demo.yaml``) took 13% less time, its statistics
bit-identical.

What: ``pack_frozen_linears(model)`` turns the model's ``nn.Linear`` layers into ``PackedLinear``, a subclass (so
peft's LoRA wraps it as usual) whose forward, when its weight and bias need no gradient and the input is a CPU tensor
of the weight's dtype, calls oneDNN's linear on a packed copy made on first use and made again whenever the weight
changes (its storage or version counter). Anything else (a trainable weight, a GPU, float64, a mixed dtype, a forward
traced by ``torch.compile``, whose inductor cannot lower a packed weight it did not make) runs the plain
``nn.Linear.forward``. In bfloat16 the packed result is bit-identical to the plain one (tested, and checked on each
machine before packing by ``packing_matches_plain``: where plain torch does not itself use oneDNN for bfloat16, the
layers stay plain); in float32 oneDNN and the plain path (MKL) round differently (2.8e-4 at most over the benchmark's
outputs), so float32 layers are packed only on request (``dtypes=``; ``PACKED_DTYPES`` is bfloat16 alone). Float32
gains more per layer (4 tokens 64.5 -> 25.3 ms) but a float32 demo episode only 3-13% (two runs), not enough to give
up plain torch's numbers.

torch offers this packing only as the internal ops ``torch.ops.mkldnn._reorder_linear_weight`` and
``_linear_pointwise`` (what its compiler emits for frozen CPU weights); ``packing_available`` checks they exist, and
without them every layer stays plain. The packed copies cost the frozen weights' memory once more (twice when
training: the transposed copy for the backward), 0.2 GB per copy for SmolLM2-135M in bfloat16.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

PACKED_DTYPES: tuple[torch.dtype, ...] = (torch.bfloat16,)
"""The weight dtypes packed by default: those whose packed results are bit-identical to the plain ones."""

PACKING_HINT = 64
"""The batch size oneDNN is told to expect when packing (1, 64 and 512 time alike from 4 to 689 tokens)."""


@functools.cache
def packing_available() -> bool:
    """Whether this torch has oneDNN's weight packing for linear layers (a CPU build with mkldnn)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        ops = torch.ops.mkldnn
        weight = torch.ones(2, 2, dtype=torch.bfloat16)
        packed = ops._reorder_linear_weight(weight, 1)
        ops._linear_pointwise(torch.ones(1, 2, dtype=torch.bfloat16), packed, None, "none", [], "")
    except (AttributeError, RuntimeError):
        return False
    return True


@functools.cache
def packing_matches_plain(dtype: torch.dtype) -> bool:
    """Whether, on this CPU and torch, packed products in ``dtype`` equal plain torch's bit for bit: a forward and an
    input gradient of a SmolLM2-sized layer (576 -> 192, 37 tokens), compared. (Where plain torch does not itself use
    oneDNN for ``dtype``, e.g. bfloat16 on some CPUs without AVX512, they round differently.)"""
    if not packing_available():
        return False
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(192, 576, generator=generator).to(dtype)
    inputs = torch.randn(37, 576, generator=generator).to(dtype)
    grad = torch.randn(37, 192, generator=generator).to(dtype)
    try:
        forward = _packed_linear(inputs, torch.ops.mkldnn._reorder_linear_weight(weight, PACKING_HINT), None)
        transposed = torch.ops.mkldnn._reorder_linear_weight(weight.t().contiguous(), PACKING_HINT)
        backward = _packed_linear(grad, transposed, None)
    except RuntimeError:
        return False
    return torch.equal(forward, nn.functional.linear(inputs, weight)) and torch.equal(backward, grad @ weight)


def _packed_linear(inputs: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(inputs.contiguous(), packed, bias, "none", [], "")


class _PackedLinearFunction(torch.autograd.Function):
    """``inputs @ W.T + bias`` on packed weights, with the gradient to ``inputs`` only (``W`` and ``bias`` frozen)."""

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, layer: PackedLinear) -> torch.Tensor:  # type: ignore[override]
        ctx.layer, ctx.version = layer, layer.weight._version
        return _packed_linear(inputs, layer.packed_weight(), layer.bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, None]:  # type: ignore[override]
        if not ctx.needs_input_grad[0]:
            return None, None
        if ctx.layer.weight._version != ctx.version:  # as autograd refuses for a tensor it saved
            raise RuntimeError(
                "The weight of a packed linear layer was modified in place between its forward and its backward; "
                "run the forward again after changing the weight."
            )
        return _packed_linear(grad, ctx.layer.packed_weight(transposed=True), None), None


class PackedLinear(nn.Linear):
    """An ``nn.Linear`` that runs on a packed copy of its weight while the weight is frozen (module docstring)."""

    dtypes: tuple[torch.dtype, ...] = PACKED_DTYPES

    def __getstate__(self) -> dict:
        """Without the packed copies (oneDNN's opaque tensors can be neither copied nor saved; they are made again)."""
        state = self.__dict__.copy()
        state.pop("_packed", None)
        return state

    def packed_weight(self, transposed: bool = False) -> torch.Tensor:
        """The weight (or its transpose, for the backward) in oneDNN's layout, packed again if the weight changed."""
        weight = self.weight
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.shape, transposed)
        cache = self.__dict__.setdefault("_packed", {})
        if cache.get(transposed, (None,))[0] != key:
            source = weight.detach().t().contiguous() if transposed else weight.detach()
            cache[transposed] = (key, torch.ops.mkldnn._reorder_linear_weight(source, PACKING_HINT))
        return cache[transposed][1]

    def uses_packing(self, inputs: torch.Tensor) -> bool:
        weight, bias = self.weight, self.bias
        return (
            not torch.compiler.is_compiling()  # torch.compile packs frozen weights its own way
            and inputs.device.type == "cpu"
            and weight.device.type == "cpu"
            and weight.dtype in self.dtypes
            and inputs.dtype == weight.dtype
            and inputs.numel() > 0
            and not weight.requires_grad
            and (bias is None or (not bias.requires_grad and bias.dtype == weight.dtype))
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.uses_packing(inputs):
            return super().forward(inputs)
        if torch.is_grad_enabled() and inputs.requires_grad:
            return _PackedLinearFunction.apply(inputs, self)
        return _packed_linear(inputs, self.packed_weight(), self.bias)


def pack_frozen_linears(model: nn.Module, dtypes: tuple[torch.dtype, ...] | None = None) -> int:
    """Make every plain ``nn.Linear`` of ``model`` a ``PackedLinear`` for ``dtypes``; return how many layers.

    Safe to call before LoRA is attached (the layers decide at each call whether their weight is frozen) and more than
    once. Does nothing without oneDNN's packing (``packing_available``). By default a dtype of ``PACKED_DTYPES`` is
    packed only where its packed products equal plain torch's bit for bit on this CPU (``packing_matches_plain``);
    dtypes asked for explicitly are packed regardless.
    """
    if dtypes is None:
        dtypes = tuple(dtype for dtype in PACKED_DTYPES if packing_matches_plain(dtype))
    if not dtypes or not packing_available():
        return 0
    layers = [module for module in model.modules() if type(module) in (nn.Linear, PackedLinear)]
    for layer in layers:
        layer.__class__ = PackedLinear
        layer.dtypes = dtypes
    return len(layers)
