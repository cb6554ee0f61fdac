"""A whole training step of a dense network with a softmax output, as one compiled call.

A step of the course's 784-128-10 network is two matrix products of ~0.1 ms each; run
layer by layer from Python, the rest of the step (a dozen kernel calls, their argument
checks, the loss, the finiteness checks, the optimizer's loop) cost as much again. This
kernel runs the same kernels in the same order on the same blocks - dense.forward_auto,
losses.softmax_xent_sparse_jit, dense.backward_auto, sgd.sgd_matrix_auto / sgd_plain - so
the numbers are bit for bit those of the layer-by-layer step; only the Python between
them is gone. core.fast.plan decides when a model can take it (core.fast.dense_step runs it).

Layers come as typed lists (weights (I, O), biases (O,)) so that one compiled kernel
serves any depth; the gradients go into one flat buffer the caller slices into per-layer
arrays (returning arrays in a typed list would cost more to unpack in Python than the
small layers take to compute).
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

from ._common import finite_sum
from .activations import softmax_forward_jit
from . import dense, fanout, sgd
from .dense import backward_auto, forward_auto
from .losses import softmax_xent_sparse_jit
from .sgd import sgd_matrix_auto, sgd_plain


#: what train_step did with the weights (PARTS_FAILED: a part kernel on the threads
#: failed or was not found for its types, see core.kernels.fanout; a bug if ever seen)
APPLIED, NOT_FINITE, BAD_LABELS, PARTS_FAILED = 1, 0, -1, -2


def part_addresses():
    """The addresses train_step takes: (dense part kernels', their tags, SGD rows')."""
    addrs, tags = dense.part_addresses()
    return addrs, tags, sgd.rows_address()


@njit(cache=True, nogil=True)
def train_step(x, labels, ws, bs, relus, lr, nt, want_probs, grads, offsets, addrs, tags,
               rows):
    """Forward, sparse softmax cross-entropy, backward and (if everything is finite) the
    SGD update in place. x (N, I) float32; labels (N,) int64 (their range is checked first);
    the last layer's activation is the softmax the loss fuses with, the others ReLU where
    relus says so, else none. Layer k's weight gradient is written to
    grads[offsets[2k]:offsets[2k+1]] and its bias gradient to the slice after that.

    addrs, tags, rows: part_addresses(). Returns (per-sample losses, softmax probabilities
    (or an empty array unless want_probs), APPLIED, NOT_FINITE (nothing changed),
    BAD_LABELS (a class id out of range: nothing computed) or PARTS_FAILED).
    """
    n_layers = len(ws)
    n_classes = ws[n_layers - 1].shape[1]
    for i in range(labels.size):
        if labels[i] < 0 or labels[i] >= n_classes:
            return (np.empty(0, dtype=x.dtype), np.empty((0, 0), dtype=x.dtype), BAD_LABELS)
    ins = List()
    outs = List()
    packs = List()
    h = x
    for k in range(n_layers):
        z, a, pack, status = forward_auto(h, ws[k], bs[k], relus[k], nt, addrs, tags)
        if status != fanout.RAN:
            return np.empty(0, dtype=x.dtype), np.empty((0, 0), dtype=x.dtype), PARTS_FAILED
        ins.append(h)
        outs.append(a)
        packs.append(pack)
        h = a
    per_sample, g = softmax_xent_sparse_jit(h, labels)
    probs = softmax_forward_jit(h) if want_probs else np.empty((0, 0), dtype=h.dtype)
    finite = True
    for v in per_sample:
        if not v - v == 0.0:  # NaN for NaN and for ±inf
            finite = False
    for k in range(n_layers - 1, -1, -1):
        w = ws[k]
        relu = relus[k]
        dw = grads[offsets[2 * k]:offsets[2 * k + 1]].reshape(w.shape)
        # as Dense.backward: ReLU's mask from its output; otherwise dy is dL/dz already
        dx, db, dw_finite, status = backward_auto(ins[k], w, outs[k] if relu else g, g, relu,
                                                  k > 0, nt, dw, packs[k], addrs, tags)
        if status != fanout.RAN:
            return per_sample, probs, PARTS_FAILED
        grads[offsets[2 * k + 1]:offsets[2 * k + 2]] = db
        finite = finite and dw_finite and finite_sum(db) == 0.0
        g = dx
    if finite:
        for k in range(n_layers):
            w = ws[k]
            status = sgd_matrix_auto(w, grads[offsets[2 * k]:offsets[2 * k + 1]].reshape(w.shape),
                                     lr, nt, rows[0], rows[1])
            if status != fanout.RAN:
                return per_sample, probs, PARTS_FAILED
            sgd_plain(bs[k], grads[offsets[2 * k + 1]:offsets[2 * k + 2]], lr)
    return per_sample, probs, APPLIED if finite else NOT_FINITE
