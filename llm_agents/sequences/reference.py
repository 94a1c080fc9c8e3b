"""``ReferenceMemo``: the reference policy's log-probabilities of each (prompt, answer) pair, computed once per run.

The reference policy (the base model, adapters off) never changes during a run, so the log-probabilities it gives an
answer to a prompt never change either; the games repeat their prompts and answers, so after a few updates almost
every pair of a batch has been seen. The memo keys them by their token ids, keeps at most ``max_entries`` (least
recently used dropped first), and is saved with the trainer's checkpoint: a resumed run reads the very numbers an
uninterrupted one would (recomputing them in another batch could differ in the last bits).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from llm_agents.sequences.forward import pack_tree

Key = tuple[tuple[int, ...], tuple[int, ...]]


def pair_key(query: torch.Tensor, response: torch.Tensor) -> Key:
    return tuple(query.tolist()), tuple(response.tolist())


class ReferenceMemo:
    """Reference log-probabilities by (prompt ids, answer ids), bounded.

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
