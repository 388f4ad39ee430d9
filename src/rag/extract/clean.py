"""Rules that clean extracted text, written for documents nobody tuned them for.

- `ideographs`: NFKC for Kangxi radicals, CJK radicals and CJK compatibility ideographs only
  (`个⼈` with U+2F08 reads `个人`); full-width punctuation and everything else stays as written.
- `strip_marks`: control characters PDFium and word processors leave in a text layer (U+0002 and
  U+FFFE mark a soft hyphen, U+00AD is one, U+FEFF a stray byte-order mark).
- `glue`: what joins two lines of one paragraph: nothing between CJK characters, nothing at a
  soft-hyphen mark or a hyphen that breaks a word (`inter-` + `national`), one space otherwise.
- `running_lines`: lines that repeat at the top or bottom of many pages (a running header or
  footer; digits may vary: `3 / 18`, `Page 3`), and `is_page_number` for a bare page number.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

#: Kangxi radicals, CJK radicals supplement, CJK compatibility ideographs (and their supplement).
_COMPAT = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
#: Soft-hyphen marks: PDFium's (U+0002, U+FFFE) and Unicode's own (U+00AD).
SOFT_HYPHENS = "\x02\ufffe\u00ad"
#: Control characters no text shows (tab and line ends aside), with the soft-hyphen marks and BOMs.
_MARKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\ufeff\ufffe\uffff\ud800-\udfff]")
_SENTENCE_FINAL = tuple("。！？；!?;…」』”）)") + (".", "：", ":")


def ideographs(text: str) -> str:
    """`text` with Kangxi radicals and CJK compatibility ideographs replaced by their NFKC form
    (the ordinary ideograph); nothing else is normalised."""
    return _COMPAT.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def strip_marks(text: str) -> str:
    """`text` without control characters (tabs and line ends kept) and soft-hyphen marks."""
    return _MARKS.sub("", text)


def is_cjk(ch: str) -> bool:
    """Whether `ch` is a CJK character or CJK/full-width punctuation (no space is written next to one)."""
    o = ord(ch)
    return (0x2e80 <= o <= 0x9fff or 0xf900 <= o <= 0xfaff or 0xfe30 <= o <= 0xfe4f or 0xff00 <= o <= 0xffef
            or 0x20000 <= o <= 0x3ffff or 0xac00 <= o <= 0xd7af)


def glue(before: str, after: str) -> tuple[str, str]:
    """Join the end of one line (`before`) to the start of the next (`after`) inside a paragraph:
    returns (`before` adjusted, separator). A soft-hyphen mark is dropped and the word rejoined; a
    hyphen between a letter and a lower-case letter is taken as a word broken at the line end;
    between CJK characters nothing is written; otherwise one space."""
    before = before.rstrip(" \t")
    after = after.lstrip(" \t")
    if not before or not after:
        return before, ""
    if before[-1] in SOFT_HYPHENS:
        return before.rstrip(SOFT_HYPHENS), ""
    if before[-1] == "-" and len(before) > 1 and before[-2].isalpha() and after[0].islower():
        return before[:-1], ""
    if is_cjk(before[-1]) or is_cjk(after[0]):
        return before, ""
    return before, " "


def ends_sentence(line: str) -> bool:
    """Whether a line ends a sentence (or a clause that introduces a list)."""
    return line.rstrip().endswith(_SENTENCE_FINAL)


#: A bare page number: `12`, `- 12 -`, `— 12 —`, `[12]`, `xii`, `12 / 30`, `第 12 页`, `Page 12`,
#: `Page 12 of 30`, `p. 12`.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—~·•\[(（]\s*)?"
    r"(?:(?:page|p\.|pp\.|seite|página)\s*)?"
    r"(?:\d{1,4}|[ivxlcdm]{1,7}|第\s*[\d一二三四五六七八九十百零〇]+\s*页)"
    r"(?:\s*(?:/|of|共)\s*\d{1,4}\s*页?)?"
    r"(?:\s*[-–—~·•\])）])?\s*$", re.IGNORECASE)


def is_page_number(line: str) -> bool:
    """Whether `line` is only a page number in one of the common forms."""
    return bool(_PAGE_NUMBER.match(line)) and line.strip() != ""


def line_key(line: str) -> str:
    """A line as compared across pages: digits (page numbers, dates) count as one, white space not at all."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line)).lower()


#: How many lines from the top and the bottom of a page may be a running header or footer.
EDGE_LINES = 3


def running_lines(pages: list[list[str]], edge: int = EDGE_LINES) -> set[str]:
    """Which line keys (`line_key`, perhaps with the font size added by the caller) are running
    headers and footers: keys among the first or last `edge` lines of a page (`pages`: each page's
    keys, top to bottom) that recur in that position on at least 3 pages (2 when there are 2 or
    3), the way a title, a chapter name, a date or `3 / 18` is repeated by a page layout."""
    counts: Counter[str] = Counter()
    for keys in pages:
        edges = set(keys[:edge] + keys[-edge:])
        counts.update(k for k in edges if k and not k.startswith("#|") and k != "#")
    need = 2 if len(pages) <= 3 else 3
    return {key for key, n in counts.items() if n >= need}
