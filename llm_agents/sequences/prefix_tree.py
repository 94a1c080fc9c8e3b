"""A prefix tree of token sequences, packed into one sequence with a tree-shaped attention mask.

Why: the prompts of a game repeat and share long prefixes (every IPD training prompt shares its first 39 tokens, and
prompts with the same option order share the whole payoff table), so a batch of 20 prompts holds 4,420 tokens of
which under a thousand are distinct. A causal LM computes each token from its prefix only, so one forward over the
*distinct* tokens, each attending to its own ancestors, gives every sequence's logits and hidden states exactly
(up to float rounding: the same sums in another order). Node ``i`` sits at position ``depth(i)`` (RoPE sees the
positions each token has in its own sequence) and attends to the nodes on its path from the root.

Nodes are numbered in insertion order, which is a topological order (a parent before its children), so the packed
sequence is the nodes in that order and a key-value cache of it can grow by appending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

ROOT = -1


class PrefixTree:
    """Distinct token sequences as a tree of nodes (one node per distinct prefix).

    Example:
        >>> tree = PrefixTree()
        >>> tree.add([5, 6, 7]), tree.add([5, 6, 9])
        ([0, 1, 2], [0, 1, 3])
        >>> len(tree), tree.depths
        (4, [0, 1, 2, 2])
    """

    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.parents: list[int] = []
        self.depths: list[int] = []
        self._children: dict[tuple[int, int], int] = {}
        self._paths: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, sequence: Iterable[int], parent: int = ROOT) -> list[int]:
        """The nodes of ``sequence`` continued from ``parent`` (the root by default), creating the missing ones."""
        path = []
        for token in sequence:
            key = (parent, int(token))
            node = self._children.get(key)
            if node is None:
                node = len(self.tokens)
                self._children[key] = node
                self.tokens.append(int(token))
                self.parents.append(parent)
                self.depths.append(0 if parent == ROOT else self.depths[parent] + 1)
                above = self._paths[parent] if parent != ROOT else np.empty(0, dtype=np.int64)
                self._paths.append(np.append(above, node))
            path.append(node)
            parent = node
        return path

    def child(self, parent: int, token: int) -> int | None:
        """The node of ``token`` after ``parent``, if the tree has it."""
        return self._children.get((parent, int(token)))

    def path(self, node: int) -> np.ndarray:
        """The nodes from the root to ``node``, inclusive."""
        return self._paths[node]

    def attention_mask(
        self, rows: Sequence[int], columns: int, *, dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """The additive 4D mask ``(1, 1, len(rows), columns)``: 0 where row node ``rows[i]`` may attend column node
        ``j`` (``j`` on its path from the root), the dtype's lowest value elsewhere."""
        allowed = np.zeros((len(rows), columns), dtype=bool)
        for index, node in enumerate(rows):
            allowed[index, self._paths[node]] = True
        mask = torch.full((len(rows), columns), torch.finfo(dtype).min, dtype=dtype)
        mask.masked_fill_(torch.from_numpy(allowed), 0.0)
        return mask[None, None].to(device)

    def inputs(self, nodes: Sequence[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input_ids, position_ids)``, each ``(1, len(nodes))``, of ``nodes`` in the packed sequence."""
        input_ids = torch.tensor([[self.tokens[n] for n in nodes]], dtype=torch.long, device=device)
        position_ids = torch.tensor([[self.depths[n] for n in nodes]], dtype=torch.long, device=device)
        return input_ids, position_ids
