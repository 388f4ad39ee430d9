import pytest

from rag.corpus import CorpusError, fingerprint, load_corpus


def test_loads_txt_and_md_with_metadata_and_bom(make_corpus):
    settings = make_corpus({
        "a.txt": "\ufeff第一行。\n",
        "a.txt.meta.json": '{"title": "标题A", "source": "某网"}',
        "notes/b.md": "# Markdown Title\n\nBody.",
    })
    documents, problems = load_corpus(settings.corpus_dir)
    assert problems == []
    by_path = {d.path: d for d in documents}
    assert set(by_path) == {"a.txt", "notes/b.md"}
    assert by_path["a.txt"].text == "第一行。\n"  # BOM dropped, nothing else touched
    assert (by_path["a.txt"].title, by_path["a.txt"].source) == ("标题A", "某网")
    assert by_path["notes/b.md"].title == "Markdown Title"


def test_bad_files_are_reported_by_name_and_the_rest_still_load(make_corpus):
    settings = make_corpus({
        "good.txt": "好的文件。",
        "latin1.txt": "caf\xe9".encode("latin-1"),
        "empty.txt": "  \n",
        "image.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        "bad.txt.meta.json": "{not json",
        "bad.txt": "正文。",
    })
    documents, problems = load_corpus(settings.corpus_dir)
    assert sorted(d.path for d in documents) == ["bad.txt", "good.txt", "latin1.txt"]
    messages = " | ".join(p.message for p in problems)
    assert "latin1.txt: not UTF-8; read as " in messages   # detected (charset-normalizer), and said
    assert "empty.txt: empty file" in messages
    assert "bad.txt.meta.json: metadata ignored" in messages
    assert messages.count("image.png") == 1 and "not a supported type" in messages  # listed once, never silently


def test_missing_folder_or_no_usable_document_is_a_clear_error(tmp_path, make_corpus):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")
    settings = make_corpus({"only.txt": b"\xff\xfe\xfa"})
    with pytest.raises(CorpusError, match="only.txt: starts with a utf-16 byte-order mark but is not valid utf-16"):
        load_corpus(settings.corpus_dir)


def test_fingerprint_covers_documents_and_sidecars(make_corpus):
    settings = make_corpus({"a.txt": "一。", "a.txt.meta.json": '{"title": "T"}'})
    before = fingerprint(settings.corpus_dir)
    assert set(before) == {"a.txt", "a.txt.meta.json"}
    (settings.corpus_dir / "a.txt.meta.json").write_text('{"title": "U"}', encoding="utf-8")
    assert fingerprint(settings.corpus_dir)["a.txt.meta.json"] != before["a.txt.meta.json"]


def test_bundled_article_is_byte_exact_seed():
    from pathlib import Path

    from conftest import ARTICLE

    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / ARTICLE.name
    if seed.exists():  # ../shared sits beside the checkout on developer machines and in CI
        assert ARTICLE.read_bytes() == seed.read_bytes()
    documents, _ = load_corpus(ARTICLE.parent)
    article = next(d for d in documents if d.path == ARTICLE.name)
    assert (article.title, article.source) == ("金融科技十大趋势", "数字金融网")


def test_documents_over_the_size_limit_are_skipped_with_a_reason(make_corpus):
    from rag.config import CorpusSettings

    settings = make_corpus({"small.txt": "短文。", "big.txt": "长" * 400})
    documents, problems = load_corpus(settings.corpus_dir, CorpusSettings(max_document_bytes=1000))
    assert [d.path for d in documents] == ["small.txt"]
    assert any("big.txt: 1,200 bytes, over the limit of 1,000" in p.message for p in problems)


def test_a_corpus_over_the_total_limit_is_refused_clearly(make_corpus):
    from rag.config import CorpusSettings

    settings = make_corpus({"a.txt": "甲" * 300, "b.txt": "乙" * 300})
    with pytest.raises(CorpusError, match="max_corpus_bytes"):
        load_corpus(settings.corpus_dir, CorpusSettings(max_corpus_bytes=1500))
    assert len(load_corpus(settings.corpus_dir, CorpusSettings(max_corpus_bytes=1800))[0]) == 2


def test_control_characters_and_binary_are_skipped_but_ordinary_layout_is_kept(make_corpus):
    controls = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r") * 700  # ~20 KB, as in issue #12
    settings = make_corpus({
        "controls.txt": controls,
        "binary.md": b"\x00\x01\x02PK\x03\x04" * 50 + "一些文字。".encode(),
        "mixed.txt": "正文。" * 10 + "\x0c" * 20,
        "layout.txt": "第一段。\t缩进\r\n第二段。\x0c\n第三段。",
    })
    documents, problems = load_corpus(settings.corpus_dir)
    assert [d.path for d in documents] == ["layout.txt"]
    messages = {p.path: p.message for p in problems}
    assert set(messages) == {"controls.txt", "binary.md", "mixed.txt"}
    assert all("control or binary characters" in m for m in messages.values())


def test_symlinks_leaving_the_corpus_are_not_followed(tmp_path, make_corpus):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("系统文件的内容。", encoding="utf-8")
    (outside / "meta.json").write_text('{"title": "stolen"}', encoding="utf-8")
    settings = make_corpus({"a.txt": "正文。", "sub/b.md": "# B\n\n内容。"})
    corpus = settings.corpus_dir
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "leakdir").symlink_to(outside, target_is_directory=True)
    (corpus / "a.txt.meta.json").symlink_to(outside / "meta.json")
    (corpus / "alias.md").symlink_to(corpus / "sub" / "b.md")           # inside: followed
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)       # inside, a loop: walked once
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")

    documents, problems = load_corpus(corpus)
    assert sorted(d.path for d in documents) == ["a.txt", "alias.md", "sub/b.md"]
    assert all("系统文件" not in d.text for d in documents)
    assert next(d for d in documents if d.path == "a.txt").title != "stolen"
    messages = {p.path: p.message for p in problems}
    assert "outside the corpus folder; not followed" in messages["leak.txt"]
    assert "outside the corpus folder; not followed" in messages["leakdir"]
    assert "broken symbolic link" in messages["dangling.txt"]
    assert "metadata ignored" in messages["a.txt"]
    assert set(fingerprint(corpus)) == {"a.txt", "alias.md", "sub/b.md"}


def test_the_same_file_again_is_unchanged_not_added(tmp_path):
    """Issue 20: re-uploading an identical file said "Added"."""
    from rag.config import Settings
    from rag.corpus import already_in_corpus
    from rag.web import upload

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = "一、节\n正文。\n".encode()
    (corpus / "a.txt").write_bytes(data)
    assert already_in_corpus("a.txt", data, corpus) and not already_in_corpus("a.txt", data + b"x", corpus)
    assert not already_in_corpus("b.txt", data, corpus)
    sent = tmp_path / "a.txt"
    sent.write_bytes(data)
    added, messages = upload.receive([("a.txt", str(sent))], Settings(corpus_dir=corpus), "en")
    assert added == [] and messages == ["a.txt: already in the documents with the same content; nothing changed."]
