"""The chat page (Gradio Blocks), its `/ask` endpoint, and serving it.

Layout: the conversation, the question box and the settings on the left; on the right (below on
a phone) the sources of every answer and the documents' outline with a section view. Every [n]
is a link to its source card; the page's script (`PAGE_JS`) scrolls to it, opens its fold and
flashes the quoted words, and handles Copy, the Markdown download, suggested topics and opening
a section (a server function of the documents panel).
"""
from __future__ import annotations

import dataclasses
import sys
import time
from html import escape
from pathlib import Path

import anyio
import gradio as gr

from .. import serving
from ..answer import QuestionError
from ..config import Settings
from ..conversation import context_entry
from ..corpus import Document, load_corpus
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, STRINGS, browser_language, language_of, plural, t
from ..pipeline import Pipeline
from ..structure import outline
from ..validation import SettingError
from . import api, documents_api, editing, notices, render, upload
from .access import Access, Guard
from .api import ask_in_conversation, not_ready
from .assets import DOCS_JS, PAGE_CSS, PAGE_JS, SEND_JS, TITLE_JS
from .live import LivePipeline
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
    if not documents:   # no index yet
        return t(DEFAULT_LANGUAGE, "untitled")
    if len(documents) == 1:
        return f"{documents[0].title} · 问答"
    return f"{len(documents)} 篇资料 · 问答"


def example_questions(documents: list[Document], limit: int = MAX_EXAMPLES) -> list[str]:
    """Example questions from the corpus: each document's own `examples` (its meta.json) in
    turn, else questions about its sections (`render.topic_question`: never a bare heading)."""
    pools = []
    for document in documents:
        headings = [render.topic_question(s.title, document.title) for s in outline(document).sections
                    if s.heading and render.topic(s.title)]
        pools.append(list(document.examples) or headings)
    out: list[str] = []
    while len(out) < limit and any(pools):
        for pool in pools:
            if pool and len(out) < limit:
                out.append(pool.pop(0))
    return list(dict.fromkeys(out))


def answered_examples(qa: Pipeline | None, limit: int = MAX_EXAMPLES) -> list[str]:
    """The example questions the page offers: candidates from the corpus (`example_questions`,
    three times as many as shown) that the pipeline answers, so a click never meets a refusal.
    Asked once per index (`build_app` keeps them per generation); ~50 ms a question."""
    if qa is None:
        return []
    candidates = example_questions(list(qa.index.documents.values()), limit * 3)
    kept = []
    for question in candidates:
        try:
            if not qa.ask(question).abstained:
                kept.append(question)
        except (QuestionError, SettingError):
            continue
        if len(kept) == limit:
            break
    return kept


def question_problem(exc: QuestionError, lang: str = DEFAULT_LANGUAGE) -> str:
    """The message for a question that cannot be asked, in the interface's language."""
    if exc.reason == "empty":
        return t(lang, "empty_question")
    if exc.reason == "too_long":
        return t(lang, "too_long", length=exc.length, limit=exc.limit)
    return str(exc)


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


class IndexNotReady(Exception):
    """A question came before the first index was ready."""


def title_html(title: str) -> str:
    """The page's heading: the corpus' title as escaped text, with its own language."""
    return f'<h1 class="rag-title"{render.lang_attr(title)}>{escape(title)}</h1>'


def build_app(live: LivePipeline, settings: Settings) -> gr.Blocks:
    """The chat page and the `/ask` endpoint, answering with `live.current` (shared by all users)
    and saying what state the index is in; upload and remove controls for those who may change the
    documents (`access.Access`: editors with `--users`, everyone with `--allow-upload` alone)."""
    i18n = gradio_i18n()
    access = Access.from_settings(settings, log=_log)
    # Document changes from the page: for editors (accounts), or for everyone (--allow-upload, no accounts).
    uploads = access.editors_can_change()

    def documents_now() -> dict[str, Document]:
        qa = live.current
        return qa.index.documents if qa else {}

    shown_examples: dict[int, list[str]] = {}

    def examples_now(generation: int) -> list[str]:
        """The examples for the index served (asked once per index generation)."""
        if generation not in shown_examples:
            shown_examples.clear()
            shown_examples[generation] = answered_examples(live.current)
        return shown_examples[generation]

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
                gr.update(value=render.outline_html(list(documents_now().values()), lang)),
                gr.update(label=t(lang, "language_label")), gr.update(label=t(lang, "examples")),
                *([gr.update(label=t(lang, "upload_label"))] if uploads else [])]

    def respond(question: str, turns: list, top_k: float, strictness: float, choice: str, shown: str):
        """Chat handler: ask with the conversation so far; show every answer and its sources.

        `question` is what was sent: the box was emptied when it was sent (`SEND_JS`), so text
        typed while the answer is pending stays; a question that cannot be asked goes back
        into the box to be fixed."""
        turns = list(turns or [])
        typed = (question or "").strip() if isinstance(question, str) else ""
        qa = live.current   # taken once: a question in flight finishes on the pipeline it began with
        try:
            if qa is None:
                raise IndexNotReady
            # The conversation so far, as understood, oldest first; a refused turn is not part
            # of it (`conversation.context_entry`), as in `rag chat` and `rag eval`.
            history = [entry for turn in turns if (entry := context_entry(
                turn.answer.question, turn.answer.understood_as, turn.answer.abstained))]
            result = ask_in_conversation(qa, question, top_k, strictness, history)
        except (QuestionError, SettingError, IndexNotReady) as exc:
            # Keep the text so it can be fixed; say what is wrong in a toast, not a traceback.
            lang = forced_language(choice) or (language_of(typed) if typed else shown or DEFAULT_LANGUAGE)
            gr.Warning(question_problem(exc, lang) if isinstance(exc, QuestionError)
                       else not_ready(live.status(), lang) if isinstance(exc, IndexNotReady) else str(exc))
            return [gr.update(value=question if isinstance(question, str) else "")] + [gr.update()] * (4 + len(labelled))
        by_path = qa.index.documents
        turns.append(Turn(len(turns) + 1, result, float(strictness)))
        forced = forced_language(choice)
        lang = forced or result.lang
        labels = chrome(lang) if lang != shown else [gr.update()] * len(labelled)
        return [gr.update(), render.conversation_html(turns, by_path, forced, page_title(list(by_path.values()))),
                render.sources_html(turns, forced), turns, lang, *labels]

    def relabel(choice: str, turns: list, shown: str):
        """The language switch: show the page, every answer and its sources in the chosen language."""
        turns = list(turns or [])
        forced = forced_language(choice)
        lang = forced or (turns[-1].answer.lang if turns else shown or DEFAULT_LANGUAGE)
        by_path = documents_now()
        return [render.conversation_html(turns, by_path, forced, page_title(list(by_path.values()))),
                render.sources_html(turns, forced), lang, *chrome(lang)]

    def start_over(shown: str):
        """Empty the conversation, the question box and the sources panel."""
        lang = shown or DEFAULT_LANGUAGE
        by_path = documents_now()
        # In the page's language: an English page that starts over stays English.
        return [], "", render.conversation_html([], by_path, lang, page_title(list(by_path.values()))), \
            render.empty_sources(lang)

    def refresh(choice: str, shown: str, seen: int, request: gr.Request = None):
        """The page's poll (on load, then every `status_poll_seconds` while a build runs): the status
        line, and the title, outline and examples when the index served has changed since `seen`."""
        status = live.status()
        lang = forced_language(choice) or shown or reader_language(request)
        out = [notices.index_status_html(status, lang), gr.update(active=status.busy)]
        if status.generation == seen:
            return [*out, gr.update(), gr.update(), gr.update(), seen]
        documents = list(documents_now().values())
        samples = [[q] for q in examples_now(status.generation)]
        return [*out, title_html(page_title(documents)), render.outline_html(documents, lang or DEFAULT_LANGUAGE),
                gr.update(samples=samples, visible=bool(samples)), status.generation]

    def reader_language(request: gr.Request | None) -> str:
        """The language of the browser that made `request` (its Accept-Language)."""
        headers = getattr(request, "headers", None) or {}
        return browser_language(headers.get("accept-language"))

    def first_paint(choice: str, request: gr.Request = None):
        """On load: the page in the browser's language (or the switch's), panels and labels alike,
        so an English browser meets no Chinese interface string and a Chinese one no English."""
        lang = forced_language(choice) or reader_language(request)
        by_path = documents_now()
        return [render.conversation_html([], by_path, lang, page_title(list(by_path.values()))),
                render.empty_sources(lang), lang, *chrome(lang)]

    def take_upload(files, choice: str, shown: str, request: gr.Request = None):
        """The upload control: add the files that pass the checks, then update the index."""
        lang = forced_language(choice) or shown or DEFAULT_LANGUAGE
        caller = editing.identity_of(access, request)
        if caller is None or not caller.editor:   # the control is hidden from readers; this is the check
            upload.discard(upload.named_files(files), Path(gr.utils.get_upload_folder()).resolve())
            status = live.status()
            return [editing.message_html(editing.words(lang, "editors_only"), True, lang), None,
                    notices.index_status_html(status, lang), gr.update(active=status.busy)]
        added, problems = upload.receive(upload.named_files(files), settings, lang,
                                         Path(gr.utils.get_upload_folder()).resolve(), user=caller.name)
        if added:
            live.update_in_background()
        status = live.status()
        return [notices.upload_html(added, problems, lang), None, notices.index_status_html(status, lang),
                gr.update(active=status.busy)]

    def open_section(request) -> str:
        """The documents panel's server function: one section's full text, the quote highlighted.

        Gradio hands it the call's arguments as one list; the page sends one object
        {doc, sec, start, end, n, lang} (`sec` -1: the section holding the quote at start..end).
        """
        data = request[0] if isinstance(request, list) and len(request) == 1 else request
        try:
            lang = data.get("lang") if data.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
            document = documents_now().get(str(data.get("doc")))
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
        call = {"question": question, "top_k": top_k, "strictness": strictness, "history": history}
        try:
            return api.answer_call(live, call)   # the same function as POST /api/ask
        except api.CallProblem as exc:
            # A message for the caller (before the first index: in the question's language);
            # nothing in the server's log.
            raise gr.Error(str(exc), print_exception=False) from None

    status = live.status()
    documents = list(documents_now().values())
    title = page_title(documents)
    cache = settings.server.upload_cache_seconds
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=(cache, cache) if uploads else None) as demo:
        turns = gr.State([])
        shown = gr.State("")   # the language the page's labels are in ("" until the first answer)
        seen = gr.State(status.generation)   # the index generation the page shows
        with gr.Row(equal_height=False, elem_id="rag-top"):
            # The title comes from the corpus: shown as escaped text, with its own language.
            # Narrow enough to share one row on a phone (390 px): the chat starts within its first screen.
            heading = gr.HTML(title_html(title), elem_id="rag-title", js_on_load=TITLE_JS, scale=4, min_width=200)
            language = gr.Dropdown(LANGUAGE_CHOICES, value="auto", label=i18n("language_label"), scale=1,
                                   min_width=120, elem_id="rag-language", interactive=True)
        intro = gr.Markdown(i18n("intro"), elem_id="rag-intro")
        index_status = gr.HTML(notices.index_status_html(status, None), elem_id="rag-index-status", js_on_load=None)
        # Polls the status while a build runs (a page cannot be pushed to without a request of its own).
        timer = gr.Timer(settings.server.status_poll_seconds, active=False)
        with gr.Row(equal_height=False):
            # min_width makes the row wrap on narrow screens: the panels then sit below the chat.
            with gr.Column(scale=3, min_width=340):
                # The page's script brings each new turn into view (`assets.PAGE_JS`), not Gradio's
                # autoscroll, which scrolled to the bottom of a long answer and moved the window.
                chat = gr.HTML(render.conversation_html([], documents_now(), None, title), elem_id="rag-chat",
                               js_on_load=PAGE_JS, max_height=560, autoscroll=False, padding=True)
                with gr.Row():
                    question = gr.Textbox(
                        label=i18n("question_label"), show_label=False, placeholder=i18n("question_placeholder"),
                        elem_id="rag-question", scale=5, min_width=180, lines=1, max_lines=4, autofocus=True)
                    send = gr.Button(i18n("send"), variant="primary", scale=1, min_width=72, elem_id="rag-send")
                # A Dataset rather than gr.Examples: it takes new samples when a new index brings
                # new documents, also when it started empty (gr.Examples then has no columns).
                samples = [[q] for q in examples_now(status.generation)]
                examples = gr.Dataset(components=[question], samples=samples, label=i18n("examples"), type="values",
                                      visible=bool(samples), elem_id="rag-examples")
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
                if uploads:
                    # With accounts: shown to editors once the page has loaded (editing.wire).
                    files = upload.upload_control(label=i18n("upload_label"), elem_id="rag-upload", height=120,
                                                  visible=access.allow_changes)
                    hint = notices.upload_hint_html(settings.server.max_upload_files, settings.corpus.max_document_bytes,
                                                    settings.corpus.max_file_bytes)
                    upload_result = gr.HTML(hint, elem_id="rag-upload-result", js_on_load=None, padding=True,
                                            visible=access.allow_changes)
                    controls = editing.build(settings, access, visible=access.allow_changes)

            # The question being asked: the box is emptied the moment it is sent (in the browser),
            # so whatever is typed while the answer is pending is kept.
            sent = gr.Textbox(visible=False, elem_id="rag-sent")

        labelled = [question, send, restart, settings_box, top_k, strictness, intro, docs, language, examples,
                    *([files] if uploads else [])]
        chat_io = dict(fn=respond, inputs=[sent, turns, top_k, strictness, language, shown],
                       outputs=[question, chat, sources, turns, shown, *labelled], api_visibility="private")
        take = dict(fn=None, inputs=[question], outputs=[question, sent], js=SEND_JS, queue=False,
                    show_progress="hidden", api_visibility="private")
        question.submit(**take).then(**chat_io)
        send.click(**take).then(**chat_io)
        # An example is asked straight away, without touching what is in the box.
        examples.click(lambda sample: sample[0] if sample else "", inputs=[examples], outputs=[sent], queue=False,
                       show_progress="hidden", api_visibility="private").then(**chat_io)
        language.change(relabel, inputs=[language, turns, shown], outputs=[chat, sources, shown, *labelled],
                        api_visibility="private")
        restart.click(start_over, inputs=[shown], outputs=[turns, question, chat, sources], queue=False,
                      api_visibility="private")
        # Outside the queue: a poll is cheap and must not wait behind questions, nor fill the queue.
        poll = dict(fn=refresh, inputs=[language, shown, seen],
                    outputs=[index_status, timer, heading, docs, examples, seen],
                    queue=False, show_progress="hidden", api_visibility="private")
        demo.load(first_paint, inputs=[language], outputs=[chat, sources, shown, *labelled], queue=False,
                  show_progress="hidden", api_visibility="private")
        demo.load(**poll)
        timer.tick(**poll)
        if uploads:
            # Unprocessed: the handler reads the visitor's file names from Gradio's FileData.
            uploaded = files.upload(take_upload, inputs=[files, language, shown], preprocess=False,
                                    outputs=[upload_result, files, index_status, timer], api_visibility="private")
            editing.wire(demo, controls, live, settings, access, [files, upload_result], language, shown, index_status,
                         timer, forced_language, after=[uploaded])
        gr.api(ask, api_name="ask")
    demo.rag_i18n = i18n   # handed to launch(): Gradio takes translations there
    # POST /api/ask and the documents API, added by launch(), behind access.Guard.
    demo.rag_routes = api.routes(live, settings.server) + documents_api.routes(live, settings, access)
    demo.rag_access = access
    return demo


def launch(demo: gr.Blocks, settings: Settings, prevent_thread_lock: bool = False):
    """Queue and launch `demo` on settings.host:port (loopback by default), share link per settings,
    within the limits of `settings.server` (rag.serving: bounded queue; uploads closed unless
    `allow_upload`, then each file at most `corpus.max_document_bytes` or, for PDF, Word and web
pages, `corpus.max_file_bytes`).

    Returns Gradio's `(app, local_url, share_url)`; blocks unless `prevent_thread_lock`.
    """
    server = settings.server
    access = getattr(demo, "rag_access", None) or Access.from_settings(settings, log=_log)
    if access.editors_can_change():
        server = dataclasses.replace(server, max_upload_bytes=max(settings.corpus.max_document_bytes,
                                                                  settings.corpus.max_file_bytes))
    serving.queue(demo, server)
    options = serving.launch_options(server)
    options["app_kwargs"]["routes"] = getattr(demo, "rag_routes", [])
    # Outermost: accounts, limits and login throttling before anything else reads the request.
    options["app_kwargs"]["middleware"].insert(0, serving._middleware(Guard, access=access))
    if access.accounts is not None:
        accounts = access.accounts

        async def login(name: str, password: str) -> bool:
            # scrypt takes ~50 ms of CPU: in a worker thread, not on the event loop.
            return await anyio.to_thread.run_sync(accounts.login, name, password) is not None

        options["auth"] = login
        options["auth_message"] = "请登录 · Please sign in"
    return demo.launch(
        **options,
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


def warm_up(qa: Pipeline) -> None:
    """Ask one Chinese and one English example: anything loaded lazily on a first question is
    loaded now, so the first visitor does not wait for it."""
    for question in (*example_questions(list(qa.index.documents.values()), 1), ENGLISH_WARM_UP):
        qa.ask(question)


def serve(settings: Settings) -> None:
    """Serve the chat at once: from the index on disk when it fits; while a stale one is updated
    (answering from it meanwhile) or a missing one is built, in the background. Blocks."""
    started = time.perf_counter()
    live = LivePipeline.open(settings, log=_log, warm_up=warm_up, start=False)
    if live.reason:
        if live.current is None and not settings.server.allow_upload:
            # Nothing to serve and no way to add documents: a corpus that cannot be indexed ends
            # here (exit 1), not in a page that can only say so.
            from ..extract import ExtractCache
            from ..index import EXTRACTED_DIR

            load_corpus(settings.corpus_dir, settings.corpus, ExtractCache(settings.index_dir / EXTRACTED_DIR))
        _log(f"Updating the index in the background ({live.reason}); answering from the previous one meanwhile."
             if live.current else f"Building the index in the background: {live.reason}.")
        live.update_in_background()
    else:
        warm_up(live.current)
    demo = build_app(live, settings)
    if live.current is not None:
        counts = live.current.index.manifest["counts"]
        _log(f"Web chat: {plural(counts['documents'], 'document')}, {plural(counts['chunks'], 'passage')}, model "
             f"{live.embedder.id}, ready in {time.perf_counter() - started:.1f} s.")
    else:
        _log(f"Web chat: model {live.embedder.id}, up in {time.perf_counter() - started:.1f} s; "
             "questions are answered once the index is built.")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        _log(f"Note: listening on {settings.host}, so other machines can reach this chat.")
    if settings.server.users_file is not None:
        _log(f"Accounts from {settings.server.users_file}: the page asks for a login, /api/ for a token; "
             "editors add and remove documents.")
    elif settings.server.allow_upload:
        _log("Note: uploads are on (--allow-upload): anyone who reaches the page can add and remove documents.")
    try:
        launch(demo, settings)
    except OSError as exc:   # typically: the port is taken
        raise SystemExit(f"rag: cannot serve on {settings.host}:{settings.port}: {exc}") from None
