"""Command line: `rag index`, `rag add`, `rag remove`, `rag show`, `rag ask`, `rag chat`, `rag serve`, `rag eval`,
`rag user`, `rag audit` (also `python -m rag`).

Exit codes: 0 success, 1 a problem with the corpus, index or model, 2 bad usage, a bad question
or a setting out of range (rag.validation). Output survives any locale: what the terminal's
encoding cannot show is printed backslash-escaped (`--json` then escapes to ASCII). Nothing
printed carries a control character from a document, a file name or a question
(`rag.terminal.shown`): a citation is always one line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from .config import Settings
from .terminal import json_safe, shown

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
    parser.add_argument("--reader", choices=("on", "off"),
                        help="on: the trained reader finds the words that answer (docs/reader.md); off: the "
                             "sentence-choosing answer stage of earlier releases (default: on)")
    parser.add_argument("--reader-weights", metavar="PATH",
                        help="the reader's weights (reader.npz beside its reader.json card; default: the bundled ones)")


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
    p.add_argument("--users", dest="users_file", metavar="FILE",
                   help="accounts (made with `rag user add`): the page asks for a login and every /api/ route for "
                        "'Authorization: Bearer TOKEN'; readers ask, editors also add and remove documents")
    p.add_argument("--no-auth", action="store_true", default=None,
                   help="serve --allow-upload to other machines without accounts, on purpose (a proxy in front "
                        "checks who may); without it, or --users, such a server refuses to start")

    p.add_argument("--client-limits", metavar="IN_FLIGHT/PER_MINUTE",
                   help="requests one client (token, login session, else address) may have in progress and start "
                        f"per minute; beyond them 429 (default: {defaults.server.limits.in_flight}/"
                        f"{defaults.server.limits.per_minute}; 'off': only the server's shared bound)")

    p = sub.add_parser("user", help="accounts for `rag serve --users FILE`: add, remove, list, token")
    users = p.add_subparsers(dest="user_command", required=True)
    for name, text in (("add", "add an account (the password from a prompt, or --password-stdin)"),
                       ("remove", "remove an account (its tokens end with it)"),
                       ("list", "list the accounts: names and roles, never secrets"),
                       ("token", "print a new API token for an account, once, on the last line")):
        q = users.add_parser(name, help=text)
        if name != "list":
            q.add_argument("name", metavar="NAME", help="the account's name")
        q.add_argument("--users", dest="users_file", metavar="FILE", required=True, help="the users file")
        if name == "add":
            q.add_argument("--role", choices=["reader", "editor"], required=True,
                           help="reader: asks; editor: also adds and removes documents")
            q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        if name == "token":
            q.add_argument("--revoke", action="store_true", help="end every token of this account instead")

    p = sub.add_parser("audit", help="print the audit log: every document added or removed, when and by whom")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the log's JSON lines as they are")

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
FLAGS = {"top_k": "-k/--top-k", "strictness": "--strictness", "client_limits": "--client-limits"}


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the command line's overrides applied; raises `SettingError` for a
    --top-k or --strictness out of range."""
    from .validation import check_strictness, check_top_k

    if getattr(args, "top_k", None) is not None:
        check_top_k(args.top_k)
    if getattr(args, "strictness", None) is not None:
        check_strictness(args.strictness)
    names = ("corpus_dir", "index_dir", "model", "english_model", "top_k", "strictness", "host", "port", "share",
             "relevance_model", "store", "allow_upload", "users_file", "no_auth")
    settings = Settings().replace(**{n: getattr(args, n, None) for n in names})
    if getattr(args, "reader", None) is not None:
        settings = settings.replace(reader=args.reader == "on")
    if getattr(args, "reader_weights", None):
        settings = dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, weights=Path(args.reader_weights)))
    if getattr(args, "client_limits", None) is not None:
        settings = dataclasses.replace(settings, server=dataclasses.replace(
            settings.server, limits=client_limits(args.client_limits, settings.server.limits)))
    if (getattr(args, "english_model", None) or "").lower() == "none":
        settings = dataclasses.replace(settings, english_model=None)
    return settings


def client_limits(text: str, limits):
    """`--client-limits IN_FLIGHT/PER_MINUTE` (or `off`) as `LimitSettings`; `SettingError` otherwise."""
    from .validation import SettingError

    if text.strip().lower() == "off":
        return dataclasses.replace(limits, in_flight=10**9, per_minute=10**9)
    in_flight, _, per_minute = text.partition("/")
    if not (in_flight.strip().isdigit() and per_minute.strip().isdigit() and int(in_flight) > 0 and int(per_minute) > 0):
        raise SettingError("client_limits", f"give two whole numbers above 0 as IN_FLIGHT/PER_MINUTE (e.g. 4/240), or off; "
                                            f"not {text[:40]!r}")
    return dataclasses.replace(limits, in_flight=int(in_flight), per_minute=int(per_minute))


def _log(message: str) -> None:
    """One line to stderr; file names and problems quoted in it cannot act on the terminal."""
    print(shown(message), file=sys.stderr)


def _progress(items):
    from tqdm import tqdm

    return tqdm(items, desc="embedding", unit="batch", file=sys.stderr, leave=False)


def print_answer(result, out=None) -> None:
    """The human-readable form of an answer: quotes, then numbered citations."""
    out = out or sys.stdout
    # Quotes are the documents' words and citations name their files: shown escaped, so a
    # document cannot clear or retitle the terminal and a citation stays on one line.
    print(shown(result.answer, lines=True), file=out)
    if result.abstained:
        if result.passages:
            print("\n最接近的段落（不是答案）/ Nearest passages (not an answer):", file=out)
            for p in result.passages[:3]:
                snippet = (p.display or p.text).replace("\n", " ")
                snippet = snippet if len(snippet) <= 60 else snippet[:60] + "…"
                print(shown(f"  - {p.title} · {p.section}{page_label(p)} [{p.start}:{p.end}] {snippet}"), file=out)
        return
    print(file=out)
    for q in result.quotes:
        print(shown(f"[{q.n}] {q.title} · {q.section} · {q.doc}{page_label(q)} [{q.start}:{q.end}]"), file=out)


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

    from .changes import add, cli_user
    from .corpus import already_in_corpus, file_limit

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
    for name, data in files:
        if already_in_corpus(name, data, settings.corpus_dir):
            _log(f"{name}: already in {settings.corpus_dir} with the same content; unchanged.")
    files = [(name, data) for name, data in files if not already_in_corpus(name, data, settings.corpus_dir)]
    change = add(settings, files, cli_user(), replace=args.replace)
    added, problems = change.done, change.problems
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
    from .changes import cli_user, remove

    settings = settings_from(args)
    change = remove(settings, args.documents, cli_user())
    removed, problems = change.done, change.problems
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
    text = json_safe(json.dumps(obj, ensure_ascii=False, indent=1))
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
    from .conversation import context_entry, understood_label
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
            _log(f"rag: {exc}")
            status = EXIT_USAGE
            continue
        if args.json:
            print(json_safe(json.dumps(result.to_json(), ensure_ascii=False)), flush=True)
        else:
            if result.understood_as:
                print(shown(understood_label(result.question) + result.understood_as))
            print_answer(result)
            print(flush=True)
        entry = context_entry(result.question, result.understood_as, result.abstained)
        if entry:  # a refused turn (not found, small talk, unresolvable) is not a turn to refer to
            history.append(entry)
    return status


def cmd_serve(args) -> int:
    """`rag serve`: refuses at once (exit 2, one line) a server that would take documents from
    other machines without accounts, and a users file that cannot be read (exit 1)."""
    from .auth import UsersFile, startup_problem

    settings = settings_from(args)
    problem = startup_problem(settings)
    if problem:
        _log(f"rag serve: {problem}")
        return EXIT_USAGE
    if settings.server.users_file is not None:
        users = UsersFile.load(settings.server.users_file, must_exist=True)   # before loading any model
        if not users.users:
            _log(f"Note: {users.path} holds no account yet, so nobody can log in: add one with "
                 f"`rag user add NAME --role editor --users {users.path}` (the server sees it at once).")
    from .web import serve

    serve(settings)
    return EXIT_OK


def _read_password(from_stdin: bool) -> str:
    """The new account's password: one line of stdin, or typed twice at a prompt (not echoed)."""
    import getpass

    from .auth import UsersError

    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise UsersError("no terminal to ask for a password: pass --password-stdin and send it on standard input")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise UsersError("the two passwords differ; nothing was changed")
    return password


def cmd_user(args) -> int:
    """`rag user add|remove|list|token`: change the users file (atomically, mode 0600)."""
    from .auth import UsersFile

    command = args.user_command
    users = UsersFile.load(args.users_file, must_exist=command != "add")
    if command == "list":
        for user in sorted(users.users.values(), key=lambda u: u.name):
            tokens = f"{len(user.tokens)} token{'s' if len(user.tokens) != 1 else ''}"
            print(f"{user.name}\t{user.role}\t{tokens}\tadded {user.created}")
        return EXIT_OK
    if command == "add":
        from .auth import UsersError, check_name

        check_name(args.name)
        if args.name in users.users:   # said before asking for a password
            raise UsersError(f"{args.name}: already in {users.path} (remove it first to start over)")
        user = users.add(args.name, args.role, _read_password(args.password_stdin))
        users.save()
        _log(f"Added {user.name} ({user.role}) to {users.path}.")
    elif command == "remove":
        users.remove(args.name)
        users.save()
        _log(f"Removed {args.name} from {users.path}; its tokens and logins no longer work.")
    elif args.revoke:
        count = users.revoke(args.name)
        users.save()
        _log(f"Revoked {count} token{'s' if count != 1 else ''} of {args.name}.")
    else:
        token = users.new_token(args.name)
        users.save()
        _log(f"A new API token for {args.name}; it is shown once (only its hash is kept). Send it as "
             "'Authorization: Bearer TOKEN'.")
        print(token, flush=True)
    return EXIT_OK


def cmd_audit(args) -> int:
    """`rag audit`: every document added or removed (INDEX/audit.jsonl), oldest first."""
    from .changes import audit_path, read_audit

    settings = settings_from(args)
    entries, bad = read_audit(settings)
    for entry in entries:
        if args.json:
            print(json.dumps(entry, ensure_ascii=False))
        else:
            print(f"{entry['time']}  {entry['user']}  {entry['action']:<6}  {entry['document']}  "
                  f"sha256:{str(entry.get('sha256', ''))[:16]}")
    if not entries:
        _log(f"No changes recorded in {audit_path(settings)}.")
    if bad:
        _log(f"rag audit: {bad} line{'s' if bad != 1 else ''} of {audit_path(settings)} could not be read; skipped.")
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
    from .auth import UsersError
    from .corpus import CorpusError
    from .embedding import EmbedderError
    from .index import IndexProblem
    from .reader import ReaderWeightsError
    from .relevance import ModelError
    from .stores import StoreError
    from .validation import QuestionError, SettingError

    survive_any_locale()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    commands = {"index": cmd_index, "add": cmd_add, "remove": cmd_remove, "show": cmd_show, "ask": cmd_ask,
                "chat": cmd_chat, "serve": cmd_serve, "eval": cmd_eval, "user": cmd_user, "audit": cmd_audit}
    try:
        return commands[args.command](args)
    except QuestionError as exc:
        _log(f"rag: {exc}")
        return EXIT_USAGE
    except SettingError as exc:
        _log(f"rag: argument {FLAGS.get(exc.field, exc.field)}: {exc.message}")
        return EXIT_USAGE
    except (CorpusError, EmbedderError, IndexProblem, ModelError, ReaderWeightsError, StoreError, UsersError) as exc:
        _log(f"rag: {exc}")
        return EXIT_ERROR
    except OSError as exc:  # e.g. an index folder that cannot be created or written
        _log(f"rag: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
