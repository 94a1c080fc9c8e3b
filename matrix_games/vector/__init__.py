"""The vectorised engine: many iterated games stepped at once as numpy arrays (no torch).

- ``engine.VectorGame``: the pure batched core (state, scoring, noise, endings, per-game randomness);
- ``strategies``: baseline strategies as array operations (memory-one, short memory) and a per-game fallback;
- ``rewards``: every moral reward on a batch;
- ``gym_env.MatrixGameVectorEnv``: ``gymnasium.make_vec(ID, num_envs=B, vectorization_mode="vector_entry_point")``;
- ``parallel.BatchedParallelEnv``: every player learning, for self-play and population training.

docs/vector.md documents the shapes and conventions.
"""

from matrix_games.vector.engine import VectorGame, VectorRound
from matrix_games.vector.gym_env import MatrixGameVectorEnv
from matrix_games.vector.parallel import BatchedParallelEnv
from matrix_games.vector.rewards import vector_reward_fn
from matrix_games.vector.strategies import vector_strategy

__all__ = [
    "BatchedParallelEnv",
    "MatrixGameVectorEnv",
    "VectorGame",
    "VectorRound",
    "vector_reward_fn",
    "vector_strategy",
]
