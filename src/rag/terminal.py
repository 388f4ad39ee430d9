"""Text bound for a terminal: nothing from a document, a file name or a question is run by it.

A terminal acts on control characters: `ESC [2J` clears the screen, `ESC ]0;…BEL` retitles the
window, a carriage return or a line break inside a file name splits a citation over two lines.
Documents, file names and questions come from other people, so everything the CLI prints of
theirs goes through `shown`: control characters (Unicode Cc, including C1), line and paragraph
separators and the bidirectional overrides that reorder what is seen (U+202A-202E,
U+2066-2069) become visible escapes (`\\x1b`, `\\u202e`), so the text is still there to read but
does nothing. Line breaks are kept only where a caller says the text is several lines.
"""
from __future__ import annotations

import re

# Cc (C0, DEL, C1), the Unicode line/paragraph separators, and the bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(text, lines: bool = False) -> str:
    """`text` safe to print: every control character escaped (`\\x1b`, `\\n`, `\\t`, `\\u202e`).

    With `lines`, line feeds stay (an answer of several quotes, a report); a tab is escaped
    either way, since it too moves the cursor. Anything that is not a string is `str()`-ed first.
    """
    text = text if isinstance(text, str) else str(text)
    return (_UNSAFE_KEEP_LINES if lines else _UNSAFE).sub(_escape, text)


def json_safe(text: str) -> str:
    """A JSON text printed without ASCII escaping made safe too: `json.dumps(…, ensure_ascii=False)`
    escapes C0 controls but writes DEL, C1 controls and the separators raw; these become `\\uXXXX`
    escapes, which JSON reads back as the same characters."""
    return re.sub("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m.group()):04x}", text)
