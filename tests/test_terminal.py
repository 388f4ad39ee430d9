"""Terminal output (issue 20): documents, file names and questions never act on the terminal."""
import json
import re
import subprocess
import sys

import pytest

from rag.terminal import json_safe, shown

# What a terminal acts on: C0 (but line feed), DEL, C1, line/paragraph separators, bidi overrides.
ACTIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("raw,safe", [
    ("句子\x1b[2J\x1b]0;PWNED\x07结束", "句子\\x1b[2J\\x1b]0;PWNED\\x07结束"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x9b31m", "\\x9b31m"),
    ("abc\u202eexe.txt", "abc\\u202eexe.txt"),
    ("刷掌支付", "刷掌支付"),
])
def test_shown_escapes_every_control_character(raw, safe):
    assert shown(raw) == safe and not ACTIVE.search(shown(raw))


def test_shown_keeps_line_breaks_only_when_asked():
    assert shown("一\n二\x1b[2J", lines=True) == "一\n二\\x1b[2J"
    assert "\n" not in shown("一\n二")


def test_json_safe_is_still_the_same_json():
    value = {"t": "a\x7fb\x9bc\u2028d\u202ee\x1bf"}
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value and not ACTIVE.search(text)


def rag(*args):
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, timeout=300)


def test_rag_ask_prints_documents_and_file_names_escaped_with_citations_on_one_line(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = "这一节说明终端输出的处理方式，文字足够长，控制字符只占很小的一部分。" * 3
    (corpus / "x.txt").write_text(f"六、终端\n{filler}\n句子\x1b[2J\x1b]0;PWNED\x07结束。\n", encoding="utf-8")
    (corpus / "a\x1b[31mred\nline.txt").write_text("一、概述\n刷掌支付用到了掌纹和掌静脉两种生物特征。\n", encoding="utf-8")
    folders = ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--english-model", "none"]
    for question, expected_doc in (("刷掌支付用到了哪些生物特征？", "a\\x1b[31mred\\nline.txt"),
                                   ("句子结束了吗？终端输出", None)):
        done = rag("ask", *folders, "--strictness", "0", question)
        assert done.returncode == 0, done.stderr
        assert not ACTIVE.search(done.stdout), done.stdout
        assert not ACTIVE.search(done.stderr.replace("\r", "")), done.stderr   # tqdm redraws with \r
        citations = [line for line in done.stdout.splitlines() if line.startswith("[1] ")]
        assert len(citations) == 1 and re.search(r"\[\d+:\d+\]$", citations[0]), done.stdout
        if expected_doc:
            assert f" · {expected_doc} [" in citations[0]
        else:
            assert "\\x1b[2J" in done.stdout and "PWNED" in done.stdout   # still there to read, inert
    # the JSON forms carry the same text, escaped by JSON
    done = rag("ask", *folders, "--json", "--strictness", "0", "句子结束了吗？终端输出")
    assert done.returncode == 0 and not ACTIVE.search(done.stdout)
    assert "\x1b[2J" in json.loads(done.stdout)["answer"]   # the document's text, exactly, inside JSON


def test_messages_never_echo_control_characters(tmp_path):
    (tmp_path / "c").mkdir()
    bad = tmp_path / "b\x1b]0;PWNED\x07.md"
    bad.write_bytes(b"\xff\xfe not text")
    done = rag("add", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"), str(bad))
    assert done.returncode == 1 and "b\\x1b]0;PWNED\\x07.md" in done.stderr
    assert not ACTIVE.search(done.stderr)
