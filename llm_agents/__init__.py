"""LLM agents for the matrix_games environments: model loading, generation, parsing and PPO on LoRA adapters."""
