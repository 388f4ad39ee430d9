"""The chat page (Gradio Blocks), its `/ask` endpoint, and serving it.

Layout: the conversation, the question box and the settings on the left; on the right (below on
a phone) the sources of every answer and the documents' outline with a section view. Every [n]
is a link to its source card; the page's script (`PAGE_JS`) scrolls to it, opens its fold and
flashes the quoted words, and handles Copy, the Markdown download, suggested topics and opening
a section (a server function of the documents panel).
"""
from __future__ import annotations

import json
import sys
import time
from html import escape

import gradio as gr

from .. import serving
from ..answer import Answer, QuestionError
from ..config import Settings
from ..corpus import Document
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, STRINGS, language_of, t
from ..pipeline import Pipeline
from ..structure import outline
from ..validation import SettingError
from . import render
from .assets import DOCS_JS, PAGE_CSS, PAGE_JS
from .render import Turn

#: How many example questions the page offers.
MAX_EXAMPLES = 5
#: Asked once before serving, so the English helper model is loaded before the first visitor.
ENGLISH_WARM_UP = "What is this document about?"
STRICTNESS_HELP = STRINGS["zh"]["strictness_info"]
#: The language switch: follow each question, or one language for everything.
LANGUAGE_CHOICES = [("Auto · 自动", "auto"), ("中文", "zh"), ("English", "en")]


def page_title(documents: list[Document]) -> str:
    """The page's title, from the corpus: the document's title, or how many documents there are."""
    if len(documents) == 1:
        return f"{documents[0].title} · 问答"
    return f"{len(documents)} 篇资料 · 问答"


def example_questions(documents: list[Document], limit: int = MAX_EXAMPLES) -> list[str]:
    """Example questions from the corpus: each document's own `examples` (its meta.json) in
    turn, else its section headings without their numbering (a topic to ask about)."""
    pools = []
    for document in documents:
        headings = [render.topic(s.title) for s in outline(document).sections if s.heading]
        pools.append(list(document.examples) or [h for h in headings if h])
    out: list[str] = []
    while len(out) < limit and any(pools):
        for pool in pools:
            if pool and len(out) < limit:
                out.append(pool.pop(0))
    return list(dict.fromkeys(out))


def question_problem(exc: QuestionError, lang: str = DEFAULT_LANGUAGE) -> str:
    """The message for a question that cannot be asked, in the interface's language."""
    if exc.reason == "empty":
        return t(lang, "empty_question")
    if exc.reason == "too_long":
        return t(lang, "too_long", length=exc.length, limit=exc.limit)
    return str(exc)


def parse_history(history) -> list[str]:
    """The `/ask` API's optional history: a list of strings, or that list as a JSON string."""
    if history in (None, "", []):
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError:
            raise ValueError(t("en", "bad_history")) from None
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise ValueError(t("en", "bad_history"))
    return history


def ask_in_conversation(qa: Pipeline, question: str, top_k, strictness, history: list[str]) -> Answer:
    """The one place the chat's history reaches the pipeline: `history` is the previous
    questions as understood, oldest first (`Pipeline.ask` resolves a follow-up against it)."""
    return qa.ask(question, top_k=top_k, strictness=strictness, history=history)


# Gradio's Soft theme with its accent one shade darker where it colours text or sits behind
# white text: indigo-500 gives 3.6-4.5:1, below WCAG AA's 4.5:1; indigo-700 gives 7-8:1.
THEME = gr.themes.Soft().set(
    button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
    block_label_text_color="*primary_700", block_title_text_color="*primary_700",
    # Secondary text (slider help, min/max): gray-400 is 2.4:1 on white; gray-600 is 7.5:1.
    body_text_color_subdued="*neutral_600", block_info_text_color="*neutral_600",
)


# --- The app ----------------------------------------------------------------------------------

def gradio_i18n() -> gr.I18n:
    """Both string tables for Gradio's own translation of static labels (by the browser's language)."""
    return gr.I18n(**{lang: dict(STRINGS[lang]) for lang in LANGUAGES})


def build_app(qa: Pipeline, settings: Settings) -> gr.Blocks:
    """The chat page and the `/ask` endpoint, answering with `qa` (shared by all users)."""
    documents = list(qa.index.documents.values())
    by_path = qa.index.documents
    title = page_title(documents)
    i18n = gradio_i18n()

    def forced_language(choice: str | None) -> str | None:
        return choice if choice in LANGUAGES else None

    def chrome(lang: str) -> list:
        """Updates that put the page's own labels in `lang`."""
        return [gr.update(label=t(lang, "question_label"), placeholder=t(lang, "question_placeholder")),
                gr.update(value=t(lang, "send")), gr.update(value=t(lang, "restart")),
                gr.update(label=t(lang, "settings")),
                gr.update(label=t(lang, "top_k_label"), info=t(lang, "top_k_info")),
                gr.update(label=t(lang, "strictness_label"), info=t(lang, "strictness_info")),
                gr.update(value=t(lang, "intro")),
                gr.update(value=render.outline_html(documents, lang)),
                gr.update(label=t(lang, "language_label")), gr.update(label=t(lang, "examples"))]

    def respond(question: str, turns: list, top_k: float, strictness: float, choice: str, shown: str):
        """Chat handler: ask with the conversation so far; show every answer and its sources."""
        turns = list(turns or [])
        try:
            # The conversation so far, as understood, oldest first; a question refused as
            # unresolved (no quotes, no passages) is not part of it, as in `rag chat`.
            history = [turn.answer.understood_as or turn.answer.question for turn in turns
                       if turn.answer.quotes or turn.answer.passages]
            result = ask_in_conversation(qa, question, top_k, strictness, history)
        except (QuestionError, SettingError) as exc:
            # Keep the text so it can be fixed; say what is wrong in a toast, not a traceback.
            typed = (question or "").strip()
            lang = forced_language(choice) or (language_of(typed) if typed else shown or DEFAULT_LANGUAGE)
            gr.Warning(question_problem(exc, lang) if isinstance(exc, QuestionError) else str(exc))
            return [gr.update()] * 15
        turns.append(Turn(len(turns) + 1, result, float(strictness)))
        forced = forced_language(choice)
        lang = forced or result.lang
        labels = chrome(lang) if lang != shown else [gr.update()] * 10
        return ["", render.conversation_html(turns, by_path, forced, title), render.sources_html(turns, forced),
                turns, lang, *labels]

    def relabel(choice: str, turns: list, shown: str):
        """The language switch: show the page, every answer and its sources in the chosen language."""
        turns = list(turns or [])
        forced = forced_language(choice)
        lang = forced or (turns[-1].answer.lang if turns else shown or DEFAULT_LANGUAGE)
        return [render.conversation_html(turns, by_path, forced, title), render.sources_html(turns, forced),
                lang, *chrome(lang)]

    def start_over(shown: str):
        """Empty the conversation, the question box and the sources panel."""
        lang = shown or DEFAULT_LANGUAGE
        return [], "", render.conversation_html([], by_path, None, title), render.empty_sources(lang)

    def open_section(request) -> str:
        """The documents panel's server function: one section's full text, the quote highlighted.

        Gradio hands it the call's arguments as one list; the page sends one object
        {doc, sec, start, end, n, lang} (`sec` -1: the section holding the quote at start..end).
        """
        data = request[0] if isinstance(request, list) and len(request) == 1 else request
        try:
            lang = data.get("lang") if data.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
            document = by_path.get(str(data.get("doc")))
            section, start, end, n = (int(data.get(key, -1)) for key in ("sec", "start", "end", "n"))
        except (AttributeError, TypeError, ValueError):
            return ""
        if document is None:
            return ""
        quote = (start, end) if 0 <= start < end else None
        return render.section_html(document, section, quote, max(n, 0), lang)

    def ask(question: str, top_k: int | None = None, strictness: float | None = None,
            history: list[str] | str | None = None) -> dict:
        """Answer one question; returns the same JSON object as `rag ask --json`.

        top_k: how many passages to consider, 1 to 20 (default from the server's settings).
        strictness: answer only when relevance >= strictness, in [0, 1]; higher abstains more.
        history: optional, the conversation's earlier questions (as understood), oldest first:
            a JSON list of strings.
        """
        try:
            earlier = parse_history(history)
            return ask_in_conversation(qa, question, top_k, strictness, earlier).to_json()
        except (QuestionError, ValueError) as exc:   # SettingError is a ValueError naming its field
            # A message for the caller; nothing in the server's log.
            raise gr.Error(str(exc), print_exception=False) from None

    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        turns = gr.State([])
        shown = gr.State("")   # the language the page's labels are in ("" until the first answer)
        with gr.Row(equal_height=False, elem_id="rag-top"):
            # The title comes from the corpus: shown as escaped text, with its own language.
            gr.HTML(f'<h1 class="rag-title"{render.lang_attr(title)}>{escape(title)}</h1>', elem_id="rag-title",
                    js_on_load=None, scale=4, min_width=240)
            language = gr.Dropdown(LANGUAGE_CHOICES, value="auto", label=i18n("language_label"), scale=1,
                                   min_width=160, elem_id="rag-language", interactive=True)
        intro = gr.Markdown(i18n("intro"), elem_id="rag-intro")
        with gr.Row(equal_height=False):
            # min_width makes the row wrap on narrow screens: the panels then sit below the chat.
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(render.conversation_html([], by_path, None, title), elem_id="rag-chat",
                               js_on_load=PAGE_JS, max_height=560, autoscroll=True, padding=True)
                with gr.Row():
                    question = gr.Textbox(
                        label=i18n("question_label"), show_label=False, placeholder=i18n("question_placeholder"),
                        elem_id="rag-question", scale=5, min_width=180, lines=1, max_lines=4, autofocus=True)
                    send = gr.Button(i18n("send"), variant="primary", scale=1, min_width=72, elem_id="rag-send")
                examples = gr.Examples([[q] for q in example_questions(documents)], inputs=[question],
                                       label=i18n("examples"), api_visibility="private")
                restart = gr.Button(i18n("restart"), variant="secondary", size="sm", elem_id="rag-restart")
                with gr.Accordion(i18n("settings"), open=False, elem_id="rag-settings") as settings_box:
                    top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label=i18n("top_k_label"),
                                      info=i18n("top_k_info"), elem_id="rag-top-k")
                    strictness = gr.Slider(0.0, 1.0, value=settings.strictness, step=0.05,
                                           label=i18n("strictness_label"), info=i18n("strictness_info"),
                                           elem_id="rag-strictness")
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(render.empty_sources(DEFAULT_LANGUAGE), elem_id="rag-sources", js_on_load=None,
                                  padding=True)
                docs = gr.HTML(render.outline_html(documents, DEFAULT_LANGUAGE), elem_id="rag-docs", js_on_load=DOCS_JS,
                               padding=True, server_functions=[open_section])

        labelled = [question, send, restart, settings_box, top_k, strictness, intro, docs, language, examples.dataset]
        chat_io = dict(fn=respond, inputs=[question, turns, top_k, strictness, language, shown],
                       outputs=[question, chat, sources, turns, shown, *labelled], api_visibility="private")
        question.submit(**chat_io)
        send.click(**chat_io)
        # An example fills the box (Gradio's own step), then is asked straight away.
        examples.load_input_event.then(**chat_io)
        language.change(relabel, inputs=[language, turns, shown], outputs=[chat, sources, shown, *labelled],
                        api_visibility="private")
        restart.click(start_over, inputs=[shown], outputs=[turns, question, chat, sources], queue=False,
                      api_visibility="private")
        gr.api(ask, api_name="ask")
    demo.rag_i18n = i18n   # handed to launch(): Gradio takes translations there
    return demo


def launch(demo: gr.Blocks, settings: Settings, prevent_thread_lock: bool = False):
    """Queue and launch `demo` on settings.host:port (loopback by default), share link per settings,
    within the limits of `settings.server` (rag.serving: bounded queue, no uploads).

    Returns Gradio's `(app, local_url, share_url)`; blocks unless `prevent_thread_lock`.
    """
    serving.queue(demo, settings.server)
    return demo.launch(
        **serving.launch_options(settings.server),
        server_name=settings.host, server_port=settings.port, share=settings.share,
        prevent_thread_lock=prevent_thread_lock,
        # One process, one port: no separate Node server for server-side rendering.
        ssr_mode=False,
        footer_links=["api", "settings"],
        theme=THEME, css=PAGE_CSS,
        i18n=getattr(demo, "rag_i18n", None),
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(settings: Settings) -> None:
    """Open the pipeline once (building or refreshing the index), then serve the chat. Blocks."""
    started = time.perf_counter()
    qa = Pipeline.open(settings, log=_log)
    # Ask one Chinese and one English example before listening: anything loaded lazily on a
    # first question is loaded now, so the first visitor does not wait for it.
    for question in (*example_questions(list(qa.index.documents.values()), 1), ENGLISH_WARM_UP):
        qa.ask(question)
    demo = build_app(qa, settings)
    counts = qa.index.manifest["counts"]
    _log(f"Web chat: {counts['documents']} documents, {counts['chunks']} passages, model "
         f"{qa.embedder.id}, ready in {time.perf_counter() - started:.1f} s.")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        _log(f"Note: listening on {settings.host}, so other machines can reach this chat.")
    try:
        launch(demo, settings)
    except OSError as exc:   # typically: the port is taken
        raise SystemExit(f"rag: cannot serve on {settings.host}:{settings.port}: {exc}") from None
