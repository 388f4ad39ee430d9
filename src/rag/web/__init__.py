"""The web chat: ask in Chinese or English, read the verbatim answer, follow each [n] to its source.

    python app.py                      # or `rag serve`; http://127.0.0.1:7860 by default

`render` builds every piece of HTML and text from answers (pure functions; the escaping rule
lives there), `notices` the lines about the index's state and uploads, `page` lays out the Gradio
page, the `/ask` endpoint and serving, `assets` holds its style sheet and scripts. `api` answers `/ask`
(Gradio's endpoint and the plain `POST /api/ask`). `live` holds the
pipeline served and swaps in a new one when a background build ends; `upload` takes documents
from the page (`rag serve --allow-upload`).
The interface's words in both languages are in `rag.i18n`.
"""
from __future__ import annotations

import gradio as gr

from .api import ask_in_conversation, parse_history
from .live import LivePipeline, Status
from .page import (
    ENGLISH_WARM_UP,
    STRICTNESS_HELP,
    answered_examples,
    build_app,
    example_questions,
    launch,
    page_title,
    question_problem,
    serve,
)
from .render import Turn

__all__ = ["ENGLISH_WARM_UP", "STRICTNESS_HELP", "LivePipeline", "Status", "Turn", "ask_in_conversation", "build_app",
           "answered_examples", "example_questions", "gr", "launch", "page_title", "parse_history", "question_problem", "serve"]
