"""The evaluation suite as the tuning scripts see it (evals/suite/, split by suite.json).

Held-out documents are never returned by `tuning_documents`: no fitting or tuning run reads them.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "suite"


def held_out() -> list[str]:
    """Names (question-file stems) of the documents no tuning run may read."""
    return json.loads((SUITE / "suite.json").read_text("utf-8"))["held_out"]


def tuning_documents() -> list[str]:
    """Names of the documents tuning runs may read."""
    return sorted(p.stem for p in (SUITE / "questions").glob("*.jsonl") if p.stem not in held_out())


def questions_of(name: str) -> list[dict]:
    """The question rows of one suite document."""
    lines = (SUITE / "questions" / f"{name}.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def make_corpus(names: list[str], folder: Path) -> Path:
    """A corpus folder holding the documents (and their sidecars) of `names`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        doc = questions_of(name)[0]["doc"]
        for file in (SUITE / "corpus").glob(doc + "*"):
            shutil.copy(file, folder / file.name)
    return folder
