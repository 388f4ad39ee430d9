"""What the page says about the index it answers from, and about an upload: pure functions, no
Gradio, the same escaping rule as `render` (every text from outside goes through `html.escape`;
a file name is text from outside).
"""
from __future__ import annotations

import math
import re
from html import escape
from typing import TYPE_CHECKING

from ..i18n import t

if TYPE_CHECKING:
    from .live import Status


def _time_left(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return ""
    if seconds < 60:   # in steps of 5 s: a figure that jumps by one second each poll reads as noise
        return t(lang, "index_seconds_left", n=max(5, math.ceil(seconds / 5) * 5))
    return t(lang, "index_minutes_left", n=max(1, round(seconds / 60)))


def index_status_text(status: Status, lang: str) -> str:
    """One line on the index served: building or updating (batches done, time left), ready, failed."""
    if status.busy:
        if not status.total:
            progress = t(lang, "index_preparing")
        elif status.steps > 1 and (status.step < status.steps or status.step_done < status.step_total):
            # Several passes (the English helper's after e5's): counted per pass, so the figures only grow.
            progress = t(lang, "index_pass", step=status.step, steps=status.steps) \
                + t(lang, "index_batches", done=status.step_done, total=status.step_total) \
                + _time_left(status.seconds_left, lang)
        elif status.steps <= 1 and status.done < status.total:
            progress = t(lang, "index_batches", done=status.done, total=status.total) \
                + _time_left(status.seconds_left, lang)
        else:
            progress = t(lang, "index_saving")
        return t(lang, "index_building" if status.state == "building" else "index_updating", progress=progress)
    if status.state == "failed":
        return t(lang, "index_failed", error=status.error)
    if status.error:
        return t(lang, "index_update_failed", error=status.error)
    return t(lang, "index_ready", documents=status.documents, passages=status.passages)


def index_status_html(status: Status, lang: str | None) -> str:
    """The status line as HTML; in both languages while the page's language is not known yet."""
    texts = [(lang, index_status_text(status, lang))] if lang else \
        [(code, index_status_text(status, code)) for code in ("zh", "en")]
    body = " / ".join(f'<span lang="{code}">{escape(text)}</span>' for code, text in texts)
    return f'<p class="rag-index-status" role="status" data-state="{escape(status.state)}">{body}</p>'


#: The corpus' reasons for refusing a file (rag.corpus writes them in English, for the CLI and the
#: logs) in the page's other language, so a Chinese page does not list English reasons under a
#: Chinese heading. A reason not listed here (a new check) is shown as it is.
_REASONS_ZH = [
    (r"not a document file name \((?P<kinds>[^)]*)\); refused", "不是文档文件名（{kinds}），未加入"),
    (r"(?P<size>[\d,]+) bytes, over the limit of (?P<limit>[\d,]+) .*", "{size} 字节，超过上限 {limit} 字节，未加入"),
    (r"the corpus holds something else of that name; refused", "资料中已有同名的其他内容，未加入"),
    (r"a different document of that name is in the corpus.*", "资料中已有同名但内容不同的文件，未加入（不会覆盖）"),
    (r"the corpus would exceed (?P<limit>[\d,]+) bytes.*", "加入后资料将超过 {limit} 字节，未加入"),
    (r"cannot be written \((?P<why>.*)\); refused", "无法写入（{why}），未加入"),
    (r"not valid UTF-8 \(byte (?P<byte>\d+)\).*", "不是有效的 UTF-8 文本（第 {byte} 字节），未加入"),
    (r"empty file.*", "空文件，未加入"),
    (r"(?P<share>\d+%) control or binary characters.*", "{share} 是控制字符或二进制内容，不是文本，未加入"),
    (r"no text to index.*", "没有可以建立索引的正文，未加入"),
]


def reason_in(lang: str, message: str) -> str:
    """A corpus refusal ("name: reason") in `lang`: Chinese from `_REASONS_ZH`, else as written."""
    if lang != "zh":
        return message
    for cut in (m.start() for m in re.finditer(": ", message)):   # a file name may hold ": " too
        name, reason = message[:cut], message[cut + 2:]
        for pattern, template in _REASONS_ZH:
            match = re.fullmatch(pattern, reason)
            if match:
                return f"{name}：{template.format(**match.groupdict())}"
    return message


def upload_html(added: list[str], problems: list[str], lang: str) -> str:
    """What became of an upload: the files added, then each refused file's reason (escaped), in
    the page's language."""
    parts = []
    if added:
        parts.append(f'<p class="rag-added">{escape(t(lang, "upload_added", names=", ".join(added)))}</p>')
    if problems:
        items = "".join(f"<li>{escape(reason_in(lang, problem))}</li>" for problem in problems)
        parts.append(f'<p class="rag-refused">{escape(t(lang, "upload_refused"))}</p><ul class="rag-problems">{items}</ul>')
    return f'<div class="rag-upload-result" role="status" lang="{lang}">{"".join(parts)}</div>'


def upload_hint_html(files: int, size: int, file_size: int | None = None) -> str:
    """The upload control's limits, in both languages (the page's language is not known yet):
    `size` bytes for a text file, `file_size` for a PDF, Word file or web page."""
    file_size = size if file_size is None else file_size
    hints = "".join(f'<p class="rag-muted" lang="{code}">'
                    f'{escape(t(code, "upload_hint", files=files, size=f"{size:,}", file_size=f"{file_size:,}"))}</p>'
                    for code in ("zh", "en"))
    return f'<div class="rag-upload-result">{hints}</div>'
