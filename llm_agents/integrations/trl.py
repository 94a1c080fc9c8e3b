"""TRL's ``GRPOTrainer`` on our environments: a dataset of game states, and two ways to score a sampled answer.

Each dataset row is one state of an iterated game: the prompt a player reads (``gymnasium.make(ID,
observation_type="text", ...)`` reset with the row's ``env_seed``, as a chat message) and that seed. TRL samples
``num_generations`` answers to each prompt (its group). Then either:

- ``GameReward`` (a reward function): rebuild the state from the seed, parse the answer into an action with our
  labels (an answer that is neither label is illegal: ``illegal_reward``), play that one round against the strategy
  and return its reward (any reward name, with its parameters). Our round-level setting, as the paper's PPO scores
  each round.
- ``EpisodeRollout`` (TRL's ``rollout_func``) with ``EpisodeReturn`` (its reward function): the rollout samples the
  answer itself, then plays the rest of the episode from that state with the same model answering each next round,
  and the answer's reward is the episode's (discounted) return. An answer is then credited with what it does to the
  rounds after it: defecting against tit-for-tat costs the next round.

What TRL's trainer cannot do that ``llm-agents train`` does (docs/grpo.md): two learners, an adaptive KL coefficient
or PPO with a value head, reward schedules, a learning opponent, our run folder (``rounds.jsonl``, exact resume,
reports). TRL's ``rollout_func`` is experimental. Tested with trl 1.16 (the ``trl`` extra pins ``trl>=1.16,<1.17``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium

import matrix_games  # noqa: F401 - registers the ids
from llm_agents.agent.chat import build_messages
from llm_agents.agent.generation import label_token_count
from llm_agents.agent.parsing import ParseMode, parse_action
from matrix_games.core.actions import ILLEGAL
from matrix_games.envs.registration import NAMESPACE, env_id


def make_env(game: str, opponent: str, reward: str, labels: tuple[str, str], **settings: Any) -> gymnasium.Env:
    """The single-agent view the dataset and the reward share: text observations, illegal answers allowed."""
    return gymnasium.make(
        f"{NAMESPACE}/{env_id(game)}",
        opponent=opponent,
        reward=reward,
        observation_type="text",
        action_labels=tuple(labels),
        allow_illegal=True,
        **settings,
    )


def state_dataset(
    game: str = "IPD-v0",
    *,
    opponent: str = "tit_for_tat",
    labels: tuple[str, str] = ("C", "D"),
    num_states: int = 64,
    seed: int = 0,
    **settings: Any,
):
    """A ``datasets.Dataset`` of ``num_states`` game states: ``prompt`` (one user message) and ``env_seed``."""
    import datasets

    env = make_env(game, opponent, "game", labels, **settings)
    rows = {"prompt": [], "env_seed": []}
    for index in range(num_states):
        env_seed = seed * 1_000_003 + index
        text, _ = env.reset(seed=env_seed)
        rows["prompt"].append(build_messages(text))  # the messages our own agent sends (llm_agents.agent.chat)
        rows["env_seed"].append(env_seed)
    return datasets.Dataset.from_dict(rows)


def answer_length(tokenizer: Any, labels: tuple[str, str] = ("C", "D")) -> int:
    """The completion length to give TRL (``max_completion_length``): what our agent samples, the most tokens a
    label takes. A longer completion makes a label followed by anything an illegal answer under strict parsing."""
    return label_token_count(tokenizer, labels)


class GameReward:
    """A TRL reward function: the reward of playing each completion in the state of its row's ``env_seed``.

    Example:
        >>> reward = GameReward("IPD-v0", opponent="always_cooperate", reward="utilitarian")
        >>> reward(prompts=[None, None], completions=["C", "nonsense"], env_seed=[0, 0])
        [6.0, -6.0]
    """

    def __init__(
        self,
        game: str = "IPD-v0",
        *,
        opponent: str = "tit_for_tat",
        reward: str = "game",
        labels: tuple[str, str] = ("C", "D"),
        parse_mode: ParseMode = "strict",
        **settings: Any,
    ) -> None:
        self.env = make_env(game, opponent, reward, labels, **settings)
        self.labels, self.parse_mode = tuple(labels), parse_mode
        self.__name__ = f"{reward}_vs_{opponent}"  # TRL logs each reward function under its name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], env_seed: Sequence[int], **_: Any):
        rewards = []
        for completion, seed in zip(completions, env_seed, strict=True):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            action = parse_action(text, self.labels, self.parse_mode)  # type: ignore[arg-type]
            self.env.reset(seed=int(seed))
            rewards.append(float(self.env.step(ILLEGAL if action is None else action)[1]))
        return rewards


class EpisodeRollout:
    """A TRL ``rollout_func``: for each prompt (a state of ``dataset``), sample the model's answer, then play the
    episode on from there (the same model answering each next round, no gradient) and return its return.

    TRL trains the first answer only (``prompt_ids``, ``completion_ids``, ``logprobs``); ``episode_return`` (the sum of
    ``discount**k`` times the reward of round k) and ``episode_actions`` reach the reward functions as keyword
    arguments, so pass ``EpisodeReturn()`` as the reward. The prompts must come from ``dataset`` (found by their text).
    """

    def __init__(
        self,
        dataset: Any,
        game: str = "IPD-v0",
        *,
        opponent: str = "tit_for_tat",
        reward: str = "game",
        labels: tuple[str, str] = ("C", "D"),
        rounds: int = 5,
        discount: float = 1.0,
        parse_mode: ParseMode = "strict",
        **settings: Any,
    ) -> None:
        self.seeds: dict[str, int] = {}
        for prompt, seed in zip(dataset["prompt"], dataset["env_seed"], strict=True):
            self.seeds.setdefault(_prompt_key(prompt), int(seed))
        self.env_args = (game, opponent, reward, tuple(labels))
        self.settings = {"num_rounds": int(rounds), **settings}
        self.labels, self.parse_mode, self.discount = tuple(labels), parse_mode, float(discount)

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, list]:
        from llm_agents.agent.config import GenerationConfig
        from llm_agents.agent.llm_agent import LLMAgent

        tokenizer = trainer.processing_class
        generation = GenerationConfig(
            temperature=float(getattr(trainer.args, "temperature", 1.0)),
            max_new_tokens=answer_length(tokenizer, self.labels),
        )
        seed = int(trainer.args.seed) * 1_000_003 + int(trainer.state.global_step)
        agent = LLMAgent(
            trainer.model, tokenizer, labels=self.labels, generation=generation, parse_mode=self.parse_mode, seed=seed
        )
        envs = [make_env(*self.env_args, **self.settings) for _ in prompts]
        texts = [env.reset(seed=self._seed(prompt))[0] for env, prompt in zip(envs, prompts, strict=True)]
        for text, prompt in zip(texts, prompts, strict=True):
            if _prompt_key(build_messages(text)) != _prompt_key(prompt):
                raise ValueError(
                    "EpisodeRollout's game shows another prompt than its dataset for the same seed: build both with "
                    "the same game, opponent, labels and settings."
                )
        first = records = agent.respond(texts)
        returns, actions = [0.0] * len(envs), [[] for _ in envs]
        live = list(range(len(envs)))
        for round_index in range(self.settings["num_rounds"]):
            still = []
            for i, record in zip(live, records, strict=True):
                texts[i], reward, terminated, truncated, _ = envs[i].step(record.action)
                returns[i] += self.discount**round_index * float(reward)
                actions[i].append(int(record.action))
                if not (terminated or truncated):
                    still.append(i)
            live = still
            records = agent.respond([texts[i] for i in live]) if live else []
        return {
            "prompt_ids": [record.prompt_ids.tolist() for record in first],
            "completion_ids": [record.completion_ids.tolist() for record in first],
            "logprobs": [record.logprobs.tolist() for record in first],
            "episode_return": returns,
            "episode_actions": actions,
        }

    def _seed(self, prompt: Any) -> int:
        key = _prompt_key(prompt)
        if key not in self.seeds:
            raise ValueError(
                "EpisodeRollout got a prompt that is not in its dataset; build it with the dataset the trainer "
                f"trains on (state_dataset(...)). The prompt: {key[:120]!r}..."
            )
        return self.seeds[key]


class EpisodeReturn:
    """TRL reward function for ``EpisodeRollout``: each answer's reward is its episode's return."""

    __name__ = "episode_return"

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], episode_return: Sequence[float], **_: Any):
        return [float(value) for value in episode_return]


def _prompt_key(prompt: Any) -> str:
    """A prompt (chat messages or text) as one string: the text of its messages."""
    if isinstance(prompt, list):
        return "\n".join(f"{m['role']}: {m['content']}" for m in prompt)
    return str(prompt)
