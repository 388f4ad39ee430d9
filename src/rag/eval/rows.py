"""The rows of an evaluation file (.jsonl or .csv, or a folder of them), each parsed and checked on
its own: a bad row is reported with its line and reason and skipped, never a crash.

A row is bad when it cannot be read as text (not UTF-8, a lone surrogate), is too large or too
deeply nested, holds a number Python cannot hold as text, or lacks a usable question/answer.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import EvalSettings
from ..validation import json_depth_exceeds

#: The row limits of the default settings (a frozen dataclass, safe to share).
DEFAULT_LIMITS = EvalSettings()


class EvalUsageError(Exception):
    """The evaluation cannot start (unreadable file, unknown metric or column)."""


@dataclass(frozen=True)
class EvalRow:
    """One question of the file. `expected` is None when the corpus should not answer it."""

    line: int
    id: str
    question: str
    expected: str | None
    #: Every column of the row as read (including id, question and answer).
    fields: dict = field(default_factory=dict)
    #: The file the row comes from (its name; "" when read from bytes).
    source: str = ""
    #: For a follow-up row (`follows`), the lines of the earlier rows of its conversation, oldest first.
    follows: tuple[int, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.expected is not None

    @property
    def key(self) -> tuple[str, int]:
        """Identifies the row across a folder of files."""
        return self.source, self.line


@dataclass(frozen=True)
class BadRow:
    """A row that was skipped, with its 1-based physical line number and the reason."""

    line: int
    reason: str


class _RowProblem(ValueError):
    """Why one row cannot be used (raised inside the JSON parser's hooks and the checks)."""


_SURROGATE = re.compile(r"[\ud800-\udfff]")
def _number_hooks(limits: EvalSettings) -> dict:
    """json.loads hooks that refuse numbers too long to be text and NaN/Infinity (not JSON)."""

    def check(text: str) -> str:
        if len(text) > limits.max_number_chars:
            raise _RowProblem(f"a number {len(text)} characters long (the limit is {limits.max_number_chars})")
        return text

    def as_float(text: str) -> float:
        value = float(check(text))
        if not math.isfinite(value):
            raise _RowProblem(f"the number {text} is out of range")
        return value

    def constant(name: str):
        raise _RowProblem(f"{name} is not a JSON value")

    return {"parse_int": lambda text: int(check(text)), "parse_float": as_float, "parse_constant": constant}


def _check_text(value, where: str = "") -> None:
    """Raise `_RowProblem` if any string of `value` (keys too) holds a lone surrogate: such text
    cannot be written as UTF-8, so it would crash every output later."""
    if isinstance(value, str):
        match = _SURROGATE.search(value)
        if match:
            raise _RowProblem(f"a lone surrogate (\\u{ord(match.group()):04x}) in {where or 'a value'}: "
                              "not valid Unicode text")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"a field name of {where or 'the row'}")
            _check_text(item, repr(key) if not where else where)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)


def _scalar_text(value) -> str | None:
    """A JSON scalar as text (None for null); raises ValueError for lists and objects."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(type(value).__name__)


def make_row(fields: dict, line: int, source: str = "") -> EvalRow | BadRow:
    """Validate one row's columns: a non-empty `question` and an `answer` column are required."""
    try:
        _check_text(fields)
    except _RowProblem as exc:
        return BadRow(line, str(exc))
    try:
        question = (_scalar_text(fields.get("question")) or "").strip()
    except ValueError as exc:
        return BadRow(line, f"the question must be text, not a JSON {exc}")
    if not question:
        return BadRow(line, "no question" if "question" not in fields else "empty question")
    if "answer" not in fields:
        return BadRow(line, "no 'answer' field (use null or an empty string when the corpus does not answer it)")
    try:
        expected = (_scalar_text(fields["answer"]) or "").strip() or None
    except ValueError as exc:
        return BadRow(line, f"the answer must be text or null, not a JSON {exc}")
    try:
        row_id = (_scalar_text(fields.get("id")) or "").strip()
    except ValueError as exc:   # an object or a list cannot name a row (nor be followed)
        return BadRow(line, f"the id must be text or a number, not a JSON {exc}")
    return EvalRow(line, row_id or f"line-{line}", question, expected, dict(fields), source)


def link_follow_ups(items: list[EvalRow | BadRow]) -> list[EvalRow | BadRow]:
    """Resolve `follows` (the id of an earlier row of the same file) into each row's chain of
    earlier lines; a row following a missing, later or bad row becomes a bad row itself, and so
    does a row repeating an earlier row's id (results, reports and `follows` name rows by id)."""
    by_id: dict[str, EvalRow] = {}
    linked: list[EvalRow | BadRow] = []
    for item in items:
        if isinstance(item, EvalRow) and item.id in by_id:
            linked.append(BadRow(item.line, f"the id {item.id[:80]!r} is already used by line {by_id[item.id].line}"))
            continue
        if isinstance(item, EvalRow):
            target = item.fields.get("follows")
            if target not in (None, ""):
                try:
                    target_id = (_scalar_text(target) or "").strip()
                except ValueError:
                    target_id = ""
                parent = by_id.get(target_id)
                if parent is None:
                    linked.append(BadRow(item.line, f"'follows': {json.dumps(target, ensure_ascii=False)[:80]} "
                                                    "is not the id of an earlier good row of this file"))
                    continue
                item = EvalRow(item.line, item.id, item.question, item.expected, item.fields, item.source,
                               parent.follows + (parent.line,))
            by_id[item.id] = item
        linked.append(item)
    return linked


def _split(items: list[EvalRow | BadRow]) -> tuple[list[EvalRow], list[BadRow]]:
    items = link_follow_ups(items)
    return [i for i in items if isinstance(i, EvalRow)], [i for i in items if isinstance(i, BadRow)]


def parse_jsonl_line(raw: bytes, number: int, limits: EvalSettings = DEFAULT_LIMITS, source: str = "") -> EvalRow | BadRow:
    """One JSONL line (without its line break) as a row, or the reason it is bad."""
    if len(raw) > limits.max_row_bytes:
        return BadRow(number, f"the line is {len(raw):,} bytes long (the limit is {limits.max_row_bytes:,})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRow(number, f"not valid UTF-8 (byte {exc.start + 1} of the line)")
    if json_depth_exceeds(text, limits.max_row_depth):
        return BadRow(number, f"JSON nested deeper than {limits.max_row_depth} levels")
    try:
        obj = json.loads(text, **_number_hooks(limits))
    except json.JSONDecodeError as exc:
        return BadRow(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
    except _RowProblem as exc:
        return BadRow(number, str(exc))
    except (ValueError, RecursionError) as exc:  # anything else the parser refuses
        return BadRow(number, f"not usable JSON ({type(exc).__name__}: {str(exc)[:120]})")
    if not isinstance(obj, dict):
        return BadRow(number, f"not a JSON object (a JSON {type(obj).__name__})")
    return make_row(obj, number, source)


#: Byte order marks of the encodings a file is most often saved in by mistake (UTF-32 before UTF-16:
#: UTF-32-LE's mark begins with UTF-16-LE's).
_OTHER_ENCODINGS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def other_encoding(data: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when `data` is plainly text in one of them (its byte order mark, or
    NUL bytes between ASCII ones at the start, as UTF-16 without a mark has), else None."""
    for mark, name in _OTHER_ENCODINGS:
        if data.startswith(mark):
            return name
    head = data[:400]
    if len(head) >= 8 and head.count(0) * 4 >= len(head):   # text of any encoding but UTF-16/32 has no NULs
        return "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
    return None


def _refuse_other_encoding(data: bytes, name: str) -> None:
    encoding = other_encoding(data)
    if encoding:
        raise EvalUsageError(f"{name}: a {encoding} file, not UTF-8; save it as UTF-8 and try again")


def read_jsonl(data: bytes, limits: EvalSettings = DEFAULT_LIMITS, source: str = "") -> tuple[list[EvalRow], list[BadRow]]:
    """Rows of a JSONL file, each line decoded and parsed on its own so one bad line is reported and skipped.

    Raises `EvalUsageError` for a UTF-16 or UTF-32 file (every line would be "not valid UTF-8")."""
    _refuse_other_encoding(data, source or "file")
    items: list[EvalRow | BadRow] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.rstrip(b"\r")
        if raw.strip():
            items.append(parse_jsonl_line(raw, number, limits, source))
    return _split(items)


def read_csv(data: bytes, name: str = "file", limits: EvalSettings = DEFAULT_LIMITS,
             source: str = "") -> tuple[list[EvalRow], list[BadRow]]:
    """Rows of a CSV file with a header line, UTF-8 (a BOM is allowed). A record that is not valid
    UTF-8 is a bad row; a file none of whose records is UTF-8 is another encoding altogether.

    Raises `EvalUsageError` for such a file, or when the header lacks `question` or `answer`.
    """
    _refuse_other_encoding(data, name)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    # Undecodable bytes become lone surrogates (U+DC80..U+DCFF), found again per record below.
    reader = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""))
    header: list[str] | None = None
    items: list[EvalRow | BadRow] = []
    records = undecodable = 0
    first_bad_line = 0
    while True:
        start = reader.line_num + 1  # the physical line where the next record begins
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            items.append(BadRow(start, f"unreadable CSV record ({exc})"))
            if reader.line_num < start:  # nothing consumed: stop rather than loop forever
                break
            continue
        if not any(cell.strip() for cell in record):
            continue
        if any(_SURROGATE.search(cell) for cell in record):
            first_bad_line = first_bad_line or start
            if header is None:
                break
            records += 1
            undecodable += 1
            items.append(BadRow(start, "not valid UTF-8"))
            continue
        if header is None:
            header = [cell.strip() for cell in record]
            missing = [c for c in ("question", "answer") if c not in header]
            if missing:
                raise EvalUsageError(f"{name}: the header line has no {' or '.join(repr(m) for m in missing)} "
                                     f"column (columns: {', '.join(header)})")
            continue
        records += 1
        if sum(len(cell) for cell in record) > limits.max_row_bytes:
            items.append(BadRow(start, f"the record is longer than {limits.max_row_bytes:,} characters"))
            continue
        if len(record) != len(header):
            items.append(BadRow(start, f"{len(record)} fields where the header has {len(header)} "
                                       "(a comma inside an unquoted value?)"))
            continue
        items.append(make_row(dict(zip(header, record)), start, source))
    if first_bad_line and (header is None or undecodable == records):
        raise EvalUsageError(f"{name}: not a UTF-8 file (first bad byte on line {first_bad_line}); "
                             "save it as UTF-8 (\"CSV UTF-8\" in spreadsheet programs) and try again")
    if header is None:
        raise EvalUsageError(f"{name}: empty file, no header line")
    return _split(items)


def load_rows(path: Path, limits: EvalSettings = DEFAULT_LIMITS) -> tuple[list[EvalRow], list[BadRow]]:
    """Read a .jsonl or .csv file (chosen by extension), or every such file of a folder (an
    evaluation suite organised by document): the good rows and the skipped ones.

    Raises `EvalUsageError` for a missing file, an unknown extension, or a CSV file that is
    unusable as a whole.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".csv"))
        if not files:
            raise EvalUsageError(f"{path}: no .jsonl or .csv files in this folder")
        rows, bad = [], []
        for file in files:
            more, more_bad = load_rows(file, limits)
            rows += more
            bad += [BadRow(b.line, f"{file.name}: {b.reason}") for b in more_bad]
        return rows, bad
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise EvalUsageError(f"{path}: unknown file type {suffix or '(none)'}; use .jsonl or .csv")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvalUsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if suffix == ".jsonl":
        return read_jsonl(data, limits, path.name)
    return read_csv(data, str(path), limits, path.name)


def group_value(row: EvalRow, column: str) -> str:
    """The row's value of `column` as a group label (NO_GROUP when missing, null or empty)."""
    try:
        value = _scalar_text(row.fields.get(column))
    except ValueError:
        value = json.dumps(row.fields.get(column), ensure_ascii=False)
    return value.strip() if value and value.strip() else NO_GROUP


#: Group label for rows whose --by column is missing, null or empty.
NO_GROUP = "(none)"
#: The extra group holding every follow-up row (a row with `follows`).
FOLLOW_UP_GROUP = "follow-up"
