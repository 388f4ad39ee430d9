"""The documents API, for scripts (docs/web.md, "Documents API"; docs/security.md):

    GET    /api/documents          every document: name, title, format, size, added (when, by whom), indexed
    POST   /api/documents          multipart, field `file` (optional field `replace`: "true"):
                                   202 {"added": NAME, "status": …} while the index updates; 4xx {"error": reason}
    DELETE /api/documents/{name}   200 {"removed": NAME, "status": …}; 404 when there is no such document
    GET    /api/status             the index's state and progress: the page's status line, as JSON

Changes go through `rag.changes` (the same checks and messages as `rag add`/`rag remove` and the
page, and a line in the audit log) and need an editor: 403 for a reader; 401 without a valid
token comes earlier, from `access.Guard`, which also puts the caller's identity in the request.
"""
from __future__ import annotations

import dataclasses

import anyio

from .. import changes
from ..config import Settings
from . import notices
from .access import Access, identity
from .live import LivePipeline

#: Room for a multipart body's boundaries and part headers around the file.
MULTIPART_OVERHEAD = 16_384


def status_json(live: LivePipeline) -> dict:
    """The index's state as JSON: `Status`'s fields, `busy`, and the page's status line in both languages."""
    status = live.status()
    return {**dataclasses.asdict(status), "busy": status.busy,
            "message": {lang: notices.index_status_text(status, lang) for lang in ("en", "zh")}}


def routes(live: LivePipeline, settings: Settings, access: Access) -> list:
    """The routes above, over `live` (the pipeline served) and `settings`' corpus."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    # The largest file of any format (a PDF's limit); each format's own is checked by `corpus.add_files`.
    largest = max(settings.corpus.max_document_bytes, settings.corpus.max_file_bytes)
    setting = "max_file_bytes" if largest == settings.corpus.max_file_bytes else "max_document_bytes"

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def editor_or_refusal(request):
        caller = identity(request)
        if caller is None or not caller.editor:
            if caller is not None and not access.editors_can_change():
                return None, refuse(403, "This server takes no document changes: start it with --users FILE "
                                         "(editors) or --allow-upload.")
            return None, refuse(403, "Only editors add or remove documents; this account is a reader.")
        return caller, None

    def indexed() -> dict:
        qa = live.current
        return qa.index.documents if qa else {}

    async def list_documents(request):
        documents = await anyio.to_thread.run_sync(lambda: changes.listing(settings, indexed()))
        return JSONResponse({"documents": [dataclasses.asdict(d) for d in documents], "status": status_json(live)})

    async def status(request):
        return JSONResponse(status_json(live))

    async def add_document(request):
        caller, refusal = editor_or_refusal(request)
        if refusal:
            return refusal
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return refuse(411, "An upload must state its Content-Length.")
        if int(length) > largest + MULTIPART_OVERHEAD:
            return refuse(413, f"{int(length):,} bytes, over the limit of {largest:,} (Settings.corpus.{setting}); "
                               "refused")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return refuse(400, "Send the document as multipart/form-data, in the field 'file'.")
        try:
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    return refuse(400, "The field 'file' is missing: send the document as a file in it.")
                data = await upload.read(largest + 1)
                name = upload.filename or ""
                replace = str(form.get("replace", "")).lower() in ("1", "true", "yes")
        except Exception as exc:   # starlette's MultiPartException and kin: a malformed body
            return refuse(400, f"The multipart body cannot be read: {str(exc)[:120]}.")
        change = await anyio.to_thread.run_sync(lambda: changes.add(settings, [(name, data)], caller.name, replace))
        if change.problems:
            problem = change.problems[0]
            return refuse(changes.problem_status(problem), problem.message)
        live.update_in_background()
        return JSONResponse({"added": change.done[0], "status": status_json(live)}, status_code=202)

    async def remove_document(request):
        caller, refusal = editor_or_refusal(request)
        if refusal:
            return refusal
        name = request.path_params["name"]
        change = await anyio.to_thread.run_sync(lambda: changes.remove(settings, [name], caller.name))
        if change.problems:
            # corpus.remove_documents names the corpus folder: a path on the server, not the caller's business
            return refuse(404, change.problems[0].message.replace(str(settings.corpus_dir), "the corpus"))
        live.update_in_background()
        return JSONResponse({"removed": change.done[0], "status": status_json(live)})

    return [Route("/api/documents", list_documents, methods=["GET"]),
            Route("/api/documents", add_document, methods=["POST"]),
            Route("/api/documents/{name:path}", remove_document, methods=["DELETE"]),
            Route("/api/status", status, methods=["GET"])]

