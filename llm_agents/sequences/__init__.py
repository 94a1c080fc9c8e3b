"""Token sequences for a causal LM, computed once each: prefix trees, batches, the answer-position forward pass and
the decoders sampling uses.

This package sits under both the agent (sampling) and the trainers (PPO, GRPO): every forward pass over (prompt,
answer) sequences is here, once. ``Batching`` (``"tree"`` or ``"padded"``) is the one switch between computing each
distinct sequence once and the plain padded batch; importing this package loads no torch.
"""

from typing import Literal, get_args

from matrix_games.compat import moved_modules

Batching = Literal["tree", "padded"]
BATCHINGS: tuple[str, ...] = get_args(Batching)

moved_modules({"llm_agents.sequences.reference": "llm_agents.policy_update"})  # the reference memo's old home
