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


def table_readings(text: str, offset: int, rows: list[tuple[list[tuple[int, int]], list[str]]]) -> list[Reading]:
    """What the reader reads for `text` (at document offset `offset`) holding the table rows
    `rows` ((cells, names): each cell's document offsets, and the names of its table's columns):
    the text with those rows cut out, then each row alone with its cells named. A row whose cells
    and names do not pair up stays in the text as it is. Empty when no row pairs up."""
    readings, kept, cursor = [], [], 0
    for cells, names in sorted(rows):
        if not cells or len(cells) != len(names):
            continue
        cells = [(a - offset, b - offset) for a, b in cells]
        a, b = cells[0][0], cells[-1][1]
        if a < cursor or b > len(text):
            continue
        readings.append(_named_row(text, offset, cells, names))
        kept.append((cursor, a))
        cursor = b
    if not readings:
        return []
    kept.append((cursor, len(text)))
    rest = "".join(text[a:b] for a, b in kept)
    rest_origin = tuple(i for a, b in kept for i in range(offset + a, offset + b))
    return [(rest, rest_origin), *readings]


def _named_row(text: str, offset: int, cells: list[tuple[int, int]], names: list[str]) -> Reading:
    """The row whose `cells` (offsets into `text`) pair with `names`, as "name：key；key
    name：cell；…。"."""
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
