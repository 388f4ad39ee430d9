"""Text files in any common encoding: UTF-8 first, then a byte-order mark, then detection.

A file that decodes as UTF-8 is UTF-8 (the overwhelmingly common case, and the one detection
gets wrong most easily on short files). A UTF-16/32 byte-order mark says what it is. Otherwise
`charset-normalizer` (MIT) picks the encoding whose decoding reads most like language: GB18030
and GBK (a Windows editor's "ANSI" in China), Big5, Shift_JIS, UTF-16 without a mark, the
Latin code pages. GB2312 and GBK are read as GB18030, their superset, so a character outside
GB2312 in a "GB2312" file still decodes. `decode` returns the text and the encoding used, which
`rag show --json` reports and the index build names when it is not UTF-8.
"""
from __future__ import annotations

import codecs

from . import ExtractError

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Read as their superset: every byte sequence they decode, it decodes the same way.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030",
              "big5": "big5hkscs", "cp950": "big5hkscs", "ascii": "utf-8", "shift_jis": "cp932"}


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a text file's bytes; a leading byte-order mark is not part of the
    text. Raises `ExtractError` when no encoding reads it as text."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name.replace("-sig", "")
            except UnicodeDecodeError as exc:
                raise ExtractError(f"starts with a {name} byte-order mark but is not valid {name} (byte {exc.start})") \
                    from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start + 1  # 1-based, as every other message counts bytes
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding is None:
        raise ExtractError(f"not valid UTF-8 (byte {first_bad}) and no other text encoding fits")
    name = _SUPERSETS.get(best.encoding.lower().replace("-", ""), best.encoding.lower())
    name = _SUPERSETS.get(best.encoding.lower(), name)
    try:
        return data.decode(name), name
    except (UnicodeDecodeError, LookupError):
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            raise ExtractError(f"not valid UTF-8 (byte {first_bad}), nor {best.encoding}") from None
