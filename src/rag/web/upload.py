"""Documents added from the page (`rag serve --allow-upload`): checked, written, then indexed.

Gradio writes each uploaded file to its cache (at most the larger of `max_document_bytes` and
`max_file_bytes`, its `max_file_size`; each format's own limit is checked here)
and hands the page `FileData`; `named_files` keeps the name the visitor's file had, which Gradio's
preprocessing would reduce to a path (with `<>:"|?*` and more stripped). `receive` refuses a batch
over `max_upload_files`, reads each file within the size limit, hands them to `corpus.add_files`
(which writes only files that will load, atomically, within the corpus' total limit), deletes
Gradio's copies, and returns what to tell the visitor. The caller then starts the background update.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from .. import changes
from ..config import Settings
from ..corpus import DOCUMENT_SUFFIXES, CorpusError, already_in_corpus, file_limit
from ..i18n import t

#: What the file picker offers (the server checks every name again: `corpus.add_files`).
UPLOAD_TYPES = list(DOCUMENT_SUFFIXES)


def upload_control(**options) -> gr.File:
    """The page's file input: several documents. Its event must run with `preprocess=False`
    so the handler gets Gradio's `FileData` (with the visitor's file name) for `named_files`."""
    return gr.File(file_count="multiple", file_types=UPLOAD_TYPES, type="filepath", **options)


def named_files(payload) -> list[tuple[str, str]]:
    """`(name the visitor's file had, path Gradio stored it at)` for each file of an upload event's
    raw value (Gradio has checked every path is one of its uploads before the handler runs)."""
    if not payload:
        return []
    files = payload if isinstance(payload, list) else [payload]
    return [(str(f.get("orig_name") or Path(f["path"]).name), str(f["path"])) for f in files if isinstance(f, dict)]


def _forget(path: str, cache: Path | None) -> None:
    """Delete Gradio's copy of an upload (its own folder in the cache, named by the file's hash)."""
    file = Path(path)
    file.unlink(missing_ok=True)
    if cache is not None and file.parent.parent == cache:
        shutil.rmtree(file.parent, ignore_errors=True)


def discard(files: list[tuple[str, str]], cache: Path | None) -> None:
    """Delete Gradio's copies of uploaded `(name, path)` files without taking them (a refused visitor)."""
    for _, path in files:
        _forget(path, cache)


def receive(files: list[tuple[str, str]] | None, settings: Settings, lang: str,
            cache: Path | None = None, user: str = "page") -> tuple[list[str], list[str]]:
    """Put uploaded `(name, path)` files into the corpus; returns the names added and one message
    per file refused (or one for the whole batch), for the page to show escaped. Nothing is
    written for a refused file; Gradio's copies are deleted either way."""
    files = list(files or [])
    limit = settings.server.max_upload_files
    try:
        if len(files) > limit:
            return [], [t(lang, "upload_too_many", limit=limit, count=len(files))]
        # Gradio refuses a file over the largest limit already, unless its limit was set otherwise;
        # a file over its own format's limit is never read.
        sizes = [Path(path).stat().st_size for _, path in files]
        limits = [file_limit(str(name), settings.corpus) for name, _ in files]
        too_large = [f"{str(name)[-80:]}: {size:,} bytes, over the limit of {limit:,} "
                     f"(Settings.corpus.{setting}); refused"
                     for (name, _), size, (limit, setting) in zip(files, sizes, limits) if size > limit]
        batch = [(name, Path(path).read_bytes()) for (name, path), size, (limit, _) in zip(files, sizes, limits)
                 if size <= limit]
        # The same file again: nothing to add (and no rebuild), and the page says so.
        unchanged = [t(lang, "upload_unchanged", name=str(name)[-80:]) for name, data in batch
                     if already_in_corpus(name, data, settings.corpus_dir)]
        batch = [(name, data) for name, data in batch if not already_in_corpus(name, data, settings.corpus_dir)]
        change = changes.add(settings, batch, user)
        return change.done, too_large + unchanged + [problem.message for problem in change.problems]
    except CorpusError as exc:   # e.g. the corpus folder is gone
        return [], [str(exc)]
    except OSError as exc:
        return [], [f"{exc.strerror or exc}"]
    finally:
        for _, path in files:
            _forget(path, cache)
