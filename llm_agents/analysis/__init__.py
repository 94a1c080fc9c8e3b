"""Exact analysis of LLM policies: the answer distribution of each prompt computed from the model's token
probabilities (``exact``), the policy table of a model on a game (``table``) and the test protocol's expected results
from it (``matrix_games.exact``), instead of sampled.

Importing this package loads no torch; its members load it on first use.
"""

from llm_agents.lazy import lazy_exports

_LAZY = {
    "AnswerProbabilities": "llm_agents.analysis.exact",
    "exact_answers": "llm_agents.analysis.exact",
    "TokenTexts": "llm_agents.analysis.token_texts",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_exports(__name__, _LAZY)
