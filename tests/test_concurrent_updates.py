"""Two updates of one index at once (issue 20): `rag add` twice, and a web upload beside a CLI
add. Both documents end up indexed and neither run reports a failure."""
import json
import subprocess
import sys
import threading
import time

import pytest

from rag.config import Settings
from rag.index import current_index
from rag.index.lock import update_lock

pytestmark = pytest.mark.slow

DOCS = {
    "alpha.txt": "一、甲方案\n甲方案使用潮汐能为海岛供电，装机容量为十二兆瓦。\n",
    "beta.txt": "一、乙方案\n乙方案利用地热为温室供暖，覆盖面积八十公顷。\n",
}


def setup(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.txt").write_text("一、基础\n基础文档说明了本资料库的用途和范围。\n", encoding="utf-8")
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--english-model", "none"]
    subprocess.run([sys.executable, "-m", "rag", "index", *folders], check=True, capture_output=True, timeout=300)
    return corpus, folders


def indexed_documents(tmp_path, corpus):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", english_model=None)
    index, stale = current_index(settings)
    return sorted(index.documents), stale


def test_two_rag_add_at_once_both_succeed_and_both_are_indexed(tmp_path):
    corpus, folders = setup(tmp_path)
    runs = [subprocess.Popen([sys.executable, "-m", "rag", "add", *folders, str(tmp_path / name)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in DOCS]
    outcomes = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    for code, err in outcomes:
        assert code == 0 and "Traceback" not in err and "No such file" not in err, err
    documents, stale = indexed_documents(tmp_path, corpus)
    assert documents == ["alpha.txt", "base.txt", "beta.txt"] and stale == ""
    for question, words in (("甲方案的装机容量是多少？", "十二兆瓦"), ("乙方案覆盖面积多大？", "八十公顷")):
        done = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", *folders, question],
                              capture_output=True, text=True, timeout=300)
        assert words in json.loads(done.stdout)["answer"], done.stdout   # answered without a rebuild
        assert "Rebuilding" not in done.stderr


def test_a_second_update_waits_for_the_lock_and_says_so(tmp_path):
    messages, order = [], []
    held = threading.Event()

    def first():
        with update_lock(tmp_path, messages.append):
            held.set()
            time.sleep(0.5)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(10)
    with update_lock(tmp_path, messages.append):
        order.append("second")
    thread.join()
    assert order == ["first", "second"] and messages == ["Another update of this index is running; waiting for it to finish."]


def test_a_web_upload_during_a_cli_add_both_are_indexed(tmp_path):
    from rag.web import LivePipeline, upload

    corpus, folders = setup(tmp_path)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", english_model=None)
    live = LivePipeline.open(settings, log=lambda message: None, start=False)
    cli = subprocess.Popen([sys.executable, "-m", "rag", "add", *folders, str(tmp_path / "alpha.txt")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)   # the CLI has loaded its model and is adding or building
    added, problems = upload.receive([("beta.txt", str(tmp_path / "beta.txt"))], settings, "zh")
    assert added == ["beta.txt"] and not problems
    live.update_in_background()
    assert cli.wait(timeout=300) == 0, cli.stderr.read()
    assert live.wait(timeout=300)
    assert live.status().error == ""
    documents, stale = indexed_documents(tmp_path, corpus)
    assert documents == ["alpha.txt", "base.txt", "beta.txt"]
    assert sorted(live.current.index.documents) in (documents, ["base.txt", "beta.txt"])
    if stale:   # the web build ran first: the next update (the CLI's) has both; a reload sees them
        live.update_in_background()
        live.wait(timeout=300)
    assert sorted(live.current.index.documents) == documents
