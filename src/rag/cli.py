"""Command line: `rag index`, `rag add`, `rag remove`, `rag show`, `rag ask`, `rag chat`, `rag serve`, `rag eval`
(also `python -m rag`).

Exit codes: 0 success, 1 a problem with the corpus, index or model, 2 bad usage, a bad question
or a setting out of range (rag.validation). Output survives any locale: what the terminal's
encoding cannot show is printed backslash-escaped (`--json` then escapes to ASCII).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from .config import Settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _common(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument("--corpus", dest="corpus_dir", metavar="DIR",
                        help=f"corpus folder (default: {defaults.corpus_dir})")
    parser.add_argument("--index", dest="index_dir", metavar="DIR",
                        help=f"index folder (default: {defaults.index_dir})")
    parser.add_argument("--model", metavar="NAME_OR_PATH",
                        help=f"embedder: '{defaults.model}' (bundled multilingual-e5-small) or a "
                             "sentence-transformers hub name / local folder")
    parser.add_argument("--english-model", metavar="NAME_OR_PATH",
                        help="second embedder for questions without Chinese characters, or 'none' "
                             f"(default: {defaults.english_model})")
    parser.add_argument("--store", metavar="local|milvus:URI",
                        help="where passages are ranked: 'local' (FAISS + BM25 in the index folder) or "
                             "'milvus:PATH.db' / 'milvus:http://host:19530' (filled from the index on first "
                             f"use; needs the 'milvus' extra; default: {defaults.stores.store})")


def _ask_options(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument("-k", "--top-k", type=int, metavar="K",
                        help=f"how many passages to consider (default: {defaults.top_k})")
    parser.add_argument("--strictness", type=float, metavar="S",
                        help="answer only when relevance >= S, in [0, 1]; higher abstains more "
                             f"(default: {defaults.strictness})")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="rag", description="Extractive Q&A over a corpus: verbatim quotes with citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or rebuild the index")
    _common(p)
    p.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")

    p = sub.add_parser("add", help="copy documents into the corpus and update the index (only they are embedded)")
    _common(p)
    p.add_argument("files", nargs="+", metavar="FILE",
                   help=".md, .txt (any common encoding), .pdf, .docx, .html or .htm files")
    p.add_argument("--replace", action="store_true",
                   help="replace a corpus document of the same name (otherwise it is kept and the file refused)")

    p = sub.add_parser("remove", help="take documents out of the corpus and update the index")
    _common(p)
    p.add_argument("documents", nargs="+", metavar="DOC",
                   help="a document's path inside the corpus folder, as citations show it (e.g. notes/a.md); "
                        "it is moved to INDEX/removed/, not deleted")

    p = sub.add_parser("show", help="print a document's text as the index holds it (what quotes are cut from)")
    _common(p)
    p.add_argument("document", metavar="DOC", help="a document's path inside the corpus folder, as citations show it")
    p.add_argument("--json", action="store_true",
                   help='print {"doc", "format", "encoding", "text", "pages": [{"page", "start", "end"}]}')

    p = sub.add_parser("ask", help="answer one question")
    _common(p)
    _ask_options(p)
    p.add_argument("question", help="the question, in Chinese or English")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")

    p = sub.add_parser("chat", help="an interactive conversation: follow-up questions are understood "
                                    "against the previous ones (one question per line on stdin when piped)")
    _common(p)
    _ask_options(p)
    p.add_argument("--json", action="store_true", help="print each answer as one JSON object per line")

    p = sub.add_parser("serve", help="start the web chat")
    _common(p)
    defaults = Settings()
    p.add_argument("--host", help=f"interface to listen on (default: {defaults.host}, loopback only)")
    p.add_argument("--port", type=int, help=f"port (default: {defaults.port})")
    p.add_argument("--share", action="store_true", default=None, help="create a public Gradio share link (off by default)")
    p.add_argument("--allow-upload", action="store_true", default=None,
                   help="let visitors add documents (.txt .md .pdf .docx .html) to the corpus from the page; the index is then "
                        f"updated in the background (off by default; at most {defaults.server.max_upload_files} "
                        f"files of {defaults.corpus.max_document_bytes:,} bytes at a time)")

    p = sub.add_parser("eval", help="evaluate a file of question/answer pairs")
    _common(p)
    _ask_options(p)
    p.add_argument("file", help="questions with expected answers: .jsonl or .csv (columns: question, "
                                "answer, optional id, doc and any grouping columns), or a folder of them")
    p.add_argument("--out", metavar="DIR", help="write results.jsonl, summary.json and report.html here")
    p.add_argument("--by", metavar="COLUMN", help="also report every metric per value of COLUMN (e.g. lang)")
    p.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is below VALUE (repeatable), e.g. hit@3=0.9")
    p.add_argument("--fail-over", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is above VALUE (repeatable): false_abstain_rate, "
                        "wrong_doc_rate, markup_quotes")
    p.add_argument("--relevance-model", metavar="FILE",
                   help="relevance model weights (default: the bundled data/relevance.json)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="stop asking new questions after SECONDS (counted from the start); the rows "
                        "scored so far are summarised and written")
    return parser


#: How each checked setting is spelled on the command line, for messages.
FLAGS = {"top_k": "-k/--top-k", "strictness": "--strictness"}


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line's overrides applied; raises `SettingError` for a
    --top-k or --strictness out of range."""
    from .validation import check_strictness, check_top_k

    if getattr(args, "top_k", None) is not None:
        check_top_k(args.top_k)
    if getattr(args, "strictness", None) is not None:
        check_strictness(args.strictness)
    names = ("corpus_dir", "index_dir", "model", "english_model", "top_k", "strictness", "host", "port", "share",
             "relevance_model", "store", "allow_upload")
    settings = Settings().replace(**{n: getattr(args, n, None) for n in names})
    if (getattr(args, "english_model", None) or "").lower() == "none":
        settings = dataclasses.replace(settings, english_model=None)
    return settings


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _progress(items):
    from tqdm import tqdm

    return tqdm(items, desc="embedding", unit="batch", file=sys.stderr, leave=False)


def print_answer(result, out=None) -> None:
    """The human-readable form of an answer: quotes, then numbered citations."""
    out = out or sys.stdout
    print(result.answer, file=out)
    if result.abstained:
        if result.passages:
            print("\n最接近的段落（不是答案）/ Nearest passages (not an answer):", file=out)
            for p in result.passages[:3]:
                snippet = (p.display or p.text).replace("\n", " ")
                snippet = snippet if len(snippet) <= 60 else snippet[:60] + "…"
                print(f"  - {p.title} · {p.section}{page_label(p)} [{p.start}:{p.end}] {snippet}", file=out)
        return
    print(file=out)
    for q in result.quotes:
        print(f"[{q.n}] {q.title} · {q.section} · {q.doc}{page_label(q)} [{q.start}:{q.end}]", file=out)


def page_label(unit) -> str:
    """` p. 4` for a quote or passage of a paged document, "" otherwise."""
    page = getattr(unit, "page", None)
    return f" p. {page}" if page else ""


def _update_index(settings: Settings, force: bool = False) -> int:
    """Open the index, building what changed (everything with `force`), and say what is in it."""
    from .embedding import load_embedder
    from .index import open_index, rebuild_index
    from .stores import check_store

    check_store(settings.stores.store)  # a bad --store fails before the build, not after
    started = time.perf_counter()
    embedder = load_embedder(settings.model)
    if force:
        index = rebuild_index(settings, embedder, _log, _progress)
    else:
        index = open_index(settings, embedder, _log, _progress)
    if settings.stores.store != "local":  # fill the store now rather than on the first question
        from .stores import open_store

        open_store(settings.stores, index, _log)
    counts = index.manifest["counts"]
    _log(f"Index ready in {index.path}: {counts['documents']} documents, {counts['chunks']} chunks, "
         f"{counts['sentences']} sentences, embedder {embedder.id} ({time.perf_counter() - started:.1f} s).")
    return EXIT_OK


def cmd_index(args) -> int:
    return _update_index(settings_from(args), args.force)


def cmd_add(args) -> int:
    """`rag add FILE...`: each file lands in the corpus only if it loads as a document; then the
    index is updated. Exit 1 when any file was refused (the others are still added)."""
    from pathlib import Path

    from .corpus import add_files, file_limit

    settings = settings_from(args)
    files, status = [], EXIT_OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            _log(f"rag: {name}: not a file; refused")
            status = EXIT_ERROR
            continue
        size, (limit, setting) = path.stat().st_size, file_limit(path.name, settings.corpus)
        if size > limit:  # refused before reading it
            _log(f"rag: {path.name}: {size:,} bytes, over the limit of {limit:,} "
                 f"(Settings.corpus.{setting}); refused")
            status = EXIT_ERROR
            continue
        files.append((path.name, path.read_bytes()))
    from .extract import ExtractCache
    from .index import EXTRACTED_DIR

    # Extracted once: the index update that follows finds the text in the cache.
    added, problems = add_files(files, settings.corpus_dir, settings.corpus, replace=args.replace,
                                cache=ExtractCache(settings.index_dir / EXTRACTED_DIR))
    for problem in problems:
        _log(f"rag: {problem.message}")
    if problems:
        status = EXIT_ERROR
    if added:
        _log(f"Added to {settings.corpus_dir}: {', '.join(added)}.")
        _update_index(settings)
    return status


def cmd_remove(args) -> int:
    """`rag remove DOC...`: move documents out of the corpus (to INDEX/removed/), then update the index."""
    from .corpus import remove_documents

    settings = settings_from(args)
    removed, problems = remove_documents(args.documents, settings.corpus_dir, settings.index_dir / "removed")
    for problem in problems:
        _log(f"rag: {problem.message}")
    if removed:
        _log(f"Removed from {settings.corpus_dir}: {', '.join(removed)} (moved to {settings.index_dir / 'removed'}).")
        _update_index(settings)
    return EXIT_ERROR if problems else EXIT_OK


def cmd_show(args) -> int:
    """`rag show DOC`: the document's text exactly as quotes are cut from it (for a PDF, Word file
    or web page, the cleaned extraction the index keeps); `--json` adds its format, encoding and
    page ranges. The index is brought up to date first, as for a question."""
    from .embedding import load_embedder
    from .index import current_index, open_index

    settings = settings_from(args)
    index, reason = current_index(settings)
    if index is None or reason:
        index = open_index(settings, load_embedder(settings.model), _log, _progress)
    name = args.document.replace("\\", "/").strip().lstrip("/")
    document = index.documents.get(name)
    if document is None:
        _log(f"rag: {args.document}: no such document in the index of {settings.corpus_dir} "
             f"(documents: {', '.join(list(index.documents)[:5])}{' …' if len(index.documents) > 5 else ''})")
        return EXIT_ERROR
    if args.json:
        from .extract import format_of

        obj = {"doc": document.path, "format": document.format or format_of(document.path) or "text",
               "encoding": document.encoding, "text": document.text}
        if document.pages:
            obj["pages"] = [{"page": page, "start": start, "end": end} for page, start, end in document.pages]
        print(json_text(obj, sys.stdout))
    else:
        sys.stdout.write(document.text)   # exactly: offsets count its characters
    return EXIT_OK


def json_text(obj, stream) -> str:
    """`obj` as indented JSON: readable UTF-8 when `stream` can encode it, else ASCII escapes
    (still the same JSON)."""
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(obj, ensure_ascii=True, indent=1)
    return text


def cmd_ask(args) -> int:
    from .pipeline import Pipeline
    from .validation import check_question

    settings = settings_from(args)
    check_question(args.question, settings.max_question_chars)  # fail fast, before loading anything
    qa = Pipeline.open(settings, log=_log, progress=_progress)
    result = qa.ask(args.question)
    if args.json:
        print(json_text(result.to_json(), sys.stdout))
    else:
        print_answer(result)
    return EXIT_OK


def _questions(interactive: bool):
    """The questions typed: with readline editing and history on a terminal, else stdin lines."""
    if not interactive:
        for line in sys.stdin:
            yield line
        return
    try:
        import readline  # noqa: F401  (imported for its effect on input(): editing and history)
    except ImportError:  # not on every platform
        pass
    print("Ask a question (Ctrl-D or an empty line twice to quit).", file=sys.stderr)
    empty = 0
    while True:
        try:
            line = input("? ")
        except EOFError:
            print(file=sys.stderr)
            return
        empty = empty + 1 if not line.strip() else 0
        if empty >= 2:
            return
        yield line


def cmd_chat(args) -> int:
    from .answer import QuestionError, check_question
    from .conversation import understood_label
    from .pipeline import Pipeline

    settings = settings_from(args)
    qa = Pipeline.open(settings, log=_log, progress=_progress)
    history: list[str] = []
    status = EXIT_OK
    for line in _questions(sys.stdin.isatty()):
        if not line.strip():
            continue
        try:
            question = check_question(line, settings.max_question_chars)
            result = qa.ask(question, history=history)
        except QuestionError as exc:  # one bad line loses nothing: the session goes on
            print(f"rag: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            if result.understood_as:
                print(understood_label(result.question) + result.understood_as)
            print_answer(result)
            print(flush=True)
        if result.quotes or result.passages:  # a refused, unresolvable question is not a turn to refer to
            history.append(result.understood_as or result.question)
    return status


def cmd_serve(args) -> int:
    from .web import serve

    serve(settings_from(args))
    return EXIT_OK


def cmd_eval(args) -> int:
    """`rag eval`: 0 ok, 1 a gate failed (or an output could not be written, or the run hit
    --time-limit with gates given), 2 bad usage, 130 Ctrl-C (after writing what was scored)."""
    from .eval import EvalUsageError, check_ceilings, check_thresholds, parse_ceilings, parse_thresholds, run
    from .eval.runner import INTERRUPTED, TIME_LIMIT, load_file

    settings = settings_from(args)
    try:
        if args.time_limit is not None and not args.time_limit > 0:
            raise EvalUsageError(f"--time-limit {args.time_limit:g}: give a number of seconds > 0")
        thresholds = parse_thresholds(args.fail_under or [], settings.top_k)
        ceilings = parse_ceilings(args.fail_over or [])
        rows = load_file(args.file, args.by, settings)  # before loading anything
    except EvalUsageError as exc:
        _log(f"rag eval: {exc}")
        return EXIT_USAGE
    outcome = run(settings, args.file, args.by, args.out, args.time_limit, log=_log, rows=rows)
    if outcome.stopped == INTERRUPTED:
        return 130
    failures = check_thresholds(outcome.summary, thresholds) + check_ceilings(outcome.summary, ceilings)
    if outcome.stopped == TIME_LIMIT and (thresholds or ceilings):
        failures.append(f"the run stopped at --time-limit {args.time_limit:g} s after "
                        f"{len(outcome.results)} of {len(rows[0])} rows: a gate needs every row")
    for message in failures:
        _log(f"rag eval: FAIL {message}")
    if (thresholds or ceilings) and not failures:
        _log("rag eval: all thresholds met (" + ", ".join([f"{k} >= {v:g}" for k, v in thresholds.items()]
                                                          + [f"{k} <= {v:g}" for k, v in ceilings.items()]) + ")")
    return EXIT_ERROR if failures or outcome.errors else EXIT_OK


def survive_any_locale() -> None:
    """Print what the terminal's encoding cannot show as backslash escapes instead of failing
    (e.g. PYTHONIOENCODING=ascii, or a C locale without UTF-8)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):   # not when a caller has swapped in a StringIO
            stream.reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    from .corpus import CorpusError
    from .embedding import EmbedderError
    from .index import IndexProblem
    from .relevance import ModelError
    from .stores import StoreError
    from .validation import QuestionError, SettingError

    survive_any_locale()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    commands = {"index": cmd_index, "add": cmd_add, "remove": cmd_remove, "show": cmd_show, "ask": cmd_ask,
                "chat": cmd_chat, "serve": cmd_serve, "eval": cmd_eval}
    try:
        return commands[args.command](args)
    except QuestionError as exc:
        print(f"rag: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SettingError as exc:
        print(f"rag: argument {FLAGS.get(exc.field, exc.field)}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except (CorpusError, EmbedderError, IndexProblem, ModelError, StoreError) as exc:
        print(f"rag: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # e.g. an index folder that cannot be created or written
        print(f"rag: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
