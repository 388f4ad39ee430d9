"""The page's controls for changing the documents, and who sees them.

With accounts (`rag serve --users FILE`) the page shows who is signed in (and a way out); the
upload control and the remove control appear for editors only, once the page has loaded and
the server knows who the visitor is. Every handler checks the role again: a reader who calls
the event by hand is refused. Without accounts, `--allow-upload` shows both controls to everyone.

Removing goes through `rag.changes.remove`, as `rag remove` and `DELETE /api/documents/{name}`:
the document is moved to INDEX/removed/, the change is in the audit log, the index is updated in
the background.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import gradio as gr

from .. import changes
from ..config import Settings
from ..i18n import DEFAULT_LANGUAGE
from . import notices
from .access import Access
from .live import LivePipeline

#: This module's words (the page's other words are in rag.i18n).
WORDS = {
    "zh": {"remove_label": "移除文档", "remove_button": "移除", "removed": "已移除：{name}。索引随后在后台更新。",
           "remove_none": "请先选择要移除的文档。", "editors_only": "只有编辑可以添加或移除文档。",
           "signed_in": "已登录：{name}（{role}）", "log_out": "退出登录", "reader": "读者", "editor": "编辑"},
    "en": {"remove_label": "Remove a document", "remove_button": "Remove",
           "removed": "Removed: {name}. The index is updated in the background.",
           "remove_none": "Choose the document to remove first.", "editors_only": "Only editors add or remove documents.",
           "signed_in": "Signed in as {name} ({role})", "log_out": "Log out", "reader": "reader", "editor": "editor"},
}


def words(lang: str, key: str, **values) -> str:
    """One of this module's texts in `lang` (Chinese when the language is not one of ours)."""
    return WORDS.get(lang, WORDS[DEFAULT_LANGUAGE])[key].format(**values)


def identity_of(access: Access, request: gr.Request | None):
    """The visitor of a page event: its account, or anonymous (None: a login whose account is gone)."""
    username = getattr(request, "username", None) if request is not None else None
    client = getattr(request, "client", None) if request is not None else None
    return access.page_identity(username, getattr(client, "host", None) or "unknown")


def signed_in_html(name: str, role: str) -> str:
    """Who is signed in and a link to log out, in both languages (escaped: a name is text from outside)."""
    lines = "".join(f'<span lang="{lang}">{escape(words(lang, "signed_in", name=name, role=words(lang, role)))} · '
                    f'<a href="logout">{escape(words(lang, "log_out"))}</a></span> ' for lang in ("zh", "en"))
    return f'<p class="rag-muted rag-signed-in">{lines}</p>'


def message_html(text: str, refused: bool, lang: str) -> str:
    """One line about a change, escaped."""
    css = "rag-refused" if refused else "rag-added"
    return f'<div class="rag-upload-result" role="status" lang="{lang}"><p class="{css}">{escape(text)}</p></div>'


@dataclass
class Controls:
    """The components this module adds to the page."""

    signed_in: gr.HTML
    remove_box: gr.Group
    choice: gr.Dropdown
    button: gr.Button
    result: gr.HTML


def build(settings: Settings, access: Access, visible: bool) -> Controls:
    """The signed-in line and the remove control (inside the page's Blocks; hidden unless `visible`)."""
    signed_in = gr.HTML("", elem_id="rag-signed-in", visible=access.accounts is not None, js_on_load=None)
    with gr.Group(visible=visible, elem_id="rag-remove") as box:
        choice = gr.Dropdown([], label=words(DEFAULT_LANGUAGE, "remove_label") + " · " + words("en", "remove_label"),
                             value=None, interactive=True, elem_id="rag-remove-choice")
        button = gr.Button(words(DEFAULT_LANGUAGE, "remove_button") + " · Remove", variant="stop", size="sm",
                           elem_id="rag-remove-button")
        result = gr.HTML("", elem_id="rag-remove-result", js_on_load=None)
    return Controls(signed_in, box, choice, button, result)


def wire(demo: gr.Blocks, controls: Controls, live: LivePipeline, settings: Settings, access: Access,
         upload_parts: list, language, shown, index_status, timer, forced_language, after: list = ()) -> None:
    """The events: on load, show the controls the visitor may use; removing a document."""

    def names() -> list[str]:
        return [d.name for d in changes.listing(settings, None)]

    def on_load(request: gr.Request = None):
        caller = identity_of(access, request)
        editor = caller is not None and caller.editor
        signed = signed_in_html(caller.name, caller.role) if caller is not None and access.accounts else ""
        return [gr.update(value=signed), gr.update(visible=editor),
                gr.update(choices=names() if editor else [], value=None),
                *[gr.update(visible=editor) for _ in upload_parts]]

    def remove(name: str | None, choice: str, shown_lang: str, request: gr.Request = None):
        lang = forced_language(choice) or shown_lang or DEFAULT_LANGUAGE
        caller = identity_of(access, request)
        status = live.status()
        if caller is None or not caller.editor:
            return [message_html(words(lang, "editors_only"), True, lang), gr.update(),
                    notices.index_status_html(status, lang), gr.update(active=status.busy)]
        if not name:
            return [message_html(words(lang, "remove_none"), True, lang), gr.update(),
                    notices.index_status_html(status, lang), gr.update(active=status.busy)]
        change = changes.remove(settings, [name], caller.name)
        if change.done:
            live.update_in_background()
            text, refused = words(lang, "removed", name=name), False
        else:
            text, refused = change.problems[0].message.replace(str(settings.corpus_dir), "the corpus"), True
        status = live.status()
        return [message_html(text, refused, lang), gr.update(choices=names(), value=None),
                notices.index_status_html(status, lang), gr.update(active=status.busy)]

    demo.load(on_load, outputs=[controls.signed_in, controls.remove_box, controls.choice, *upload_parts],
              queue=False, show_progress="hidden", api_visibility="private")
    controls.button.click(remove, inputs=[controls.choice, language, shown],
                          outputs=[controls.result, controls.choice, index_status, timer], api_visibility="private")
    for event in after:   # an upload changes the documents a remove can choose from
        event.then(lambda: gr.update(choices=names()), outputs=[controls.choice], queue=False,
                   show_progress="hidden", api_visibility="private")
