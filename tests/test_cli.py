"""`rag` end to end, in subprocesses, as a person runs it."""
import json
import subprocess
import sys

import pytest

from conftest import copy_article


def rag(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return ["--corpus", str(copy_article(root / "corpus")), "--index", str(root / "index")]


def test_index_then_ask_json_on_the_real_article(folders, article_text):
    built = rag("index", *folders)
    assert built.returncode == 0, built.stderr
    assert "Index ready" in built.stderr and "11 chunks" in built.stderr

    done = rag("ask", "--json", "刷掌支付用到了哪些生物特征？", *folders)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= {"question", "abstained", "answer", "quotes", "passages", "timings_ms"}
    assert set(result["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert result["abstained"] is False
    quote = result["quotes"][0]
    assert "掌纹+掌静脉" in quote["text"] and quote["n"] == 1
    assert quote["section"].startswith("趋势二") and quote["title"] == "金融科技十大趋势"
    assert quote["doc"] == "fintech-ten-trends.txt"
    assert article_text[quote["start"]:quote["end"]] == quote["text"]
    for passage in result["passages"]:
        assert article_text[passage["start"]:passage["end"]] == passage["text"]
    assert set(quote) == {"n", "text", "doc", "title", "section", "start", "end", "score", "display", "page", "columns"}
    assert quote["page"] is None  # a text file has no pages
    assert set(result["passages"][0]) == {"doc", "title", "section", "start", "end", "text", "score", "display", "page"}
    # The reader's span first (its words inside quote [1]), then the quotes with their markers.
    span = result["span"]
    assert span and article_text[span["start"]:span["end"]] == span["text"] and quote["start"] <= span["start"]
    assert span["page"] is None
    assert result["answer"] == f"{span['display']}\n{quote['display']} [1]" \
        or result["answer"].startswith(f"{span['display']}\n{quote['display']} [1]\n")


def test_human_readable_answer_with_numbered_citations(folders):
    done = rag("ask", "What does DRG stand for?", "-k", "3", *folders)
    assert done.returncode == 0, done.stderr
    assert "dynamic risk governance" in done.stdout
    assert "[1] 金融科技十大趋势 · 趋势八" in done.stdout


def test_off_topic_question_says_so(folders):
    done = rag("ask", "明天北京天气怎么样？", *folders)
    assert done.returncode == 0
    assert done.stdout.startswith("资料中没有找到这个问题的答案。")
    assert "不是答案" in done.stdout


@pytest.mark.parametrize("question,message", [("", "empty"), ("   ", "empty"), ("问" * 501, "limit is 500")])
def test_bad_questions_exit_2_with_a_clear_message(folders, question, message):
    done = rag("ask", question, *folders)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_unknown_model_and_missing_corpus_exit_1(folders, tmp_path):
    done = rag("ask", "问题", "--model", "no-such-org/no-such-model", "--index", str(tmp_path / "i"),
               "--corpus", folders[1])
    assert done.returncode == 1 and "cannot load model 'no-such-org/no-such-model'" in done.stderr
    done = rag("ask", "问题", "--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "i"))
    assert done.returncode == 1 and "corpus folder not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_corrupt_index_is_rebuilt_with_one_line(folders, tmp_path):
    index = tmp_path / "index"
    assert rag("index", folders[0], folders[1], "--index", str(index)).returncode == 0
    current = (index / "CURRENT").read_text().strip()
    (index / current / "strings.json").write_text("[{broken", encoding="utf-8")
    done = rag("ask", "--json", "隐私计算有哪些流派？", folders[0], folders[1], "--index", str(index))
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("Rebuilding the index: index in") and "corrupt" in done.stderr
    assert json.loads(done.stdout)["quotes"]


def test_one_shot_ask_does_not_import_torch_gradio_or_sentence_transformers(folders):
    assert rag("index", *folders).returncode == 0
    code = (
        "import sys, contextlib, io\n"
        "from rag.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['ask', '刷掌支付用到了哪些生物特征？', *{folders!r}])\n"
        "print(sorted(m for m in ('torch', 'gradio', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_console_script_and_help():
    done = subprocess.run([sys.executable, "-m", "rag", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and all(c in done.stdout for c in ("index", "ask", "serve", "eval"))


def test_english_helper_can_be_switched_off(folders, tmp_path):
    index = tmp_path / "index"
    done = rag("ask", "--json", "隐私计算有哪些流派？", "--english-model", "none", folders[0], folders[1],
               "--index", str(index))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
    assert manifest["english_embedder"] is None and not list(index.glob("build-*/sentences.en.npy"))
    again = rag("ask", "--json", "隐私计算有哪些流派？", folders[0], folders[1], "--index", str(index))
    assert again.stderr.startswith("Rebuilding the index: built with English helper model None")


def test_unwritable_index_folder_is_a_clear_error(folders, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = rag("ask", "问题", folders[0], folders[1], "--index", str(blocker / "index"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("rag: Not a directory")


# --- Bad input at the command line: exit 2 and one line naming the field, never a traceback ----

@pytest.mark.parametrize("flags,message", [
    (["-k", "0"], "argument -k/--top-k: must be a whole number from 1 to 20 (got 0)"),
    (["-k", "-1"], "argument -k/--top-k: must be a whole number from 1 to 20 (got -1)"),
    (["-k", "10000"], "argument -k/--top-k: must be a whole number from 1 to 20 (got 10000)"),
    (["--strictness", "-1"], "argument --strictness: must be a number from 0 to 1 (got -1.0)"),
    (["--strictness", "2"], "argument --strictness: must be a number from 0 to 1 (got 2.0)"),
    (["--strictness", "nan"], "argument --strictness: must be a number from 0 to 1 (got nan)"),
    (["--strictness", "inf"], "argument --strictness: must be a number from 0 to 1 (got inf)"),
])
def test_settings_out_of_range_exit_2_naming_the_flag(folders, flags, message):
    done = rag("ask", *flags, "明天北京天气怎么样？", *folders)
    assert done.returncode == 2, done.stdout
    assert done.stderr.strip() == f"rag: {message}."
    assert done.stdout == ""


def test_eval_refuses_settings_out_of_range_too(folders, tmp_path):
    rows = tmp_path / "q.jsonl"
    rows.write_text('{"question": "刷掌支付有什么优势？", "answer": "掌纹"}\n', encoding="utf-8")
    done = rag("eval", str(rows), "-k", "0", *folders)
    assert done.returncode == 2 and "-k/--top-k" in done.stderr and "Traceback" not in done.stderr


def test_undecodable_argument_bytes_exit_2_with_a_message(folders):
    question = b"\xff\xfe" + "刷掌支付".encode()
    done = subprocess.run([sys.executable, "-m", "rag", "ask", question, *folders], capture_output=True, timeout=300)
    assert done.returncode == 2
    stderr = done.stderr.decode("utf-8", "replace")
    assert "not valid text" in stderr and "U+DCFF at character 1" in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def test_output_survives_an_ascii_terminal(folders):
    import os

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "rag", "ask", "刷掌支付用到了哪些生物特征？", *folders],
                          capture_output=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("ascii")                    # pure ASCII, backslash-escaped
    assert "\\u638c\\u7eb9" in text and "[1]" in text    # 掌纹, and its citation
    as_json = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", "刷掌支付用到了哪些生物特征？", *folders],
                             capture_output=True, timeout=300, env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert "掌纹+掌静脉" in json.loads(as_json.stdout.decode("ascii"))["quotes"][0]["text"]
    refused = subprocess.run([sys.executable, "-m", "rag", "ask", "问" * 501, *folders],
                             capture_output=True, timeout=300, env=env)
    assert refused.returncode == 2 and b"Traceback" not in refused.stderr


def test_control_characters_are_dropped_from_a_question(folders):
    done = rag("ask", "--json", "刷掌\x1b支付用到了哪些生物特征？\x07", *folders)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["question"] == "刷掌支付用到了哪些生物特征？"


def rag_chat(*args, stdin: str):
    return subprocess.run([sys.executable, "-m", "rag", "chat", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_chat_reads_questions_from_piped_stdin_and_understands_follow_ups(folders):
    done = rag_chat("--json", *folders, stdin="刷掌支付用到了哪些生物特征？\n它有什么优势？\n")
    assert done.returncode == 0, done.stderr
    first, second = [json.loads(line) for line in done.stdout.splitlines()]
    assert first["understood_as"] is None and "掌纹+掌静脉" in first["answer"]
    assert second["question"] == "它有什么优势？"
    assert second["understood_as"] == "刷掌支付有什么优势？"
    assert second["quotes"][0]["section"].startswith("趋势二")
    assert "提升了支付的准确度、安全性和隐私性" in second["answer"]


def test_chat_human_readable_says_how_a_follow_up_was_understood(folders):
    done = rag_chat(*folders, stdin="它有什么优势？\n\nWhat does DRG stand for?\nWhat does its implementation need?\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("这个问题指代不明")  # nothing to refer to yet: refused, with a hint
    assert "Understood as: What does DRG's implementation need?" in done.stdout
    assert "[1] 金融科技十大趋势 · 趋势八" in done.stdout


def test_chat_reports_a_bad_line_and_goes_on(folders):
    done = rag_chat("--json", *folders, stdin="问" * 501 + "\nWhat does DRG stand for?\n")
    assert done.returncode == 2
    assert "limit is 500" in done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 1 and "dynamic risk governance" in answers[0]["answer"]
