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
    assert sorted(d.path for d in documents) == ["bad.txt", "good.txt"]
    messages = " | ".join(p.message for p in problems)
    assert "latin1.txt: not valid UTF-8" in messages
    assert "empty.txt: empty file" in messages
    assert "bad.txt.meta.json: metadata ignored" in messages
    assert "image.png" not in messages  # not a document type: ignored silently


def test_missing_folder_or_no_usable_document_is_a_clear_error(tmp_path, make_corpus):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")
    settings = make_corpus({"only.txt": b"\xff\xfe\xfa"})
    with pytest.raises(CorpusError, match="only.txt: not valid UTF-8"):
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
