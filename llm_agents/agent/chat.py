"""From an environment's text observation to the token ids the model reads: the chat template.

The text goes into one user message, rendered by the tokenizer's own chat template with the generation prompt
appended (the paper did this for Gemma, docs/paper.md). A tokenizer without a chat template gets the raw text. Model
families differ only through their templates: there is no branch on model names here.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase

from llm_agents.agent.config import PromptConfig


def has_chat_template(tokenizer: PreTrainedTokenizerBase) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def build_messages(text: str, config: PromptConfig | None = None) -> list[dict[str, str]]:
    """The chat messages for one observation: an optional system message, then the (prefaced) text as the user.

    Example:
        >>> build_messages("Your answer: ")
        [{'role': 'user', 'content': 'Your answer: '}]
    """
    config = config or PromptConfig()
    if not isinstance(text, str):
        raise TypeError(f"A prompt must be a string (the observation's text), got {type(text).__name__}.")
    messages = [{"role": "system", "content": config.system}] if config.system is not None else []
    messages.append({"role": "user", "content": config.preface_text + text})
    return messages


def chat_text(text: str, tokenizer: PreTrainedTokenizerBase, config: PromptConfig | None = None) -> str:
    """The exact string the model reads for one observation (chat-templated when the tokenizer has a template)."""
    config = config or PromptConfig()
    if config.use_chat_template and has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(build_messages(text, config), tokenize=False, add_generation_prompt=True)
    system = config.system + "\n" if config.system is not None else ""
    return system + config.preface_text + text


def encode_prompts(
    texts: list[str], tokenizer: PreTrainedTokenizerBase, config: PromptConfig | None = None
) -> tuple[list[str], list[list[int]]]:
    """Render and tokenize a batch of observations; return the rendered strings and their token ids (unpadded).

    A chat-templated string already contains its special tokens (BOS, turn markers), so it is tokenized without
    adding more, as the paper did; raw text gets the tokenizer's usual special tokens.
    """
    config = config or PromptConfig()
    templated = config.use_chat_template and has_chat_template(tokenizer)
    rendered = [chat_text(text, tokenizer, config) for text in texts]
    ids = [tokenizer(prompt, add_special_tokens=not templated)["input_ids"] for prompt in rendered]
    return rendered, ids
