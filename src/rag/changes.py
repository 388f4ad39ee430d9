"""Adding and removing documents, for everyone who may: `rag add`/`rag remove`, the page's upload
and remove control, and the documents API (`web.documents_api`). One code path, so the same
checks (`corpus.add_files`, `corpus.remove_documents`) give the same messages everywhere, and
every change that happened is appended to the audit log.

The audit log is `INDEX/audit.jsonl` (beside the index it changes; `rag audit` prints it): one
JSON object per line, {"time", "user", "action": "add"|"remove", "document", "sha256"}, written
with one `write` on a file opened for appending, so concurrent writers never interleave lines.
The caller updates the index afterwards (the CLI at once, the server in the background).
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .corpus import Problem, add_files, document_files, file_sha256, remove_documents

AUDIT_FILE = "audit.jsonl"
ADD, REMOVE = "add", "remove"
_audit_lock = threading.Lock()


@dataclass(frozen=True)
class Change:
    """What one request changed: the documents added (or removed) and one problem per file refused."""

    done: list[str]
    problems: list[Problem]


@dataclass(frozen=True)
class DocumentInfo:
    """One document of the corpus as the documents API lists it. `added`/`added_by` come from the
    audit log (None for a document put in the folder by hand); `indexed`: answers can quote it now."""

    name: str
    title: str
    format: str
    size: int
    added: str | None
    added_by: str | None
    indexed: bool


def cli_user() -> str:
    """Who a change from the command line is recorded as: `cli:` and the login name."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):   # no name for this uid (a container)
        return f"cli:uid{os.getuid()}" if hasattr(os, "getuid") else "cli"


def audit_path(settings: Settings) -> Path:
    """Where the audit log of `settings`' index is."""
    return Path(settings.index_dir) / AUDIT_FILE


def record(settings: Settings, user: str, action: str, document: str, sha256: str) -> dict:
    """Append one line to the audit log; returns it."""
    from .auth import now_iso

    entry = {"time": now_iso(), "user": user, "action": action, "document": document, "sha256": sha256}
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = audit_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _audit_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return entry


def read_audit(settings: Settings) -> tuple[list[dict], int]:
    """The audit log's entries, oldest first, and how many lines were not entries (skipped)."""
    path = audit_path(settings)
    if not path.exists():
        return [], 0
    entries, bad = [], 0
    with open(path, "rb") as handle:
        for raw in handle:
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                bad += 1
                continue
            if isinstance(entry, dict) and {"time", "user", "action", "document"} <= set(entry):
                entries.append(entry)
            else:
                bad += 1
    return entries, bad


def add(settings: Settings, files: list[tuple[str, bytes]], user: str, replace: bool = False) -> Change:
    """Put `(name, data)` files into the corpus (`corpus.add_files`: the checks, atomic writes)
    and record each one added."""
    from .extract import ExtractCache

    # A PDF, Word file or web page is extracted once, to check it, into the index's cache: the
    # update that follows finds its text there.
    added, problems = add_files(files, settings.corpus_dir, settings.corpus, replace=replace,
                                cache=ExtractCache(settings.index_dir / "extracted"))
    data_of = {}
    for name, data in files:
        data_of.setdefault(Path(str(name).replace("\\", "/")).name.strip(), data)
    for name in added:
        data = data_of.get(name)
        digest = hashlib.sha256(data).hexdigest() if data is not None else file_sha256(settings.corpus_dir / name)
        record(settings, user, ADD, name, digest)
    return Change(added, problems)


def remove(settings: Settings, names: list[str], user: str) -> Change:
    """Take documents out of the corpus (`corpus.remove_documents`: moved to INDEX/removed/) and
    record each one removed, with the sha256 of what was removed."""
    digests = {}
    for name in names:
        path = Path(settings.corpus_dir) / str(name).replace("\\", "/").strip().lstrip("/")
        try:
            digests[name] = file_sha256(path) if path.is_file() else ""
        except OSError:
            digests[name] = ""
    removed, problems = remove_documents(names, settings.corpus_dir, Path(settings.index_dir) / "removed")
    by_clean = {str(n).replace("\\", "/").strip().lstrip("/"): d for n, d in digests.items()}
    for name in removed:
        record(settings, user, REMOVE, name, by_clean.get(name, ""))
    return Change(removed, problems)


def problem_status(problem: Problem) -> int:
    """The HTTP status for a refused file: 413 too large, 409 a different document holds the name,
    400 anything else (not a document, not text, ...). Read from `corpus.add_files`' messages,
    whose wording tests/test_corpus.py pins."""
    message = problem.message
    if "over the limit" in message or "would exceed" in message:
        return 413
    if "of that name" in message:
        return 409
    return 400


def listing(settings: Settings, indexed: dict | None) -> list[DocumentInfo]:
    """Every document file in the corpus, with its title (from the index served, `indexed`:
    path -> Document; else the file name), format, size, and who added it when (the audit log's
    last add of that name)."""
    added: dict[str, dict] = {}
    for entry in read_audit(settings)[0]:
        if entry.get("action") == ADD:
            added[entry["document"]] = entry
        elif entry.get("action") == REMOVE:
            added.pop(entry["document"], None)
    folder = Path(settings.corpus_dir)
    out = []
    for path in document_files(folder) if folder.is_dir() else []:
        try:
            size = path.stat().st_size
        except OSError:
            continue
        name = path.relative_to(folder).as_posix()
        document = (indexed or {}).get(name)
        entry = added.get(name, {})
        out.append(DocumentInfo(name, document.title if document else path.name, path.suffix.lower().lstrip("."), size,
                                entry.get("time"), entry.get("user"), document is not None))
    return out
