"""The command-line options of every command that loads a model (``play``, ``evaluate``, ``analyse``, ``train``), in
one group with one syntax, and the ``--set KEY=VALUE`` option of the commands that take settings.

Labels are written ``--labels C,D`` everywhere; the older ``--labels C D`` (two words) still works, with a
deprecation message. Building these options imports no torch, and ``check_model_options`` checks them before a
command loads torch (a mistake is reported at once, not after the imports).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from llm_agents.agent.config import EMBEDDED_MODEL
from llm_agents.agent.parsing import PARSE_MODES
from llm_agents.runs.folder import find_adapter
from matrix_games.core.actions import validate_labels
from matrix_games.core.validation import check_int

DTYPES = ("auto", "float32", "bfloat16", "float16")
QUANTIZATIONS = ("none", "4bit")


def add_model_options(
    parser: argparse.ArgumentParser,
    *,
    adapter: bool = True,
    labels_help: str = "the C and D labels, e.g. C,D",
) -> argparse._ArgumentGroup:
    """Add the model-and-labels group: ``--model``, ``--adapter`` (unless ``adapter=False``), ``--device``,
    ``--dtype``, ``--quantization``, ``--max-new-tokens``, ``--parse-mode`` and ``--labels``. Every default is None
    (the command's own default applies: a run's model and labels, the protocol's test labels...)."""
    group = parser.add_argument_group("model and labels")
    group.add_argument("--model", default=None, help=f"{EMBEDDED_MODEL} (embedded), a local folder or a hub id")
    if adapter:
        group.add_argument(
            "--adapter", default=None, help="a LoRA adapter folder, or a training run folder (its final adapter)"
        )
    group.add_argument("--device", default=None, help="auto, cpu, cuda or cuda:N [auto]")
    group.add_argument(
        "--dtype",
        choices=DTYPES,
        default=None,
        help="weight dtype; auto is bfloat16 on CUDA and on CPUs that run it fast, else float32 (float32 for exact "
        "results) [auto]",
    )
    group.add_argument(
        "--quantization", choices=QUANTIZATIONS, default=None, help="4bit: NF4 weights, as the paper (CUDA) [none]"
    )
    group.add_argument("--max-new-tokens", type=int, default=None, help="tokens per answer [from the labels]")
    group.add_argument("--parse-mode", choices=PARSE_MODES, default=None, help="answer parsing [strict]")
    group.add_argument("--labels", nargs="+", default=None, metavar="C,D", help=labels_help)
    return group


def parse_labels(given: str | Sequence[str] | None, flag: str = "--labels") -> tuple[str, str] | None:
    """``--labels C,D`` as ``("C", "D")``; the old two-word form ``--labels C D`` too, with a deprecation message.

    Example:
        >>> parse_labels(["action3,action4"])
        ('action3', 'action4')
    """
    if given is None:
        return None
    words = [given] if isinstance(given, str) else list(given)
    if len(words) == 2 and not any("," in word for word in words):
        print(f"llm-agents: {flag} C D is deprecated; write {flag} {words[0]},{words[1]}", file=sys.stderr)
        return words[0], words[1]
    labels = tuple(part.strip() for part in ",".join(words).split(",") if part.strip())
    if len(words) != 1 or len(labels) != 2:
        raise ValueError(f"{flag} takes two labels separated by a comma, e.g. {flag} action3,action4; got {given!r}.")
    return labels  # type: ignore[return-value]


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY=VALUE`` (repeatable, into ``args.settings``): a setting as a dotted key, read as YAML."""
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE", help=help_text)


def check_model_name(name: str) -> str:
    """``name`` if it can name a model: the embedded one, a folder that exists, or a hub id (``owner/name``); a path
    that is not there (``./models/x``, ``/abs/x``, ``a/b/c``) raises FileNotFoundError. The same rule as
    ``agent.models`` applies when it loads, checked here before torch is imported."""
    if name == EMBEDDED_MODEL or Path(name).expanduser().is_dir():
        return name
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise FileNotFoundError(
            f"Model folder {name!r} does not exist; give a model folder, a hub id such as "
            f"HuggingFaceTB/SmolLM2-135M-Instruct, or {EMBEDDED_MODEL} (the embedded model)."
        )
    return name


def check_model_options(args: argparse.Namespace) -> None:
    """Check the options ``add_model_options`` added, before anything heavy loads: the model folder, the adapter
    folder (``find_adapter``: a LoRA adapter or a training run holding one), the device (``ModelConfig``'s rule),
    ``--max-new-tokens`` and the labels. Raises ValueError or FileNotFoundError with the fix."""
    if args.model is not None:
        check_model_name(args.model)
    device = args.device or "auto"
    if not (device in ("auto", "cpu", "cuda") or (device.startswith("cuda:") and device[5:].isdigit())):
        raise ValueError(f"--device {device!r} is not a device; give auto, cpu, cuda or cuda:N, e.g. --device cpu.")
    if getattr(args, "adapter", None) is not None:
        find_adapter(args.adapter)
    if args.max_new_tokens is not None:
        check_int("--max-new-tokens", args.max_new_tokens, minimum=1)
    labels = parse_labels(args.labels)
    if labels is not None:
        try:
            validate_labels(labels)
        except ValueError as error:
            reason = str(error).split(";")[0]  # without its Python example
            raise ValueError(f"--labels {','.join(labels)}: {reason}; write e.g. --labels action1,action2.") from None
        args.labels = [",".join(labels)]  # parsed once: the command's own parse_labels repeats no deprecation message
