"""A model's policy on a game as a table: P(C), P(D) and P(illegal) for every prompt it can read, and per state.

On an iterated game whose prompt shows only the previous round, what an LLM policy does is its answer distribution at
each state (own previous move, opponent's previous move; or own move and how many others contributed, in the public
goods game). The environment shows each state in a few variants: the two label orders it draws independently (each
order with probability 1/2, ``observations.text_variants``) and, with a label pool, the pair each game draws. A
``PolicyTable`` lists every (state, variant, label pair) prompt with its exact token ids, its probability within its
state and its exact answer distribution (``exact.exact_answers``), and averages them into the state's distribution.
As a ``matrix_games.play.markov.TablePlayer`` it plays Markov chains (the test protocol's expected results); as a
``matrix_games.strategies.TabledStrategy`` it enters tournaments and Axelrod's library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llm_agents.agent.chat import encode_prompts
from llm_agents.agent.llm_agent import LLMAgent
from llm_agents.analysis.exact import answer_length, exact_answers
from matrix_games.envs.observations import text_variants
from matrix_games.envs.settings import GameSettings
from matrix_games.play.markov import TablePlayer, representative_states


@dataclass(frozen=True)
class PromptRow:
    """One prompt of a policy table.

    Attributes:
        state: The state it shows (``markov.state_name``: ``"CD"``, ``"C2"``, ``"none"``).
        labels: Its (C, D) labels.
        text: The environment's text (before the chat template).
        input_ids: The exact token ids fed to the model, chat template included.
        weight: Its probability among the prompts of its state.
        p_c, p_d, p_illegal: Its exact answer distribution.
    """

    state: str
    labels: tuple[str, str]
    text: str
    input_ids: tuple[int, ...]
    weight: float
    p_c: float
    p_d: float
    p_illegal: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "labels": list(self.labels),
            "weight": self.weight,
            "p_c": self.p_c,
            "p_d": self.p_d,
            "p_illegal": self.p_illegal,
            "input_ids": list(self.input_ids),
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptRow:
        return cls(
            state=str(data["state"]),
            labels=tuple(data["labels"]),  # type: ignore[arg-type]
            text=str(data.get("text", "")),
            input_ids=tuple(int(i) for i in data["input_ids"]),
            weight=float(data["weight"]),
            p_c=float(data["p_c"]),
            p_d=float(data["p_d"]),
            p_illegal=float(data["p_illegal"]),
        )


@dataclass(frozen=True)
class PolicyTable:
    """A policy's exact answer distributions on one game (see the module docstring).

    Attributes:
        game: The environment id (``"IPD-v0"``).
        prompt_kind: The prompt variant (``"original"``, ``"unstructured"``, ...).
        player: Whose prompts (0 = player_0, the row player).
        rows: Every prompt, grouped by state.
        max_new_tokens: The answer length walked.
    """

    game: str
    prompt_kind: str
    player: int
    rows: tuple[PromptRow, ...]
    max_new_tokens: int

    def states(self) -> dict[str, tuple[float, float, float]]:
        """Each state's (P(C), P(D), P(illegal)): its prompts' distributions weighted by how often each is shown."""
        totals: dict[str, list[float]] = {}
        for row in self.rows:
            total = totals.setdefault(row.state, [0.0, 0.0, 0.0])
            total[0] += row.weight * row.p_c
            total[1] += row.weight * row.p_d
            total[2] += row.weight * row.p_illegal
        return {state: (c, d, illegal) for state, (c, d, illegal) in totals.items()}

    def chain_player(self, name: str = "table") -> TablePlayer:
        """The table as a player of ``matrix_games.play.markov`` chains."""
        return TablePlayer(self.states(), name=name)

    def to_dict(self) -> dict[str, Any]:
        """The table as ``analysis.json`` holds a game: its prompts and its states."""
        return {
            "game": self.game,
            "prompt_kind": self.prompt_kind,
            "player": self.player,
            "max_new_tokens": self.max_new_tokens,
            "prompts": [row.to_dict() for row in self.rows],
            "states": {
                state: {"p_c": c, "p_d": d, "p_illegal": illegal} for state, (c, d, illegal) in self.states().items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyTable:
        return cls(
            game=str(data["game"]),
            prompt_kind=str(data["prompt_kind"]),
            player=int(data.get("player", 0)),
            rows=tuple(PromptRow.from_dict(row) for row in data["prompts"]),
            max_new_tokens=int(data["max_new_tokens"]),
        )


def analyse_policy(
    agent: LLMAgent,
    settings: GameSettings,
    game_id: str,
    *,
    label_pairs: Sequence[tuple[str, str]] | None = None,
    player: int = 0,
    states: Sequence[str] | None = None,
) -> PolicyTable:
    """The exact policy table of ``agent`` on the environment ``settings`` describes.

    Args:
        agent: The LLM player (its model and active adapter, sampling settings, prompt and parse mode).
        settings: The environment: game, prompt kind, labels, initial state.
        game_id: The environment id the table names (``"IPD-v0"``).
        label_pairs: The pairs games draw from (a label pool's members, each equally likely); by default the
            environment's one pair.
        player: Whose prompts.
        states: Only these states (``markov.state_name``); by default every one the episodes can reach.
    """
    pairs = [tuple(pair) for pair in (label_pairs or [settings.action_labels])]
    representatives = representative_states(settings.num_players, settings.initial_state, player)
    if states is not None:
        unknown = sorted(set(states) - set(representatives))
        if unknown:
            raise ValueError(f"No state {unknown} in {game_id}; its states are {list(representatives)}.")
        representatives = {name: representatives[name] for name in states}
    texts, labels, weights, names = [], [], [], []
    for name, state in representatives.items():
        for pair in pairs:
            variant_settings = settings.replace(action_labels=pair) if pair != settings.action_labels else settings
            for text, weight in text_variants(variant_settings, player, state):
                texts.append(text)
                labels.append(pair)
                weights.append(weight / len(pairs))
                names.append(name)
    _, ids = encode_prompts(texts, agent.tokenizer, agent.prompt)
    length = answer_length(agent.tokenizer, agent.generation, pairs)
    with agent.acting():
        answers = exact_answers(
            agent.model,
            agent.tokenizer,
            ids,
            labels,
            generation=agent.generation,
            parse_mode=agent.parse_mode,
            max_new_tokens=length,
        )
    rows = tuple(
        PromptRow(name, pair, text, tuple(prompt), weight, float(p_c), float(p_d), float(p_illegal))
        for name, pair, text, prompt, weight, p_c, p_d, p_illegal in zip(
            names, labels, texts, ids, weights, answers.p_c, answers.p_d, answers.p_illegal, strict=True
        )
    )
    return PolicyTable(game_id, settings.prompt, player, rows, length)
