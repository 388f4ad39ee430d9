"""What every door accepts: the one place that checks a question and the per-question settings.

The CLI, the web page, the `/ask` endpoint and `Pipeline.ask` all call these functions, so a
question or a setting is refused the same way wherever it comes in, with a message that names
the field (`question`, `top_k`, `strictness`) and never a traceback.

- A question must be text (`str`, or UTF-8 `bytes`). Lone surrogates -- what undecodable bytes
  become in `sys.argv` (surrogateescape) or a JSON "\\ud800" -- are refused, since the text
  cannot be encoded, shown or searched. Terminal escape sequences (`ESC [31m`, `ESC ]0;title BEL`,
  their 8-bit C1 forms) are removed whole, so no `[31m` is left to change what is asked; then
  the remaining control characters (NUL, C1 controls) are removed; tabs and line breaks stay.
  Then it is stripped, and must be non-empty and at most `max_chars` characters long.
- `top_k` is a whole number in `TOP_K_RANGE`; `strictness` a finite number in
  `STRICTNESS_RANGE`. `bool` is not a number here, and neither is a numeric string; a number
  too large for a float (a 400-digit integer) is out of range, not an overflow.
- A request body (`parse_json`) is JSON nested at most `MAX_JSON_DEPTH` deep with numbers of at
  most `MAX_NUMBER_CHARS` characters: checked before or while parsing, so a 30,000-deep body or a
  5,000-digit number is a one-line refusal (`JSONProblem`), never a RecursionError.
"""
from __future__ import annotations

import json
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
# A whole ECMA-48 escape sequence: a control sequence (CSI: ESC [ or C1 0x9B, parameters,
# intermediates, a final byte), a control string (OSC ESC ], DCS ESC P, SOS, PM, APC, or their
# C1 forms) up to its terminator (BEL or ST) or the end of the text, or any other ESC sequence
# (intermediates and a final byte). Removed whole: deleting only the ESC would leave "[31m" or
# "]0;title" in the question and change what it asks.
ESCAPE_SEQUENCE = re.compile(
    "(?:\x1b\\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[\x20-\x2f]*[\x30-\x7e]?")
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
    try:
        text = repr(value)
    except ValueError:   # an int over Python's 4,300-digit limit for text
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
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
    question = _CONTROL.sub("", ESCAPE_SEQUENCE.sub("", question)).strip()
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
    try:
        number = float(value)
    except OverflowError:   # an int beyond a float's range (10**400): out of range like any other
        raise SettingError(field, f"must be {what} (got {shown(value)}).") from None
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


#: How deep a request body may nest (the API's fields are a flat object holding a list of strings).
MAX_JSON_DEPTH = 32
#: The longest number a request body may hold, in characters (Python's own limit is 4,300 digits).
MAX_NUMBER_CHARS = 100
# What the depth check looks at: brackets, and the quotes and backslashes that say whether a
# bracket is inside a string.
_DEPTH_TOKEN = re.compile(r'[\[\]{}"\\]')


class JSONProblem(ValueError):
    """A JSON text that is refused: not JSON, nested too deep, or a number too long. The message
    is one line."""


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON text nests objects/lists deeper than `limit` (checked before parsing, since
    the parser itself recurses and a 100,000-deep text would exhaust the stack). One linear pass;
    brackets inside strings do not count."""
    depth, in_string, skip = 0, False, -1
    for match in _DEPTH_TOKEN.finditer(text):
        pos, token = match.start(), match.group()
        if pos == skip:  # the character after a backslash inside a string
            continue
        if in_string:
            if token == "\\":
                skip = pos + 1
            elif token == '"':
                in_string = False
        elif token == '"':
            in_string = True
        elif token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def parse_json(data: bytes | str, what: str = "The body", max_depth: int = MAX_JSON_DEPTH,
               max_number_chars: int = MAX_NUMBER_CHARS):
    """`data` parsed as JSON, or `JSONProblem` saying in one line why not (`what` names it).

    Refused: bytes that are not UTF-8, text that is not JSON, nesting deeper than `max_depth`,
    numbers longer than `max_number_chars` characters, NaN and Infinity (not JSON).
    """
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONProblem(f"{what} is not valid UTF-8 (byte {exc.start + 1}).") from None
    if json_depth_exceeds(data, max_depth):
        raise JSONProblem(f"{what} nests deeper than {max_depth} levels.")

    def number(text: str) -> str:
        if len(text) > max_number_chars:
            raise JSONProblem(f"{what} holds a number {len(text):,} characters long; the limit is {max_number_chars}.")
        return text

    def constant(name: str):
        raise JSONProblem(f"{what} holds {name}, which is not a JSON value.")

    def finite(text: str) -> float:
        value = float(number(text))
        if not math.isfinite(value):   # 1e999
            raise JSONProblem(f"{what} holds the number {text}, which is out of range.")
        return value

    try:
        return json.loads(data, parse_int=lambda text: int(number(text)),
                          parse_float=finite, parse_constant=constant)
    except JSONProblem:
        raise
    except json.JSONDecodeError as exc:
        raise JSONProblem(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except (ValueError, RecursionError) as exc:   # anything else the parser refuses
        raise JSONProblem(f"{what} is not usable JSON ({type(exc).__name__}).") from None
