"""What each token adds to an answer's text, and which next tokens keep an unfinished answer open.

The exact analysis (``exact.py``) walks the tree of token sequences a sampler can draw, expanding only answers that
may still parse as a label. Deciding that for all 49,152 next tokens of SmolLM2 at every node needs each token's
text without calling the tokenizer 49,152 times. Byte-level BPE (GPT-2, SmolLM2, Llama 3, Qwen) and SentencePiece
with byte fallback (Gemma, Llama 2, Mistral) decode a sequence by joining its tokens' bytes and decoding them as
UTF-8 (a special token adds nothing when special tokens are skipped, as sampling decodes). ``TokenTexts.of`` reads
those bytes from the tokenizer and checks them against ``tokenizer.decode`` (every token alone and a few hundred
random sequences, partial UTF-8 bytes and special tokens included); a tokenizer that fails the check, or that no
rule here covers, has no ``TokenTexts`` and the walk falls back to decoding every child (small vocabularies only).

A text whose bytes end inside a UTF-8 character (a token holding the first bytes of a Chinese character) is kept as
its decoded part and its *tail*: the walk treats the tail as any character its bytes can still become (or the
replacement character, if the next bytes break it), judged by one representative per class that the parse rules
tell apart: whitespace, word characters, punctuation, and each character of the labels.

Nothing here is specific to one model family; the classification is cached by (answer so far, tail, last step).
"""

from __future__ import annotations

import codecs
import functools
import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from llm_agents.agent.parsing import OPEN, Outlook, ParseMode, answer_outlook, parse_checked

REPLACEMENT = "\ufffd"
REPRESENTATIVES = 4
"""Characters kept per class (word, punctuation) among those a UTF-8 tail can become."""


def gpt2_byte_table() -> dict[str, int]:
    """GPT-2's byte-level alphabet read back: the printable character each byte is written as -> the byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shifted, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            shifted.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, shifted, strict=True)}


_BYTE_FALLBACK = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_ALL_PUNCTUATION = re.compile(r"[^\w\s]+")


def split_utf8(data: bytes) -> tuple[str, bytes]:
    """``data`` decoded as far as it is complete (invalid bytes replaced), and the bytes of an unfinished
    character at its end (empty when there is none)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = decoder.decode(data, final=False)
    return text, decoder.getstate()[0]


@functools.lru_cache(maxsize=8192)
def tail_completions(tail: bytes, label_characters: frozenset[str]) -> tuple[str, ...]:
    """Characters standing for every way ``tail`` (an unfinished UTF-8 character) can go on: each label character
    and each whitespace character it can become, up to ``REPRESENTATIVES`` word characters and as many punctuation
    characters (none of them in a label), and the replacement character (the next bytes break it)."""
    chosen = {REPLACEMENT}
    chosen.update(ch for ch in (*label_characters, *_whitespace()) if ch.encode("utf-8").startswith(tail))
    found: dict[str, list[str]] = {"word": [], "punctuation": []}
    low, high = _code_point_range(tail)
    for code in range(low, high + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        character = chr(code)
        kind = _character_class(character)
        if kind == "space" or character in label_characters or not character.encode("utf-8").startswith(tail):
            continue
        if len(found[kind]) < REPRESENTATIVES:
            found[kind].append(character)
        elif all(len(characters) == REPRESENTATIVES for characters in found.values()):
            break
    for characters in found.values():
        chosen.update(characters)
    return tuple(sorted(chosen))


def _code_point_range(tail: bytes) -> tuple[int, int]:
    """The code points whose UTF-8 encoding may start with ``tail`` (a superset: callers check each)."""
    length = 2 if tail[0] < 0xE0 else 3 if tail[0] < 0xF0 else 4
    value = tail[0] & (0xFF >> (length + 1))
    for byte in tail[1:]:
        value = (value << 6) | (byte & 0x3F)
    missing = 6 * (length - len(tail))
    return value << missing, min((value << missing) | ((1 << missing) - 1), 0x10FFFF)


@functools.cache
def _whitespace() -> tuple[str, ...]:
    """Every whitespace character (``str.isspace``), the class ``strip`` and ``\\s`` remove."""
    return tuple(chr(code) for code in range(0x110000) if chr(code).isspace())


def _character_class(character: str) -> str:
    if character.isspace():
        return "space"
    return "word" if re.match(r"\w", character) else "punctuation"


@dataclass(frozen=True)
class Children:
    """The next tokens of one answer node, by where they lead (token ids; every other token ends illegal)."""

    open: np.ndarray
    c: np.ndarray
    d: np.ndarray


class TokenTexts:
    """Each token's bytes, grouped for classifying all next tokens of a node at once (see the module docstring).

    Build with ``TokenTexts.of(tokenizer)`` (None when the tokenizer's decoding is not a join of token bytes).
    """

    def __init__(self, token_bytes: Sequence[bytes]) -> None:
        self.token_bytes = list(token_bytes)
        self.pieces: list[str | None] = []
        by_first: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        dirty, empty = [], []
        for token, data in enumerate(self.token_bytes):
            if not data:
                empty.append(token)
                self.pieces.append("")
                continue
            try:
                piece = data.decode("utf-8")
            except UnicodeDecodeError:
                dirty.append(token)
                self.pieces.append(None)
                continue
            self.pieces.append(piece)
            by_first[piece[0]][piece[:2]].append(token)
        self.by_first = {
            first: {start: np.array(ids, dtype=np.int64) for start, ids in groups.items()}
            for first, groups in by_first.items()
        }
        """Whole-UTF-8 tokens by their first character, then by their first two (a group whose opening already
        settles the answer is routed at once: most of a vocabulary is settled by one or two characters)."""
        self.dirty = np.array(dirty, dtype=np.int64)
        self.empty = np.array(empty, dtype=np.int64)

    @classmethod
    def of(cls, tokenizer) -> TokenTexts | None:
        """The token texts of ``tokenizer``, or None if its decoding is not a join of token bytes (checked)."""
        key = id(getattr(tokenizer, "backend_tokenizer", tokenizer))
        if key not in _CACHE:
            _CACHE[key] = (tokenizer, _build(tokenizer))
        return _CACHE[key][1]

    def text(self, tokens: Sequence[int]) -> str:
        """The decoded text of ``tokens`` (special tokens skipped), as the sampler's ``tokenizer.decode`` gives it."""
        return b"".join(self.token_bytes[t] for t in tokens).decode("utf-8", "replace")


_CACHE: dict[int, tuple[object, TokenTexts | None]] = {}
"""Token texts by tokenizer (the tokenizer is kept alive with its entry so its id is never reused)."""


def _build(tokenizer) -> TokenTexts | None:
    token_bytes = _read_token_bytes(tokenizer)
    if token_bytes is None:
        return None
    texts = TokenTexts(token_bytes)
    return texts if _decodes_as_joined_bytes(tokenizer, texts) else None


def _read_token_bytes(tokenizer) -> list[bytes] | None:
    """Each token's bytes by the rules of its decoder (ByteLevel, or SentencePiece's ``▁`` and ``<0xNN>``)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    spec = json.loads(backend.to_str())
    decoder = spec.get("decoder") or {}
    kinds = {step.get("type") for step in decoder.get("decoders", [decoder])}
    special = {entry["id"] for entry in spec.get("added_tokens", []) if entry.get("special")}
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    if "ByteLevel" in kinds:
        table = gpt2_byte_table()

        def to_bytes(token: str) -> bytes:
            if all(ch in table for ch in token):
                return bytes(table[ch] for ch in token)
            return token.encode("utf-8")

    elif "ByteFallback" in kinds or ("Replace" in kinds and "Fuse" in kinds):

        def to_bytes(token: str) -> bytes:
            match = _BYTE_FALLBACK.fullmatch(token)
            return bytes([int(match.group(1), 16)]) if match else token.replace("\u2581", " ").encode("utf-8")

    else:
        return None
    return [b"" if index in special or token is None else to_bytes(token) for index, token in enumerate(tokens)]


def _decodes_as_joined_bytes(tokenizer, texts: TokenTexts, samples: int = 400) -> bool:
    """True when ``tokenizer.decode(ids, skip_special_tokens=True)`` equals the joined bytes decoded, for every token
    alone and for random sequences (up to one leading space, which a SentencePiece decoder strips and every parse
    rule ignores)."""

    def same(ids: list[int]) -> bool:
        decoded, joined = tokenizer.decode(ids, skip_special_tokens=True), texts.text(ids)
        return decoded == joined or (joined.startswith(" ") and decoded == joined[1:])

    vocabulary = len(texts.token_bytes)
    if not all(same([token]) for token in range(vocabulary)):
        return False
    rng = random.Random(0)
    pool = [*texts.dirty.tolist(), *texts.empty.tolist()]
    for _ in range(samples):
        length = rng.randint(2, 5)
        ids = [rng.choice(pool) if pool and rng.random() < 0.4 else rng.randrange(vocabulary) for _ in range(length)]
        if not same(ids):
            return False
    return True


class ChildClassifier:
    """Where each next token leads from an answer node, for one label pair and parse mode (cached by node).

    ``children(node_bytes, last)`` returns the tokens that keep the answer open (only before the last step), those
    after which it is or will surely be the C label, and the D label; all others make it illegal. Tokens in
    ``stop`` (the EOS ids when sampling stops there) are left out: the walk scores them as the end of the answer.
    ``can_finish(node_bytes, remaining)`` says whether the answer can still become a label in the tokens left.
    """

    def __init__(self, texts: TokenTexts, labels: tuple[str, str], mode: ParseMode, stop: Sequence[int] = ()) -> None:
        self.texts, self.labels, self.mode = texts, labels, mode
        self.stop = np.array(sorted(stop), dtype=np.int64)
        self.label_characters = frozenset("".join(labels))
        self._cache: dict[tuple[str, bytes, bool], Children] = {}
        self._finishes: dict[tuple[str, bytes, int], bool] = {}
        self._whole: dict[tuple[str, bool], dict[Outlook, list[np.ndarray]]] = {}

    def outlook(self, data: bytes, last: bool) -> Outlook:
        """The outlook of an answer whose bytes are ``data``: its parse when ``last`` (nothing more comes), else
        ``answer_outlook`` of its text, merged over what an unfinished last character can become."""
        if last:
            return parse_checked(data.decode("utf-8", "replace"), self.labels, self.mode)
        text, tail = split_utf8(data)
        if not tail:
            return answer_outlook(text, self.labels, self.mode)
        outlooks = {answer_outlook(text + ch, self.labels, self.mode) for ch in self._completions(tail)}
        return outlooks.pop() if len(outlooks) == 1 else OPEN

    def children(self, data: bytes, last: bool) -> Children:
        text, tail = split_utf8(data)
        key = (self._answer_key(text), tail, last)
        if key not in self._cache:
            self._cache[key] = self._classify(data, text, tail, last)
        return self._cache[key]

    def can_finish(self, data: bytes, remaining: int) -> bool:
        """Whether some answer of at most ``remaining`` more tokens from here parses as a label (by text alone: a
        node that cannot finish in time is illegal whatever the model says, so the walk never runs it)."""
        text, tail = split_utf8(data)
        key = (self._answer_key(text), tail, remaining)
        if key not in self._finishes:
            self._finishes[key] = self._can_finish(data, remaining)
        return self._finishes[key]

    def _answer_key(self, text: str) -> str:
        """What the parse of ``text + more`` depends on: the text without leading whitespace, and in lenient mode
        only the fact that it is punctuation when it is nothing else (and none of it is in a label: all such
        openings are stripped alike, so "(" and "**" lead the same way)."""
        answer = text.lstrip()
        if self.mode == "lenient" and _ALL_PUNCTUATION.fullmatch(answer) and not set(answer) & self.label_characters:
            return "\0punctuation"
        return answer

    def _can_finish(self, data: bytes, remaining: int) -> bool:
        last = remaining == 1
        if any(self.outlook(data + self.texts.token_bytes[token], last=True) is not None for token in self.stop):
            return True  # a stop token now ends a legal answer
        children = self.children(data, last)
        if children.c.size or children.d.size:
            return True
        return not last and any(
            self.can_finish(data + self.texts.token_bytes[token], remaining - 1) for token in children.open.tolist()
        )

    def _classify(self, data: bytes, text: str, tail: bytes, last: bool) -> Children:
        # Tokens whose bytes are a whole UTF-8 text: the answer becomes ``base + piece`` (an unfinished character
        # before them is broken into one replacement character).
        base = text + (REPLACEMENT if tail else "")
        routes = {outlook: list(ids) for outlook, ids in self._whole_tokens(base, last).items()}
        routes.setdefault(OPEN, [])
        routes.setdefault(0, [])
        routes.setdefault(1, [])
        # Tokens that add nothing (special tokens) leave the answer as it is; tokens with partial or invalid UTF-8
        # are joined byte by byte.
        routes.setdefault(self.outlook(data, last), []).append(self.texts.empty)
        for token in self.texts.dirty.tolist():
            routes.setdefault(self.outlook(data + self.texts.token_bytes[token], last), []).append(np.array([token]))

        def ids(outlook: Outlook) -> np.ndarray:
            found = np.concatenate(routes[outlook]) if routes[outlook] else np.zeros(0, dtype=np.int64)
            return np.setdiff1d(found, self.stop, assume_unique=False)

        return Children(open=ids(OPEN), c=ids(0), d=ids(1))

    def _whole_tokens(self, base: str, last: bool) -> dict[Outlook, list[np.ndarray]]:
        """Where each whole-UTF-8 token leads after ``base`` (cached: it depends on ``base`` only through its key)."""
        key = (self._answer_key(base), last)
        if key not in self._whole:
            self._whole[key] = self._route_whole_tokens(base, last)
        return self._whole[key]

    def _route_whole_tokens(self, base: str, last: bool) -> dict[Outlook, list[np.ndarray]]:
        routes: dict[Outlook, list[np.ndarray]] = defaultdict(list)
        for first, groups in self.texts.by_first.items():
            probe = self._text_outlook(base + first, last=False)
            if probe != OPEN:  # the whole group: nothing after ``first`` changes it
                routes[probe].extend(groups.values())
                continue
            for start, tokens in groups.items():
                probe = self._text_outlook(base + start, last=False) if len(start) > 1 else OPEN
                if probe != OPEN:
                    routes[probe].append(tokens)
                    continue
                single: dict[Outlook, list[int]] = defaultdict(list)
                for token in tokens.tolist():
                    single[self._text_outlook(base + self.texts.pieces[token], last)].append(token)
                for outlook, found in single.items():
                    routes[outlook].append(np.array(found, dtype=np.int64))
        return dict(routes)

    def _text_outlook(self, text: str, last: bool) -> Outlook:
        if last:
            return parse_checked(text, self.labels, self.mode)
        return answer_outlook(text, self.labels, self.mode)

    def _completions(self, tail: bytes) -> tuple[str, ...]:
        return tail_completions(tail, self.label_characters)
