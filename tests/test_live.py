"""rag.web.live: serving while the index is built or updated, the page's and `/ask`'s answers
before the first index, a failed build, `--allow-upload` (the flag, its limits, the handler).

Most tests hand `LivePipeline` a build double that waits for the test (`GatedBuild`), so what
the page serves during a build is known exactly; the article's index (built once per session)
stands for both the old and the new index. The real thing (a corpus changed on disk, a real
rebuild) is in the slow tests at the end and in tests/test_browser.py.
"""
from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from rag import cli, serving, web
from rag.config import Settings
from rag.corpus import CorpusError
from rag.i18n import t
from rag.pipeline import Pipeline
from rag.web import notices, upload
from rag.web.access import Guard
from rag.web.live import BuildProgress, LivePipeline, answers_with

ASKED = "用手掌付款有什么优势？"

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")


class GatedBuild:
    """A stand-in for `rebuild_index`: takes two batches through `progress` (one done), then
    waits for `gate` and returns `index` (or raises `error`). Counts its calls."""

    def __init__(self, index, error: Exception | None = None):
        self.index, self.error = index, error
        self.gate, self.started = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, settings, embedder, log, progress, english):
        self.calls += 1
        batches = iter(progress(["first", "second"]))
        next(batches), next(batches)         # the first batch done, the second taken...
        self.started.set()
        assert self.gate.wait(timeout=60)    # ...and the build holds here until the test lets it go
        list(batches)
        if self.error:
            raise self.error
        return self.index


def handler(demo: gr.Blocks, name: str):
    """The Python function behind one of the page's events."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def live_over(qa: Pipeline | None, build, settings: Settings | None = None, logs: list | None = None) -> LivePipeline:
    settings = settings or qa.settings
    return LivePipeline(settings, qa.embedder if qa else None, None, qa, log=(logs if logs is not None else []).append,
                        build=build, missing="no index yet")


# --- The state machine ------------------------------------------------------------------------

def test_progress_counts_batches_over_every_pass_and_estimates_from_the_rate():
    now = [0.0]
    progress = BuildProgress(clock=lambda: now[0])
    assert progress.seconds_left() is None
    first = iter(progress(["a", "b"]))
    next(first)                    # the first batch starts at 0 s
    now[0] = 4.0
    next(first)                    # it took 4 s: one done, one to go
    assert (progress.done, progress.total, progress.seconds_left()) == (1, 2, 4.0)
    list(first)
    now[0] = 8.0
    second = iter(progress(["c", "d", "e", "f"]))   # the English helper's pass: the total grows
    next(second)
    assert (progress.done, progress.total) == (2, 6)
    assert progress.seconds_left() == 16.0         # 4 s a batch, 4 left


def test_a_stale_index_keeps_answering_while_the_update_runs_then_is_swapped(article_qa):
    build = GatedBuild(article_qa.index)
    live = live_over(article_qa, build)
    assert live.status().state == "ready" and live.current is article_qa
    assert live.update_in_background()
    assert build.started.wait(timeout=30)
    status = live.status()
    assert (status.state, status.done, status.total, status.generation) == ("updating", 1, 2, 0)
    assert status.seconds_left is not None
    assert live.current is article_qa                      # still the old one, answering
    in_flight = live.current
    assert in_flight.ask(ASKED).quotes
    build.gate.set()
    assert live.wait(timeout=60)
    assert live.current is not article_qa and live.current.index is article_qa.index
    assert in_flight is article_qa                         # what a question took is untouched
    status = live.status()
    assert (status.state, status.generation, status.error, status.documents) == ("ready", 1, "", 1)
    assert live.current.ask(ASKED).quotes


def test_a_stale_index_is_served_only_if_its_vectors_fit_the_models(article_qa):
    index, settings, embedder = article_qa.index, article_qa.settings, article_qa.embedder
    assert answers_with(index, settings, embedder)
    assert answers_with(index, dataclasses.replace(settings, english_model=None), embedder)
    assert not answers_with(index, settings, SimpleNamespace(id="another-model", dim=embedder.dim))
    assert not answers_with(index, settings, SimpleNamespace(id=embedder.id, dim=768))
    assert not answers_with(index, dataclasses.replace(settings, english_model="another-helper"), embedder)


def test_a_request_during_a_build_runs_one_more_build_after_it(article_qa):
    build = GatedBuild(article_qa.index)
    live = live_over(article_qa, build)
    assert live.update_in_background()
    assert build.started.wait(timeout=30)
    assert not live.update_in_background() and not live.update_in_background()   # folded into one
    build.gate.set()
    assert live.wait(timeout=60)
    assert build.calls == 2 and live.status().generation == 2


def test_a_failed_build_keeps_the_old_index_and_says_why_in_one_line(article_qa):
    logs = []
    build = GatedBuild(article_qa.index, CorpusError("no usable document in /x:\n  a.txt: empty file"))
    live = live_over(article_qa, build, logs=logs)
    live.update_in_background()
    build.gate.set()
    assert live.wait(timeout=60)
    assert live.current is article_qa
    status = live.status()
    assert (status.state, status.error) == ("ready", "no usable document in /x: a.txt: empty file")
    assert logs == ["Index update failed: no usable document in /x: a.txt: empty file; "
                    "still answering from the previous index."]
    assert notices.index_status_text(status, "en") == ("Updating the index failed: no usable document in /x: "
                                                       "a.txt: empty file. Answers still come from the previous documents.")


def test_warm_up_runs_before_the_switch_when_an_index_serves(article_qa):
    seen = []
    build = GatedBuild(article_qa.index)
    live = LivePipeline(article_qa.settings, article_qa.embedder, None, article_qa, log=lambda m: None, build=build,
                        warm_up=lambda qa: seen.append(live.current is qa))
    live.update_in_background()
    build.gate.set()
    assert live.wait(timeout=60)
    assert seen == [False]    # asked while the old pipeline still served


# --- Before the first index: the page and /ask say so ------------------------------------------

@pytest.fixture
def unbuilt(article_qa, tmp_path):
    """A page over no index yet, whose build waits for the test."""
    build = GatedBuild(article_qa.index)
    settings = dataclasses.replace(article_qa.settings, index_dir=tmp_path / "index")
    live = LivePipeline(settings, article_qa.embedder, None, None, log=lambda m: None, build=build, missing="none")
    live.update_in_background()
    assert build.started.wait(timeout=30)
    yield live, build, web.build_app(live, settings)
    build.gate.set()
    live.wait(timeout=60)


def test_before_the_index_a_question_is_told_to_wait_in_its_language(unbuilt):
    live, build, demo = unbuilt
    respond = handler(demo, "respond")
    for question, lang in ((ASKED, "zh"), ("What is palm payment?", "en")):
        with pytest.warns(UserWarning, match=t(lang, "index_not_ready")):
            outputs = respond(question, [], 5, 0.5, "auto", "")
        # the question goes back into its box (emptied when it was sent), nothing else changes
        assert outputs[0] == gr.update(value=question) and all(output == gr.update() for output in outputs[1:])
    with pytest.raises(gr.Error, match=t("en", "index_not_ready")):
        handler(demo, "ask")("What is palm payment?")
    with pytest.raises(gr.Error, match=t("zh", "index_not_ready")):
        handler(demo, "ask")(ASKED)
    status, timer, *_ = handler(demo, "refresh")("auto", "", 0)
    # no page language yet: the browser's (here no request: the default), one language only (issue 20)
    assert "正在建立索引：1/2 批" in status and "Building the index" not in status
    assert timer["active"] is True


def test_after_the_build_the_page_shows_the_new_index(unbuilt, article_qa):
    live, build, demo = unbuilt
    refresh = handler(demo, "refresh")
    build.gate.set()
    assert live.wait(timeout=60)
    status, timer, heading, outline, examples, seen = refresh("auto", "zh", 0)
    assert "索引已就绪：1 篇资料，11 个段落。" in status and timer["active"] is False
    assert "金融科技十大趋势" in heading and "趋势二" in outline and seen == 1
    assert examples["samples"] == [[q] for q in web.answered_examples(live.current)]
    assert examples["samples"] and all(not article_qa.ask(q).abstained for [q] in examples["samples"])
    assert examples["visible"] is True
    assert refresh("auto", "zh", 1)[2:5] == [gr.update()] * 3   # nothing new: the panels stay
    assert handler(demo, "ask")(ASKED)["quotes"]


def test_a_build_that_fails_with_no_index_says_so_on_the_page_and_to_questions(article_qa, tmp_path):
    build = GatedBuild(None, CorpusError("corpus folder not found: /nowhere"))
    settings = dataclasses.replace(article_qa.settings, index_dir=tmp_path / "index")
    live = LivePipeline(settings, article_qa.embedder, None, None, log=lambda m: None, build=build)
    demo = web.build_app(live, settings)
    live.update_in_background()
    build.gate.set()
    assert live.wait(timeout=60)
    assert live.status().state == "failed"
    status, timer, *_ = handler(demo, "refresh")("auto", "en", 0)
    assert "Building the index failed: corpus folder not found: /nowhere" in status and timer["active"] is False
    with pytest.raises(gr.Error, match="There is no index to answer from: corpus folder not found"):
        handler(demo, "ask")("What is palm payment?")


def test_status_line_is_escaped_and_rounds_time_left():
    failed = web.Status("failed", error="<img src=x onerror=alert(1)>")
    html = notices.index_status_html(failed, None)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and 'lang="en"' in html
    building = web.Status("building", done=3, total=40, seconds_left=71.0)
    assert notices.index_status_text(building, "zh") == "正在建立索引：3/40 批，约 1 分钟。建好后即可提问。"
    assert notices.index_status_text(dataclasses.replace(building, seconds_left=12.0), "en") \
        == "Building the index: 3 of 40 batches, about 15 s left. You can ask once it is ready."
    assert "reading the documents" in notices.index_status_text(web.Status("updating"), "en")


# --- --allow-upload: the flag, the limits, the handler -----------------------------------------

def test_allow_upload_is_off_by_default_and_a_serve_flag():
    assert Settings().server.allow_upload is False
    parser = cli.build_parser()
    assert cli.settings_from(parser.parse_args(["serve"])).server.allow_upload is False
    on = cli.settings_from(parser.parse_args(["serve", "--allow-upload", "--port", "8001"]))
    assert on.server.allow_upload is True and on.port == 8001
    assert on.server.max_upload_files == Settings().server.max_upload_files   # only the flag changed
    with pytest.raises(SystemExit):
        parser.parse_args(["ask", "--allow-upload", "问题"])   # a serve option only
    done = subprocess.run([sys.executable, "-m", "rag", "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--allow-upload" in done.stdout


def test_the_page_has_no_upload_control_unless_allowed(article_qa):
    closed = web.build_app(web.LivePipeline.ready(article_qa), article_qa.settings)
    assert not [b for b in closed.blocks.values() if isinstance(b, gr.File)]
    assert "take_upload" not in [getattr(f.fn, "__name__", "") for f in closed.fns.values()]
    settings = dataclasses.replace(article_qa.settings, server=dataclasses.replace(article_qa.settings.server,
                                                                                    allow_upload=True))
    opened = web.build_app(web.LivePipeline.ready(article_qa), settings)
    files = [b for b in opened.blocks.values() if isinstance(b, gr.File)]
    assert len(files) == 1 and files[0].file_count == "multiple"
    assert files[0].file_types == [".txt", ".md", ".pdf", ".docx", ".html", ".htm"]


def test_with_uploads_the_routes_open_with_a_document_sized_limit(monkeypatch, article_qa):
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    settings = dataclasses.replace(article_qa.settings, server=dataclasses.replace(article_qa.settings.server,
                                                                                    allow_upload=True))
    web.launch(web.build_app(web.LivePipeline.ready(article_qa), settings), settings)
    assert seen["max_file_size"] == max(settings.corpus.max_document_bytes, settings.corpus.max_file_bytes)
    assert [m.cls for m in seen["app_kwargs"]["middleware"]] == [Guard, serving.CallGuard, serving.UploadLimit]


@pytest.fixture
def upload_settings(make_corpus):
    settings = make_corpus({"a.md": "# 甲\n\n第一篇文档。\n"})
    return dataclasses.replace(settings, corpus=dataclasses.replace(settings.corpus, max_document_bytes=1000,
                                                                    max_file_bytes=1000),
                               server=dataclasses.replace(settings.server, allow_upload=True, max_upload_files=3))


def uploaded(tmp_path: Path, files: dict[str, bytes]) -> list[dict]:
    """Files as the upload control hands them over: Gradio's FileData (the visitor's name, where
    Gradio stored the file: a folder of its own named by the hash, the name stripped)."""
    out = []
    for i, (name, data) in enumerate(files.items()):
        path = tmp_path / "gradio" / f"sha{i}" / "stored.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        out.append({"path": str(path), "orig_name": name, "size": len(data), "meta": {"_type": "gradio.FileData"}})
    return out


def test_the_upload_route_takes_a_document_sized_file_and_no_more(upload_settings, article_qa):
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings = dataclasses.replace(upload_settings, port=sock.getsockname()[1])
    demo = web.build_app(LivePipeline.ready(article_qa), settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    route = f"{url.rstrip('/')}/gradio_api/upload"
    try:
        with httpx.Client(timeout=60) as http:
            assert http.post(route, files={"files": ("ok.md", b"a" * 1000)}).status_code == 200
            assert http.post(route, files={"files": ("big.md", b"a" * 1001)}).status_code == 413
            many = http.post(route, files=[("files", (f"d{i}.md", b"a" * 1000)) for i in range(16)])
            assert many.status_code == 413 and "send fewer or smaller files" in many.text
    finally:
        demo.close()


def test_refused_uploads_write_nothing_and_say_why(upload_settings, tmp_path):
    before = sorted(p.name for p in upload_settings.corpus_dir.iterdir())
    markup = "<img src=x onerror=alert(1)>.md"
    files = uploaded(tmp_path, {"big.md": ("长" * 400).encode(), "notes.pdf": b"%PDF-1.4", "bin.md": bytes(range(256)),
                                markup: "正文。".encode()})
    added, problems = upload.receive(upload.named_files(files[:3]), upload_settings, "en", tmp_path / "gradio")
    assert added == [] and len(problems) == 3
    assert problems[0] == "big.md: 1,200 bytes, over the limit of 1,000 (Settings.corpus.max_document_bytes); refused"
    assert "notes.pdf: truncated PDF" in problems[1]   # a PDF is a document, this one a broken one
    assert problems[2].startswith("bin.md: not valid UTF-8")
    added, problems = upload.receive(upload.named_files(files[3:]), upload_settings, "en", tmp_path / "gradio")
    assert added == [] and problems == [f"{markup}: not a document file name (.txt .md .pdf .docx .html .htm); refused"]
    html = notices.upload_html(added, problems, "en")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;.md" in html
    assert sorted(p.name for p in upload_settings.corpus_dir.iterdir()) == before
    assert not list((tmp_path / "gradio").iterdir())     # Gradio's copies are gone too


def test_too_many_files_at_once_are_refused_whole(upload_settings, tmp_path):
    files = uploaded(tmp_path, {f"d{i}.md": f"第{i}篇。".encode() for i in range(4)})
    added, problems = upload.receive(upload.named_files(files), upload_settings, "zh", tmp_path / "gradio")
    assert added == [] and problems == [t("zh", "upload_too_many", limit=3, count=4)]
    assert not (upload_settings.corpus_dir / "d0.md").exists()


def test_a_good_upload_lands_and_starts_an_update(upload_settings, tmp_path, article_qa):
    build = GatedBuild(article_qa.index)
    live = LivePipeline(upload_settings, article_qa.embedder, None, article_qa, log=lambda m: None, build=build)
    demo = web.build_app(live, upload_settings)
    files = uploaded(tmp_path, {"b.md": "# 乙\n\n第二篇文档。\n".encode(), "bad.txt": b""})
    result, cleared, status, timer = handler(demo, "take_upload")(files, "auto", "en")
    try:
        assert (upload_settings.corpus_dir / "b.md").read_text(encoding="utf-8") == "# 乙\n\n第二篇文档。\n"
        assert not (upload_settings.corpus_dir / "bad.txt").exists()
        assert "Added: b.md. The index is updated in the background" in result and "bad.txt: empty file; refused" in result
        assert cleared is None and timer["active"] is True and 'data-state="updating"' in status
    finally:
        build.gate.set()
        assert live.wait(timeout=60)
    assert build.calls == 1 and live.status().generation == 1


# --- The real thing: a corpus changed on disk, a real rebuild (slow) ---------------------------

@pytest.mark.slow
def test_open_serves_the_stale_index_and_switches_to_the_rebuilt_one(make_corpus):
    settings = make_corpus({"a.md": "# 刷掌支付\n\n刷掌支付通过掌纹和掌静脉识别用户身份。\n"}, english_model=None)
    old = Pipeline.open(settings, log=lambda m: None)
    (settings.corpus_dir / "b.md").write_text("# 量子农场\n\n量子农场在光伏温室里种植蓝莓和草莓。\n", encoding="utf-8")
    logs = []
    live = LivePipeline.open(settings, log=logs.append)
    assert live.reason.startswith("corpus changed: b.md")
    assert live.current is not None and set(live.current.index.documents) == {"a.md"}   # the old documents
    assert live.wait(timeout=300)
    assert set(live.current.index.documents) == {"a.md", "b.md"} and live.status().generation == 1
    answer = live.current.ask("量子农场种植什么？", strictness=0.0)
    assert answer.quotes[0].doc == "b.md" and "蓝莓" in answer.quotes[0].text
    assert logs[-1].startswith("Index ready: 2 documents")
    del old


@pytest.mark.slow
def test_rag_serve_without_index_or_corpus_exits_1_at_once(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rag", "serve", "--corpus", str(tmp_path / "missing"), "--index",
                           str(tmp_path / "index"), "--port", "0"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "corpus folder not found" in done.stderr and "Traceback" not in done.stderr


def test_progress_over_two_passes_only_grows():
    """Issue 20: "0/2 → 2/8 批" when the English pass started read as going back; each pass is
    now counted on its own, after its number."""
    progress = BuildProgress(clock=lambda: 0.0, passes=2)
    shown = []

    def line():
        status = web.Status("building", progress.done, progress.total, None, step=progress.step,
                            steps=max(progress.passes, progress.step), step_done=progress.step_done,
                            step_total=progress.step_total)
        shown.append(notices.index_status_text(status, "zh"))

    for batches in (["a", "b"], ["c", "d", "e", "f", "g", "h", "i", "j"]):
        for _ in progress(batches):
            line()
    line()
    assert shown[0] == "正在建立索引：第 1/2 遍，0/2 批。建好后即可提问。"
    assert "第 2/2 遍，0/8 批" in shown[2] and "第 2/2 遍，7/8 批" in shown[-2]
    assert shown[-1] == "正在建立索引：正在保存。建好后即可提问。"
    steps = [(int(s.split("第 ")[1][0]), int(s.split("，")[1].split("/")[0])) for s in shown[:-1]]
    assert steps == sorted(steps)   # (pass, batch) never goes back


def test_upload_reasons_are_in_the_pages_language():
    """Issue 20: a Chinese page listed the corpus' English reasons under its Chinese heading."""
    problems = ["binary.md: not valid UTF-8 (byte 129); refused", "a: b.md: empty file; refused",
                "x.exe: not a document file name (.txt .md .pdf .docx .html .htm); refused", "big.md: 3,000,000 bytes, over the limit of 2,000,000 "
                "(Settings.corpus.max_document_bytes); refused", "odd.md: a reason nobody translated"]
    html = notices.upload_html([], problems, "zh")
    assert "binary.md：不是有效的 UTF-8 文本（第 129 字节），未加入" in html and "a: b.md：空文件，未加入" in html
    assert "x.exe：不是文档文件名（.txt .md .pdf .docx .html .htm），未加入" in html and "big.md：3,000,000 字节，超过上限 2,000,000 字节，未加入" in html
    assert "odd.md: a reason nobody translated" in html   # unknown: as written, never dropped
    assert "not valid UTF-8 (byte 129)" in notices.upload_html([], problems, "en")
