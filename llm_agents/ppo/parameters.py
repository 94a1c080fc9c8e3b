"""The trainable parameters of one named adapter of a peft model, and the optimizer over them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


@contextmanager
def adapter_in_eval_mode(
    model: nn.Module, adapter_name: str, adapter_params: dict[str, nn.Parameter], *modules: nn.Module
) -> Iterator[None]:
    """Activate ``adapter_name`` (its parameters trainable) and put ``model`` and ``modules`` (a value head) in eval
    mode for the block; restore the previously active adapter and every module's mode afterwards."""
    previous_adapter = model.active_adapter
    previous_modes = [(module, module.training) for module in (model, *modules)]
    if previous_adapter != adapter_name:
        model.set_adapter(adapter_name)
    for parameter in adapter_params.values():
        parameter.requires_grad_(True)
    for module, _ in previous_modes:
        module.eval()
    try:
        yield
    finally:
        for module, training in previous_modes:
            module.train(training)
        if previous_adapter != adapter_name:
            model.set_adapter(previous_adapter)


def adapter_parameters(model: nn.Module, adapter_name: str) -> dict[str, nn.Parameter]:
    """The parameters that belong to the adapter ``adapter_name`` of a peft model, by their full names.

    Found through peft's tuner layers (``adapter_layer_names``, e.g. ``lora_A``/``lora_B``) and ``modules_to_save``
    wrappers, so another adapter, or an adapter whose name happens to appear in module paths, is never picked up.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer

    wanted: set[int] = set()
    for module in model.modules():
        containers: list[Any] = []
        if isinstance(module, BaseTunerLayer):
            containers = [getattr(module, name, None) for name in module.adapter_layer_names]
        elif isinstance(getattr(module, "modules_to_save", None), nn.ModuleDict):
            containers = [module.modules_to_save]
        for container in containers:
            if container is None or adapter_name not in container:
                continue
            item = container[adapter_name]
            wanted.update(id(p) for p in ([item] if isinstance(item, nn.Parameter) else item.parameters()))
    return {name: p for name, p in model.named_parameters() if id(p) in wanted}


def make_optimizer(
    parameters: list[nn.Parameter],
    optimizer: torch.optim.Optimizer | OptimizerFactory | None,
    learning_rate: float,
    adapter_name: str,
) -> torch.optim.Optimizer:
    """``optimizer`` checked to hold only ``parameters``, or built by the factory, or trl's default Adam."""
    if optimizer is None:
        return torch.optim.Adam(parameters, lr=learning_rate)
    if isinstance(optimizer, torch.optim.Optimizer):
        ours = {id(p) for p in parameters}
        foreign = [p for group in optimizer.param_groups for p in group["params"] if id(p) not in ours]
        if foreign:
            raise ValueError(
                f"The optimizer holds {len(foreign)} parameters that are not this trainer's adapter "
                f"{adapter_name!r} or value head; build it over trainer.trainable_parameters."
            )
        return optimizer
    if callable(optimizer):
        return optimizer(parameters)
    raise TypeError(f"optimizer must be a torch Optimizer, a factory or None, got {type(optimizer).__name__}.")
