"""The web chat: ask in Chinese or English, read the verbatim answer, check each [n] at a glance.

    python app.py                      # or `rag serve`; http://127.0.0.1:7860 by default

Layout: a chat on the left and, beside it (below it on a phone), a sources panel that shows every
cited passage with the quoted span highlighted. A named endpoint `/ask` returns the same JSON
object as `rag ask --json`, for `gradio_client`.

Escaping (the one rule of this module): every piece of HTML shown is built here, and every piece
of text that did not come from this file -- questions, quotes, passages, titles, section headings
-- goes through `html.escape` first. The Chatbot runs with `render_markdown=False`, so a message is
our HTML and nothing else (no Markdown, no LaTeX); Gradio's own sanitiser stays on behind it.
"""
from __future__ import annotations

import re
import sys
import time
from html import escape

import gradio as gr

from . import serving
from .answer import Answer, Passage, QuestionError, Quote
from .config import Settings
from .corpus import Document
from .pipeline import Pipeline
from .structure import display, outline
from .validation import SettingError

INTRO = (
    "向资料提问（中文或英文）。每个回答都**逐字引用**原文，并用 [n] 标出出处；"
    "右侧（手机上在下方）列出每条引文所在的段落，引用的部分以高亮标出。"
    "资料中没有答案时，会直接说明。"
)
#: How many example questions the page offers.
MAX_EXAMPLES = 5
#: Asked once before serving, so the English helper model is loaded before the first visitor.
ENGLISH_WARM_UP = "What is this document about?"
_NUMBERING = re.compile(r"^\s*(?:第\s*[一二三四五六七八九十百\d]+\s*[章节部分篇]|[（(]?[一二三四五六七八九十百\d.]+[)）、.．]|"
                        r"[\u4e00-\u9fff]{1,4}[一二三四五六七八九十\d]+\s*[:：])\s*")


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
        headings = [_NUMBERING.sub("", s.title) for s in outline(document).sections if s.heading]
        pools.append(list(document.examples) or [h for h in headings if h])
    out: list[str] = []
    while len(out) < limit and any(pools):
        for pool in pools:
            if pool and len(out) < limit:
                out.append(pool.pop(0))
    return list(dict.fromkeys(out))
STRICTNESS_HELP = "越高越严格：相关度低于此值时不作答"
EMPTY_PANEL = ('<div class="rag-sources"><p class="rag-empty">提问后，这里会列出每条引文 [n] '
               '所在的原文段落，引用的部分以高亮标出。</p></div>')

# Scoped to the sources panel by gr.HTML. Gradio evaluates this as a JS template string, so it
# must not contain "${" or backticks.
PANEL_CSS = """
.rag-sources { font-size: 0.95em; line-height: 1.6; }
.rag-sources h3 { margin: 0 0 4px; font-size: 1.05em; }
.rag-summary, .rag-empty { margin: 0 0 8px; color: var(--body-text-color-subdued); }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
            padding: 8px 12px; margin: 0 0 10px; background: var(--background-fill-primary); }
.rag-where { font-weight: 600; overflow-wrap: anywhere; }
.rag-meta { font-size: 0.85em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.rag-passage { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0; }
.rag-passage mark { background: #ffe08a; color: #1f1f1f; padding: 0 1px; border-radius: 2px; }
.rag-cite { color: var(--color-accent); font-weight: 600; }
.rag-abstained .rag-card { border-style: dashed; }
"""


# --- HTML building (pure functions: easy to test, no Gradio involved) -------------------------

def text_html(text: str) -> str:
    """Plain text as HTML: escaped, line breaks kept (chat messages collapse white space)."""
    return "<br>".join(escape(line) for line in text.split("\n"))


def highlight(passage: Passage, quotes: list[Quote]) -> str:
    """The passage as escaped HTML with each quote inside it wrapped in <mark>, followed by [n].

    Spans come from character offsets (`quote.start - passage.start`), never from searching the
    text: a phrase that occurs twice in a passage is marked only where it was quoted from.
    """
    # Shown in display form (no Markdown or table markup), cut at the same offsets.
    shown = Document(passage.doc, passage.title, None, passage.text)
    text, out, pos = passage.text, [], 0
    for quote in sorted(quotes, key=lambda q: q.start):
        start = max(quote.start - passage.start, pos)   # never mark a character twice
        end = min(quote.end - passage.start, len(text))
        if end <= start:
            continue
        out.append(escape(display(shown, pos, start)))
        out.append(f'<mark data-n="{quote.n}">{escape(display(shown, start, end))}</mark>'
                   f'<span class="rag-cite">[{quote.n}]</span>')
        pos = end
    out.append(escape(display(shown, pos, len(text))))
    return "".join(out)


def cited_passages(answer: Answer) -> list[tuple[Passage, list[Quote]]]:
    """Each passage that holds a quote, with its quotes, in order of the first citation number.

    A quote that no retrieved passage contains (it should not happen) is shown as a passage of
    its own, so every [n] still has something to check against.
    """
    groups: list[tuple[Passage, list[Quote]]] = []
    for quote in sorted(answer.quotes, key=lambda q: q.n):
        passage = next((p for p in answer.passages if p.doc == quote.doc
                        and p.start <= quote.start and quote.end <= p.end), None)
        if passage is None:
            passage = Passage(doc=quote.doc, start=quote.start, end=quote.end, title=quote.title,
                              section=quote.section, text=quote.text, score=quote.score, display=quote.display)
        for held, quotes in groups:
            if held == passage:
                quotes.append(quote)
                break
        else:
            groups.append((passage, [quote]))
    return groups


def passage_card(passage: Passage, quotes: list[Quote]) -> str:
    """One passage: where it comes from (title, section, characters, score) and its text."""
    cites = "".join(f'<span class="rag-cite">[{q.n}]</span> ' for q in quotes)
    quote_meta = "".join(f"<br>[{q.n}] 引文 字符 {q.start}–{q.end} · 得分 {q.score:.4f}" for q in quotes)
    return (
        f'<div class="rag-card">'
        f'<div class="rag-where">{cites}{escape(passage.title)} › {escape(passage.section)}</div>'
        f'<div class="rag-meta">{escape(passage.doc)} · 字符 {passage.start}–{passage.end}'
        f' · 检索得分 {passage.score:.4f}{quote_meta}</div>'
        f'<p class="rag-passage">{highlight(passage, quotes)}</p>'
        f'</div>'
    )


def sources_html(answer: Answer, strictness: float) -> str:
    """The sources panel for one answer.

    Answered: every cited passage with the quoted spans highlighted. Abstained: the nearest
    passages under a heading that says they are not an answer, with nothing highlighted.
    """
    question = escape(answer.question)
    if answer.abstained:
        cards = "".join(passage_card(p, []) for p in answer.passages)
        return (
            f'<div class="rag-sources rag-abstained"><h3>最接近的段落（不是答案）</h3>'
            f'<p class="rag-summary">问题：{question}<br>相关度 {answer.relevance:.2f} 低于严格程度 '
            f'{strictness:.2f}，所以没有作答；以下段落仅供参考。</p>{cards}</div>'
        )
    cards = "".join(passage_card(p, qs) for p, qs in cited_passages(answer))
    return (
        f'<div class="rag-sources"><h3>来源</h3>'
        f'<p class="rag-summary">问题：{question}<br>相关度 {answer.relevance:.2f}'
        f'（严格程度 {strictness:.2f}）</p>{cards}</div>'
    )


def chat_messages(answer: Answer) -> list[dict]:
    """The messages one answer adds to the chat.

    The citations travel with the answer as a collapsed "来源" message, so they stay with it
    when the panel moves on to a later question.
    """
    messages = [
        {"role": "user", "content": text_html(answer.question)},
        {"role": "assistant", "content": text_html(answer.answer)},
    ]
    if not answer.abstained:
        details = "<br><br>".join(
            "".join(f"<b>[{q.n}]</b> " for q in quotes)
            + f"{escape(p.title)} › {escape(p.section)} · 字符 {p.start}–{p.end}<br>"
            + highlight(p, quotes).replace("\n", "<br>")
            for p, quotes in cited_passages(answer))
        messages.append({"role": "assistant", "content": details,
                         "metadata": {"title": f"来源（{len(answer.quotes)} 条引文，点开核对原文）",
                                      "status": "done"}})
    return messages


def question_problem(exc: QuestionError) -> str:
    """The Chinese interface's message for a question that cannot be asked."""
    if exc.reason == "empty":
        return "请先输入问题。"
    if exc.reason == "too_long":
        return f"问题太长（{exc.length} 字），最多 {exc.limit} 字，请缩短后再问。"
    return str(exc)


# --- The app ----------------------------------------------------------------------------------

def build_app(qa: Pipeline, settings: Settings) -> gr.Blocks:
    """The chat page and the `/ask` endpoint, answering with `qa` (shared by all users)."""

    def respond(question: str, history: list, top_k: float, strictness: float):
        """Chat handler: append the question and its answer; show the answer's sources."""
        try:
            result = qa.ask(question, top_k=top_k, strictness=strictness)
        except (QuestionError, SettingError) as exc:
            # Keep the text so it can be fixed; say what is wrong in a toast, not a traceback.
            gr.Warning(question_problem(exc) if isinstance(exc, QuestionError) else str(exc))
            return gr.update(), gr.update(), gr.update()
        return "", [*(history or []), *chat_messages(result)], sources_html(result, float(strictness))

    def start_over():
        """Empty the chat, the question box and the sources panel."""
        return [], "", EMPTY_PANEL

    def ask(question: str, top_k: int | None = None, strictness: float | None = None) -> dict:
        """Answer one question; returns the same JSON object as `rag ask --json`.

        top_k: how many passages to consider, 1 to 20 (default from the server's settings).
        strictness: answer only when relevance >= strictness, in [0, 1]; higher abstains more.
        """
        try:
            return qa.ask(question, top_k=top_k, strictness=strictness).to_json()
        except (QuestionError, SettingError) as exc:
            # A message naming the field, for the caller; nothing in the server's log.
            raise gr.Error(str(exc), print_exception=False) from None

    documents = list(qa.index.documents.values())
    title = page_title(documents)
    # Analytics off: the page makes no calls beyond the server it came from.
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        # The title comes from the corpus: shown as text, never as Markdown or HTML.
        gr.HTML(f"<h2>{escape(title)}</h2>", elem_id="rag-title")
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            # min_width makes the row wrap on narrow screens: the panel then sits below the chat.
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(
                    label="对话", show_label=False, elem_id="rag-chat", height=460,
                    render_markdown=False, sanitize_html=True, allow_tags=False,
                    latex_delimiters=[], feedback_options=None, buttons=["copy"],
                    placeholder="还没有问题。试试下面的示例，或直接输入。",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, placeholder="输入问题，按回车发送", elem_id="rag-question",
                        scale=5, min_width=180, lines=1, max_lines=4, autofocus=True)
                    send = gr.Button("发送", variant="primary", scale=1, min_width=72, elem_id="rag-send")
                examples = gr.Examples([[q] for q in example_questions(documents)], inputs=[question],
                                       label="示例问题（点击即问）", api_visibility="private")
                restart = gr.Button("重新开始", variant="secondary", size="sm", elem_id="rag-restart")
                with gr.Accordion("设置", open=False, elem_id="rag-settings"):
                    top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="检索段落数",
                                      info="回答前参考多少个段落")
                    strictness = gr.Slider(0.0, 1.0, value=settings.strictness, step=0.05,
                                           label="严格程度", info=STRICTNESS_HELP)
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(EMPTY_PANEL, label="来源", elem_id="rag-sources",
                                  css_template=PANEL_CSS, js_on_load=None, padding=True)

        chat_io = dict(fn=respond, inputs=[question, chatbot, top_k, strictness],
                       outputs=[question, chatbot, sources], api_visibility="private")
        question.submit(**chat_io)
        send.click(**chat_io)
        # An example fills the box (Gradio's own step), then is asked straight away.
        examples.load_input_event.then(**chat_io)
        restart.click(start_over, outputs=[chatbot, question, sources], queue=False,
                      api_visibility="private")
        chatbot.clear(start_over, outputs=[chatbot, question, sources], queue=False,
                      api_visibility="private")
        gr.api(ask, api_name="ask")
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
        theme=gr.themes.Soft(),
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
