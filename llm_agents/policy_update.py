"""What every policy update on a LoRA adapter needs, whatever the algorithm (PPO, GRPO): the adapter's trainable
parameters and the eval-mode block a step runs in, its checked inputs, the optimiser step with gradient clipping and
the stop at the first non-finite number, and the run-long memo of the reference policy's log-probabilities.

Each takes what it needs (``max_grad_norm``, a learning rate), never an algorithm's config, so an algorithm's own
file (``ppo/trainer.py``, ``grpo/trainer.py``) reads its update top to bottom and calls these by name.

The reference policy (the base model, adapters off) never changes during a run, so the log-probabilities it gives an
answer to a prompt never change either; the games repeat their prompts and answers, so after a few updates almost
every pair of a batch has been seen. ``ReferenceMemo`` keys them by their token ids, keeps at most ``max_entries``
(least recently used dropped first), and is saved with the trainer's checkpoint: a resumed run reads the very numbers
an uninterrupted one would (recomputing them in another batch could differ in the last bits).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from llm_agents.sequences.forward import pack_tree

OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


class NonFiniteError(FloatingPointError):
    """A statistic of an update became NaN or infinite; the weights were not updated with it.

    Attributes:
        statistic: Which number: ``"loss"``, ``"gradient norm"`` or ``"updated weights"``.
        value: Its value (NaN or an infinity; for weights, how many of them).
    """

    def __init__(self, statistic: str, value: float) -> None:
        self.statistic, self.value = statistic, value
        super().__init__(f"the {statistic} of the update is not finite ({value})")


# ------------------------------------------------------------------ the adapter's parameters and modes


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


# ------------------------------------------------------------------ checked inputs


def check_batch(
    queries: Sequence[torch.Tensor], responses: Sequence[torch.Tensor], batch_size: int
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Check that there are ``batch_size`` non-empty 1-D token-id tensors of each; return them as CPU lists."""
    checked = []
    for name, tensors in (("queries", queries), ("responses", responses)):
        tensors = list(tensors)
        if len(tensors) != batch_size:
            raise ValueError(f"step() got {len(tensors)} {name} but config.batch_size is {batch_size}.")
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, torch.Tensor) or tensor.dim() != 1 or tensor.is_floating_point():
                raise ValueError(f"{name}[{i}] must be a 1-D tensor of token ids, got {tensor!r}.")
            if tensor.numel() == 0:
                raise ValueError(f"{name}[{i}] is empty; every query and response needs at least one token.")
        checked.append([t.cpu() for t in tensors])
    return checked[0], checked[1]


def check_scores(
    scores: Sequence[float] | Sequence[torch.Tensor] | torch.Tensor, batch_size: int, device: torch.device
) -> torch.Tensor:
    """``batch_size`` finite scores as a 1-D float tensor on ``device`` (a float list gives float32, as in trl)."""
    if isinstance(scores, torch.Tensor):
        tensor = scores.detach().reshape(-1)
    else:
        tensor = torch.stack([torch.as_tensor(s).detach().reshape(()) for s in scores])
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if tensor.numel() != batch_size:
        raise ValueError(f"step() got {tensor.numel()} scores but config.batch_size is {batch_size}.")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"Scores must be finite, got {tensor.tolist()}.")
    return tensor.to(device)


# ------------------------------------------------------------------ the optimiser step


def optimizer_step(
    optimizer: torch.optim.Optimizer, parameters: list[nn.Parameter], max_grad_norm: float | None
) -> None:
    """Check the gradients, clip them to ``max_grad_norm`` if given, step, and check the weights the step wrote."""
    gradients = [p.grad for p in parameters if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in gradients])) if gradients else 0
    if not math.isfinite(float(norm)):
        raise NonFiniteError("gradient norm", float(norm))
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    bad = sum(int((~torch.isfinite(p.detach())).sum()) for p in parameters)
    if bad:
        raise NonFiniteError("updated weights", float(bad))


def check_loss(loss: torch.Tensor) -> None:
    """Stop before a non-finite loss reaches the gradients."""
    if not bool(torch.isfinite(loss.detach())):
        raise NonFiniteError("loss", float(loss.detach()))


# ------------------------------------------------------------------ the reference memo

Key = tuple[tuple[int, ...], tuple[int, ...]]


def pair_key(query: torch.Tensor, response: torch.Tensor) -> Key:
    return tuple(query.tolist()), tuple(response.tolist())


class ReferenceMemo:
    """Reference log-probabilities by (prompt ids, answer ids), bounded (see the module docstring).

    Example:
        >>> memo = ReferenceMemo(max_entries=2)
        >>> memo.store(torch.tensor([1, 2]), torch.tensor([3]), torch.tensor([-0.5]))
        >>> memo.lookup(torch.tensor([1, 2]), torch.tensor([3]))
        tensor([-0.5000])
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = int(max_entries)
        self._entries: OrderedDict[Key, torch.Tensor] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, query: torch.Tensor, response: torch.Tensor) -> torch.Tensor | None:
        key = pair_key(query, response)
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def store(self, query: torch.Tensor, response: torch.Tensor, logprobs: torch.Tensor) -> None:
        key = pair_key(query, response)
        self._entries[key] = logprobs.detach().float().cpu().clone()
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def missing(self, queries: Sequence[torch.Tensor], responses: Sequence[torch.Tensor]) -> list[int]:
        """The rows whose pair is not in the memo (each distinct pair listed once)."""
        seen: set[Key] = set()
        rows = []
        for row, (query, response) in enumerate(zip(queries, responses, strict=True)):
            key = pair_key(query, response)
            if key not in self._entries and key not in seen:
                seen.add(key)
                rows.append(row)
        return rows

    def state_dict(self) -> dict[str, Any]:
        """The entries, in recency order (for ``torch.save``)."""
        return {
            "max_entries": self.max_entries,
            "entries": [(list(q), list(r), value) for (q, r), value in self._entries.items()],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.max_entries = int(state["max_entries"])
        self._entries = OrderedDict(((tuple(q), tuple(r)), value) for q, r, value in state["entries"])


def memoised_logprobs(
    model: nn.Module,
    memo: ReferenceMemo,
    queries: Sequence[torch.Tensor],
    responses: Sequence[torch.Tensor],
    mask: torch.Tensor,
) -> torch.Tensor:
    """The ``(B, R)`` right-aligned log-probs of the answers under ``model`` as it is now (call it with the adapters
    disabled, under ``torch.no_grad()``): the pairs ``memo`` lacks are computed in one prefix tree and stored."""
    missing = memo.missing(queries, responses)
    if missing:
        subset = pack_tree([queries[i] for i in missing], [responses[i] for i in missing], 0, mask.device)
        computed = subset.forward(model, None).logprobs
        for row, index in enumerate(missing):
            memo.store(queries[index], responses[index], computed[row, computed.shape[1] - len(responses[index]) :])
    logprobs = torch.zeros_like(mask)
    for row, (query, response) in enumerate(zip(queries, responses, strict=True)):
        logprobs[row, logprobs.shape[1] - len(response) :] = memo.lookup(query, response).to(mask.device)
    return logprobs
