"""Fuzz the index folder: damage it in many ways, then open it the way `rag ask` does.

    python benchmarks/fuzz_index.py [--cases 1100] [--seed 12] [--real-every 100]

Builds one small index, then for every case copies it, applies one mutation (manifest: wrong
types, missing keys, dropped/renamed/altered `files` entries, truncated JSON, random bytes,
deep nesting, non-object JSON; `CURRENT`: invalid UTF-8, huge, a directory, pointing outside,
missing target, a symlink, empty...), and runs `open_index` as `rag ask` does, then (every
`--ask-every`-th case) `Pipeline.ask`.

Counted per family: tracebacks (any exception escaping; must be 0), healed opens (a one-line
"Rebuilding the index" message, then a folder whose manifest and checksums verify), harmless mutations reused as
they are, folders left behind, answers quoting text that is not in the corpus files, and the
longest message (characters). A rebuild normally re-saves the pristine in-memory index through the real
`save_index` (the part that meets the damaged folder); every `--real-every`-th case runs the
real `rebuild_index` (chunking and embedding) instead. Prints a Markdown table (docs/reliability.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import rag.index as index_module  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding import load_embedder  # noqa: E402
from rag.index import CURRENT, MANIFEST, load_index, open_index, read_manifest, save_index  # noqa: E402
from rag.index.store import verify_files  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

CORPUS = {
    "a.txt": "趋势一:刷掌支付\n刷掌支付通过“掌纹+掌静脉”融合识别,提升了支付的安全性。\n趋势二:隐私计算\n"
             "隐私计算常见的流派包括可信计算、联邦学习。",
    "a.txt.meta.json": '{"title": "小文章", "source": "测试"}',
    "b.md": "# Web3\n\nWeb3是指基于区块链架构的新一代互联网。",
}
QUESTION = "刷掌支付用到了哪些识别技术？"
JUNK = [None, 0, -1, True, 1.5, "", "x" * 5000, [], {}, ["a"], {"a": 1}, "\x00"]


def _keys(value, path=()):
    """Every key path of a JSON value (objects only)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*path, key)
            yield from _keys(sub, (*path, key))


def _get(value, path):
    for key in path[:-1]:
        value = value[key]
    return value


def manifest_mutation(rng: random.Random, raw: bytes) -> tuple[str, bytes]:
    """(family, new manifest bytes)."""
    manifest = json.loads(raw)
    family = rng.choice(["wrong type", "missing key", "files dropped", "files renamed", "files digest",
                         "files added", "truncated JSON", "random bytes", "bytes spliced", "deep nesting",
                         "not an object"])
    if family == "wrong type":
        path = rng.choice(list(_keys(manifest)))
        _get(manifest, path)[path[-1]] = rng.choice(JUNK)
    elif family == "missing key":
        path = rng.choice(list(_keys(manifest)))
        del _get(manifest, path)[path[-1]]
    elif family == "files dropped":
        for name in rng.sample(sorted(manifest["files"]), rng.randint(1, 3)):
            del manifest["files"][name]
    elif family == "files renamed":
        name = rng.choice(sorted(manifest["files"]))
        manifest["files"][rng.choice(["x.json", name.upper(), "../" + name, "/etc/passwd", name + " "])] \
            = manifest["files"].pop(name)
    elif family == "files digest":
        name = rng.choice(sorted(manifest["files"]))
        digest = manifest["files"][name]
        at = rng.randrange(len(digest))
        manifest["files"][name] = rng.choice([digest[:at] + ("0" if digest[at] != "0" else "1") + digest[at + 1:],
                                              digest.upper(), digest[:-1], ""])
    elif family == "files added":
        manifest["files"][rng.choice(["extra.bin", "bm25-chunks/x", "../../etc/hostname"])] = "0" * 64
    elif family == "truncated JSON":
        return family, raw[:rng.randrange(len(raw))]
    elif family == "random bytes":
        return family, rng.randbytes(rng.randint(0, 4096))
    elif family == "bytes spliced":
        at = rng.randrange(len(raw))
        return family, raw[:at] + rng.randbytes(rng.randint(1, 32)) + raw[at + 1:]
    elif family == "deep nesting":
        depth = rng.choice([1000, 100_000])
        return family, (b"[" * depth + b"]" * depth) if rng.random() < 0.5 else b'{"a":' * depth
    else:
        return family, json.dumps(rng.choice([[manifest], 6, "manifest", None, True])).encode()
    return family, json.dumps(manifest, ensure_ascii=False).encode("utf-8", "surrogatepass")


def current_mutation(rng: random.Random, root: Path, build: str) -> str:
    """Damage CURRENT (or what it names) in place; returns the family."""
    pointer = root / CURRENT
    family = rng.choice(["invalid UTF-8", "huge", "directory", "pointing outside", "missing target", "symlink",
                         "empty or blank", "target without manifest", "target is a file", "manifest is a folder"])
    if family == "invalid UTF-8":
        pointer.write_bytes(rng.choice([b"build-\xff", b"\xc3\x28", b"\xed\xa0\x80", rng.randbytes(40)]))
    elif family == "huge":
        pointer.write_bytes((build.encode() + b"\n") * rng.randint(1, 10) + b"x" * rng.randint(1 << 20, 10 << 20))
    elif family == "directory":
        pointer.unlink()
        pointer.mkdir()
        if rng.random() < 0.5:
            (pointer / "CURRENT").write_text(build, "utf-8")
    elif family == "pointing outside":
        pointer.write_text(rng.choice(["..", "../..", "/etc", "/", f"{build}/../..", f"../{root.name}/{build}",
                                       "build-x/../../etc"]), "utf-8")
    elif family == "missing target":
        pointer.write_text(rng.choice(["build-19700101-000000-1-000000", "build-nope", build + "x"]), "utf-8")
    elif family == "symlink":
        pointer.unlink()
        pointer.symlink_to(rng.choice(["/etc/hostname", str(root / build), "/nonexistent", "/etc"]))
    elif family == "empty or blank":
        pointer.write_text(rng.choice(["", " ", "\n\n", "\x00" * 10]), "utf-8")
    elif family == "target without manifest":
        (root / build / MANIFEST).unlink()
    elif family == "target is a file":
        (root / "build-file").write_text("not a folder", "utf-8")
        pointer.write_text("build-file", "utf-8")
    else:
        (root / build / MANIFEST).unlink()
        (root / build / MANIFEST).mkdir()
    return family


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--real-every", type=int, default=200)
    parser.add_argument("--ask-every", type=int, default=5, help="answer a question after every Nth open")
    parser.add_argument("--budget", type=float, default=0, help="stop after this many seconds (0: run every case)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    work = Path(tempfile.mkdtemp(prefix="fuzz-index-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, "utf-8")
    corpus_text = "\n".join((corpus / n).read_text("utf-8") for n in CORPUS)
    settings = Settings(corpus_dir=corpus, index_dir=work / "pristine", english_model=None)
    embedder = load_embedder(settings.model)
    real_rebuild = index_module.rebuild_index
    started = time.perf_counter()
    real_rebuild(settings, embedder, log=lambda m: None)
    pristine = load_index(settings.index_dir)
    shutil.copytree(settings.index_dir, work / "source")  # what the fast rebuild copies vocab.txt from
    pristine.path = work / "source" / pristine.path.name
    pristine_build = pristine.path.name
    pristine_manifest = (pristine.path / MANIFEST).read_bytes()
    print(f"built the pristine index in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    def fast_rebuild(settings, embedder, log=print, progress=None, english_embedder=None):
        # A copy of the pristine in-memory index, saved by the real save_index.
        index = dataclasses.replace(pristine, manifest=dict(pristine.manifest), path=pristine.path)
        save_index(index, settings.index_dir)
        return index

    stats: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    failures = []
    for case in range(args.cases):
        if args.budget and time.perf_counter() - started > args.budget:
            print(f"time budget reached after {case} cases", file=sys.stderr)
            break
        if case % 50 == 0:
            print(f"case {case}", file=sys.stderr, flush=True)
        root = work / f"case-{case}"
        # Hard links are cheap; the two files a mutation rewrites in place get inodes of their own.
        shutil.copytree(work / "pristine", root, symlinks=True, copy_function=os.link)
        for own in (root / CURRENT, root / pristine_build / MANIFEST):
            data = own.read_bytes()
            own.unlink()
            own.write_bytes(data)
        kind = "manifest" if case % 11 < 8 else "CURRENT"
        if kind == "manifest":
            family, data = manifest_mutation(rng, pristine_manifest)
            (root / pristine_build / MANIFEST).write_bytes(data)
        else:
            family = current_mutation(rng, root, pristine_build)
        row = stats[f"{kind}: {family}"]
        row["cases"] += 1
        messages: list[str] = []
        real = args.real_every and case % args.real_every == args.real_every - 1
        index_module.rebuild_index = real_rebuild if real else fast_rebuild
        row["real rebuilds"] += bool(real)
        case_settings = settings.replace(index_dir=root)
        try:
            index = open_index(case_settings, embedder, log=messages.append)
            asked = case % args.ask_every == 0
            quotes = Pipeline(case_settings, index, embedder).ask(QUESTION).quotes if asked else []
            check, manifest = read_manifest(root)  # what the next run will open: schema and checksums
            verify_files(check, manifest["files"])
        except BaseException as exc:  # noqa: BLE001 - counting them is the point
            row["tracebacks"] += 1
            failures.append((kind, family, "".join(traceback.format_exception(exc))[-1500:]))
            shutil.rmtree(root, ignore_errors=True)
            continue
        finally:
            index_module.rebuild_index = real_rebuild
        if messages:
            row["healed"] += len(messages) == 1 and messages[0].startswith("Rebuilding the index:")
        else:
            row["reused"] += 1
        row["longest message"] = max(row["longest message"], max((len(m) for m in messages), default=0))
        leftovers = {p.name for p in root.iterdir()} - {CURRENT, check.name}
        row["leftovers"] += bool(leftovers)
        row["asked"] += asked
        row["not verbatim"] += any(q.text not in corpus_text for q in quotes)
        shutil.rmtree(root, ignore_errors=True)

    columns = ["cases", "tracebacks", "healed", "reused", "leftovers", "asked", "not verbatim", "real rebuilds",
               "longest message"]
    total = defaultdict(int)
    done = sum(row["cases"] for row in stats.values())
    print(f"Seed {args.seed}, {done} cases, {time.perf_counter() - started:.0f} s "
          f"(`python benchmarks/fuzz_index.py --cases {args.cases} --seed {args.seed}`).\n")
    print("| mutation | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name in sorted(stats):
        row = stats[name]
        for c in columns:
            total[c] = max(total[c], row[c]) if c == "longest message" else total[c] + row[c]
        print(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
    print("| **all** | " + " | ".join(f"**{total[c]}**" for c in columns) + " |")
    for kind, family, text in failures[:5]:
        print(f"\nTRACEBACK ({kind}: {family}):\n{text}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if total["tracebacks"] else 0)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
