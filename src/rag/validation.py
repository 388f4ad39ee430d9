"""What every door accepts: the one place that checks a question and the per-question settings.

The CLI, the web page, the `/ask` endpoint and `Pipeline.ask` all call these functions, so a
question or a setting is refused the same way wherever it comes in, with a message that names
the field (`question`, `top_k`, `strictness`) and never a traceback.

- A question must be text (`str`, or UTF-8 `bytes`). Lone surrogates -- what undecodable bytes
  become in `sys.argv` (surrogateescape) or a JSON "\\ud800" -- are refused, since the text
  cannot be encoded, shown or searched. Control characters (NUL, escape, C1 controls) are
  removed; tabs and line breaks stay. Then it is stripped, and must be non-empty and at most
  `max_chars` characters long.
- `top_k` is a whole number in `TOP_K_RANGE`; `strictness` a finite number in
  `STRICTNESS_RANGE`. `bool` is not a number here, and neither is a numeric string.
"""
from __future__ import annotations

import math
import numbers
import re

#: The passages a question may consider: more than 20 only slows the answer down.
TOP_K_RANGE = (1, 20)
#: Relevance lies in [0, 1], so a strictness outside it would answer everything or nothing.
STRICTNESS_RANGE = (0.0, 1.0)

# Unicode category Cc except tab, line feed and carriage return. A regex rather than a loop
# over characters: a hostile question may be megabytes long.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: How much of a refused value a message repeats.
_SHOWN_CHARS = 40


class QuestionError(ValueError):
    """The question cannot be asked. `reason` is "empty", "too_long" (with `length` and
    `limit`), "type" (not text) or "encoding" (a lone surrogate / undecodable byte)."""

    field = "question"

    def __init__(self, message: str, reason: str, length: int = 0, limit: int = 0):
        super().__init__(message)
        self.reason, self.length, self.limit = reason, length, limit


class SettingError(ValueError):
    """A setting of the wrong type or out of range; `field` names it (e.g. "top_k") and
    `message` says what is wrong with it. `str(error)` is "field: message"."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def shown(value) -> str:
    """`repr(value)`, cut short, for a message about a refused value."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def check_question(question, max_chars: int) -> str:
    """The question as it will be asked: control characters removed, stripped.

    Raises `QuestionError` when it is not text, holds a lone surrogate (undecodable input), is
    empty, or is longer than `max_chars` characters. `None` counts as empty.
    """
    if question is None:
        question = ""
    if isinstance(question, (bytes, bytearray)):
        try:
            question = bytes(question).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuestionError(f"The question is not valid UTF-8 text (byte {exc.start + 1} is "
                                f"{bytes(question)[exc.start:exc.start + 1]!r}).", "encoding") from None
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.", "type")
    bad = _SURROGATE.search(question)
    if bad:
        raise QuestionError(
            f"The question is not valid text: it holds an undecodable byte or a lone surrogate "
            f"(U+{ord(bad.group()):04X} at character {bad.start() + 1}). Check the terminal's or "
            "the client's encoding (UTF-8).", "encoding")
    question = _CONTROL.sub("", question).strip()
    if not question:
        raise QuestionError("The question is empty: please type a question.", "empty")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question)} characters long; the limit is {max_chars}.",
                            "too_long", len(question), max_chars)
    return question


def _number(value, field: str, what: str) -> float:
    """`value` as a float if it is a real number (not a bool, not a string), else SettingError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingError(field, f"must be {what} (got {shown(value)}).")
    number = float(value)
    if not math.isfinite(number):
        raise SettingError(field, f"must be {what} (got {shown(value)}).")
    return number


def check_top_k(value) -> int:
    """How many passages to consider: a whole number in `TOP_K_RANGE` (3.0 counts as 3).

    Raises `SettingError` with field "top_k" otherwise.
    """
    low, high = TOP_K_RANGE
    what = f"a whole number from {low} to {high}"
    number = _number(value, "top_k", what)
    if number != int(number) or not low <= number <= high:
        raise SettingError("top_k", f"must be {what} (got {shown(value)}).")
    return int(number)


def check_strictness(value) -> float:
    """Strictness: a finite number in `STRICTNESS_RANGE`. Raises `SettingError` ("strictness")."""
    low, high = STRICTNESS_RANGE
    what = f"a number from {low:g} to {high:g}"
    number = _number(value, "strictness", what)
    if not low <= number <= high:
        raise SettingError("strictness", f"must be {what} (got {shown(value)}).")
    return number
