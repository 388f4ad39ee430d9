"""Table rows read one by one, each with its column names.

A table row on its own ("长河街道 | 1,460 | 38% | 6") does not say which number is which, and the
reader, which sees a passage as plain text, then answers "how many swap stations" with the row's
first number; read with the other rows, it also takes a neighbour row's cell (trained on prose,
it has no notion of rows). So a passage holding table rows is read as several texts: the passage
with its rows cut out, and each row alone, its cells named: "街道：长河街道；长河街道公共充电桩
（个）：1,460；长河街道快充桩占比：38%；…。" (measured on a three-row table: 6 of 6 look-ups right,
against 1-4 of 6 for the rows read together in any layout tried). The inserted characters are
marked, and a span is mapped back to the document only through the row's own characters
(`own_part`): the answer is still a verbatim part of the document.
"""
from __future__ import annotations

#: Between a column name and its cell, between cells, and after a row, in the text the reader reads.
_NAME_MARK, _CELL_MARK, _ROW_END = "：", "；", "。"

Reading = tuple[str, tuple[int, ...]]   # a text for the reader, and each character's document offset (-1: inserted)


def table_readings(text: str, offset: int, rows: list[tuple[int, int, list[str]]]) -> list[Reading]:
    """What the reader reads for `text` (at document offset `offset`) holding the table rows
    `rows` ((start, end, column names): document offsets and the names of its table's columns):
    the text with those rows cut out, then each row alone with its cells named. A row whose cells
    and names do not pair up stays in the text as it is. Empty when no row pairs up."""
    readings, kept, cursor = [], [], 0
    for start, end, names in sorted(rows):
        a, b = start - offset, end - offset
        if a < cursor or b > len(text):
            continue
        row = _named_row(text, offset, a, b, names)
        if row is None:
            continue
        readings.append(row)
        kept.append((cursor, a))
        cursor = b
    if not readings:
        return []
    kept.append((cursor, len(text)))
    rest = "".join(text[a:b] for a, b in kept)
    rest_origin = tuple(i for a, b in kept for i in range(offset + a, offset + b))
    return [(rest, rest_origin), *readings]


def _named_row(text: str, offset: int, start: int, end: int, names: list[str]) -> Reading | None:
    """The row `text[start:end]` as "name：key；key name：cell；…。", or None when its cells
    and `names` do not pair up."""
    cells = _cells(text, start, end)
    if len(cells) != len(names):
        return None
    key = text[cells[0][0]:cells[0][1]]
    out: list[str] = []
    origin: list[int] = []

    def insert(piece: str) -> None:
        out.append(piece)
        origin.extend([-1] * len(piece))

    for i, ((a, b), name) in enumerate(zip(cells, names)):
        if name:
            insert((key + name if i else name) + _NAME_MARK)
        out.append(text[a:b])
        origin.extend(range(offset + a, offset + b))
        insert(_ROW_END if i == len(cells) - 1 else _CELL_MARK)
    return "".join(out), tuple(origin)


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The cells of the row `text[start:end]` ("a | b | c", outer pipes optional) as offsets,
    spaces trimmed; an empty edge cell from an outer pipe is dropped."""
    bounds = [start - 1, *(i for i in range(start, end) if text[i] == "|"), end]
    cells = []
    for left, right in zip(bounds, bounds[1:]):
        a, b = left + 1, right
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        cells.append((a, b))
    if cells and cells[0][0] == cells[0][1] and text[start:start + 1] == "|":
        cells.pop(0)
    if cells and cells[-1][0] == cells[-1][1] and text[end - 1:end] == "|":
        cells.pop()
    return cells


def own_part(start: int, end: int, origin: tuple[int, ...]) -> tuple[int, int] | None:
    """The part of the span `[start, end)` of a text made here that is the document's own text:
    inserted characters at its edges dropped (the reader's "长河街道换电站（座）：6" is the
    document's "6"); None when inserted or cut-out characters sit inside it, or nothing is left.
    Its document offsets are then `origin[start]` and `origin[end - 1] + 1`."""
    while start < end and origin[start] < 0:
        start += 1
    while end > start and origin[end - 1] < 0:
        end -= 1
    if start >= end or origin[end - 1] - origin[start] != end - 1 - start:
        return None
    return start, end
