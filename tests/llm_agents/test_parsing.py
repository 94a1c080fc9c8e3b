"""parse_action: the paper's strict rule, the lenient rule, real completions, and totality on any string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_agents.agent.parsing import parse_action

TRAIN = ("action1", "action2")
TEST = ("action3", "action4")

# Completions the embedded SmolLM2-135M-Instruct really produced on the paper's IPD prompt (chat template, temperature
# 1, seeded), with the labels the prompt used, and what each rule makes of them.
# (text, labels, strict, lenient)
REAL_COMPLETIONS = [
    # 2 tokens, the default length for these labels
    ("The correct", TRAIN, None, None),
    ("Although I", TRAIN, None, None),
    ("Once,", TRAIN, None, None),
    ("Your answer", TRAIN, None, None),
    ("I'm", TRAIN, None, None),
    ("12", TRAIN, None, None),
    ("1.", TRAIN, None, None),
    ("Rew", TRAIN, None, None),
    ("What action", TEST, None, None),
    ("You can", TRAIN, None, None),  # the most frequent of 64 (benchmarks/generation.py, seed 0)
    ("I would", TRAIN, None, None),
    ("A:", TRAIN, None, None),
    ("action1", TRAIN, 0, 0),  # the only legal answer of those 64
    # 8 tokens
    ("You can choose either action2 or action", TRAIN, None, None),
    ("You can choose action action9.", TRAIN, None, None),
    ("Choose any of the available actions: act", TRAIN, None, None),
    ("You can choose action4.action4", TEST, None, None),
    ("http://huggingface.com/", TRAIN, None, None),
]


@pytest.mark.parametrize(("text", "labels", "strict", "lenient"), REAL_COMPLETIONS)
def test_real_completions(text, labels, strict, lenient):
    assert parse_action(text, labels) == strict
    assert parse_action(text, labels, mode="lenient") == lenient


@pytest.mark.parametrize(
    ("text", "strict", "lenient"),
    [
        ("action1", 0, 0),
        ("action2", 1, 1),
        ("  action2\n", 1, 1),  # surrounding whitespace is ignored (the paper's .strip())
        (" action1", 0, 0),
        ("Action1", None, None),  # case-sensitive
        ("action", None, None),
        ("action3", None, None),
        ("action12", None, None),  # a longer word is not the label
        ("action1_", None, None),
        ("action1.", None, 0),
        ("action2, because", None, 1),
        ("action1 or action2", None, 0),  # the first label-like word decides
        ("**action2**", None, 1),
        ('"action1"', None, 0),
        ("(action2)", None, 1),
        ("I choose action1", None, None),  # the first word is not a label
        ("choose action1", None, None),
        ("", None, None),
        ("   ", None, None),
    ],
)
def test_rule_table(text, strict, lenient):
    assert parse_action(text, TRAIN) == strict
    assert parse_action(text, TRAIN, mode="lenient") == lenient


def test_labels_that_prefix_each_other_and_labels_with_punctuation():
    assert parse_action("action10 now", ("action1", "action10"), mode="lenient") == 1
    assert parse_action("action1 now", ("action1", "action10"), mode="lenient") == 0
    assert parse_action("(A) is best", ("(A)", "(B)"), mode="lenient") == 0
    assert parse_action("C", ("C", "D")) == 0
    assert parse_action("Cooperate", ("C", "D"), mode="lenient") is None


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="parse mode"):
        parse_action("action1", TRAIN, mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="action_labels"):
        parse_action("action1", ("action1", "action1"))
    with pytest.raises(TypeError, match="str"):
        parse_action(None, TRAIN)  # type: ignore[arg-type]


@given(text=st.text(), mode=st.sampled_from(["strict", "lenient"]))
def test_total_on_any_string(text, mode):
    assert parse_action(text, TRAIN, mode=mode) in (None, 0, 1)


# Answers built from the labels, their near misses and random text: most hold a label, many are strictly legal.
ANSWER_PIECES = st.one_of(
    st.sampled_from([*TRAIN, *TRAIN, "Action1", "action12", " ", "\n", ".", "I choose ", "**", "or"]),
    st.text(max_size=4),
)


@given(pieces=st.lists(ANSWER_PIECES, min_size=1, max_size=6))
def test_strict_legal_implies_lenient_same(pieces):
    text = "".join(pieces)
    strict = parse_action(text, TRAIN)
    lenient = parse_action(text, TRAIN, mode="lenient")
    assert strict is None or lenient == strict
    if text.strip() in TRAIN:  # a bare label is legal under both rules
        assert strict == lenient == TRAIN.index(text.strip())


@given(label_index=st.sampled_from([0, 1]), left=st.text(" \t\n"), right=st.text(" \t\n"))
def test_a_label_with_whitespace_is_always_legal(label_index, left, right):
    assert parse_action(left + TRAIN[label_index] + right, TRAIN) == label_index


def test_package_exports_parse_action():
    import llm_agents

    assert llm_agents.parse_action is parse_action
