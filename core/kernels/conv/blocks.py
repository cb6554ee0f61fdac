"""The bottom layer of the convolution family: blocks every conv driver is built from.

- im2col / col2im: a block of samples' receptive fields as the rows of a "columns" matrix
  (channels-last, so a kernel row of KW pixels is KW*C contiguous values), and the
  scatter-add back. `block_samples` sizes a block so its columns stay in cache.
- bias + ReLU on a block of output while it is in cache, and the fixed-order sum of the
  chunks' partial weight gradients (the same bits whatever the timing).
- the per-element window rules of max pooling (ReLU, "does v win?", the max of a 2x2
  window, ReLU's gradient from its output). They are tiny and run once per element in
  the innermost loops, so they are inlined where they are used (Numba-level inlining: the
  compiler then vectorises them with the loop).
- pooling a block of conv outputs, and the reverse (the pooled gradient back to each
  window's winner), for the fused conv + pool drivers.

Imports nothing from the rest of conv/: im2col, direct, winograd and pool_fused build on it.
"""
from __future__ import annotations

from numba import njit

from .._common import FASTMATH

# Columns built at once per thread, in elements (512 KiB at float32): fits in L2 with the
# kernel matrix, and is still enough rows for BLAS to run at full speed.
BLOCK_ELEMENTS = 1 << 17


# ---------------------------------------------------------------- im2col, col2im


@njit(cache=True, nogil=True)
def block_samples(per, k, n):
    """Samples per block so that a block's columns (per*k values each) stay in cache."""
    return min(max(1, BLOCK_ELEMENTS // max(1, per * k)), max(n, 1))


@njit(cache=True, nogil=True)
def block_samples_backward(per, k, c_out, n):
    """The same for a backward block, which holds its gradient rows (C_out each) too."""
    return min(max(1, BLOCK_ELEMENTS // max(1, per * (k + c_out))), max(n, 1))


@njit(cache=True, nogil=True, inline="always")
def im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols):
    """_im2col (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _im2col(x, int(n0), int(n1), int(kh), int(kw), int(sh), int(sw), int(ph), int(pw),
                   int(oh_), int(ow_), cols)


@njit(cache=True, nogil=True)
def _im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, cols):
    """Fill cols[: (n1-n0)*oh_*ow_] with the receptive fields of samples n0..n1-1.

    Channels-last makes each kernel row of a receptive field (KW pixels x C channels) one
    contiguous run of x, copied as a block; only windows hanging over the border go pixel
    by pixel (zero padding).
    """
    r = 0
    for n in range(n0, n1):
        r = im2col_rows(x, n, 0, oh_, kh, kw, sh, sw, ph, pw, ow_, cols, r)


@njit(cache=True, nogil=True, inline="always")
def im2col_rows(x, n, oh0, oh1, kh, kw, sh, sw, ph, pw, ow_, cols, r):
    """_im2col_rows (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _im2col_rows(x, int(n), int(oh0), int(oh1), int(kh), int(kw), int(sh), int(sw),
                        int(ph), int(pw), int(ow_), cols, int(r))


@njit(cache=True, nogil=True)
def _im2col_rows(x, n, oh0, oh1, kh, kw, sh, sw, ph, pw, ow_, cols, r):
    """Receptive fields of output rows oh0..oh1-1 of sample n into cols from row r on;
    returns the next free row."""
    h_in, w_in, c_in = x.shape[1], x.shape[2], x.shape[3]
    run = kw * c_in
    xr = x.reshape(x.shape[0], h_in, w_in * c_in)  # (N, H, W*C): a kernel row is a slice
    for oh in range(oh0, oh1):
        h0 = oh * sh - ph
        for ow in range(ow_):
            w0 = ow * sw - pw
            inside = w0 >= 0 and w0 + kw <= w_in
            for i in range(kh):
                ih = h0 + i
                col = i * run
                if ih < 0 or ih >= h_in:
                    for q in range(run):
                        cols[r, col + q] = 0.0
                    continue
                # indices only, no row views: a view's reference count is an atomic
                # update, which two threads would fight over (see _threads)
                if inside:
                    base = w0 * c_in
                    for q in range(run):
                        cols[r, col + q] = xr[n, ih, base + q]
                    continue
                for j in range(kw):
                    iw = w0 + j
                    ok = iw >= 0 and iw < w_in
                    for c in range(c_in):  # zero padding outside the image
                        cols[r, col + j * c_in + c] = xr[n, ih, iw * c_in + c] if ok else 0.0
            r += 1
    return r


@njit(cache=True, nogil=True, inline="always")
def col2im(dcols, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, dx):
    """_col2im (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _col2im(dcols, int(n0), int(n1), int(kh), int(kw), int(sh), int(sw), int(ph),
                   int(pw), int(oh_), int(ow_), dx)


@njit(cache=True, nogil=True)
def _col2im(dcols, n0, n1, kh, kw, sh, sw, ph, pw, oh_, ow_, dx):
    """Scatter-add rows of dcols onto dx[n0:n1]; padding positions are dropped."""
    h_in, w_in, c_in = dx.shape[1], dx.shape[2], dx.shape[3]
    run = kw * c_in
    dxr = dx.reshape(dx.shape[0], h_in, w_in * c_in)  # (N, H, W*C)
    r = 0
    for n in range(n0, n1):
        for oh in range(oh_):
            h0 = oh * sh - ph
            for ow in range(ow_):
                w0 = ow * sw - pw
                inside = w0 >= 0 and w0 + kw <= w_in
                for i in range(kh):
                    ih = h0 + i
                    if ih < 0 or ih >= h_in:
                        continue
                    col = i * run
                    if inside:
                        base = w0 * c_in
                        for q in range(run):
                            dxr[n, ih, base + q] += dcols[r, col + q]
                    else:
                        for j in range(kw):
                            iw = w0 + j
                            if iw >= 0 and iw < w_in:
                                for c in range(c_in):
                                    dxr[n, ih, iw * c_in + c] += dcols[r, col + j * c_in + c]
                r += 1


# ---------------------------------------------------------------- bias, ReLU, chunk sums


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def bias_act(out, b, relu):
    """out += b, then ReLU in place when asked (NaN stays NaN)."""
    for r in range(out.shape[0]):
        for o in range(out.shape[1]):
            v = out[r, o] + b[o]
            if relu:
                v = v if (v > 0 or v != v) else 0.0
            out[r, o] = v


@njit(cache=True, nogil=True)
def sum_chunks(dwp, dbp, dtype_like):
    """Add the chunks' partial sums in a fixed order: the same bits every run."""
    dw = dwp[0].copy()
    db = dbp[0].copy()
    for t in range(1, dwp.shape[0]):
        dw += dwp[t]
        db += dbp[t]
    return dw, db.astype(dtype_like.dtype)


# ---------------------------------------------------------------- window rules


@njit(cache=True, nogil=True, inline="always")
def relu(v, on):
    """max(v, 0) when on, NaN stays NaN; v unchanged otherwise."""
    if on:
        return v if (v > 0 or v != v) else 0.0
    return v


@njit(cache=True, nogil=True, inline="always")
def better(v, best):
    """Does v replace the best so far? The first maximum wins ties; NaN wins and stays."""
    return v > best or (v != v and best == best)


@njit(cache=True, nogil=True, inline="always")
def max4(v00, v01, v10, v11):
    """(maximum, its position 0..3) of a 2x2 window given row by row, by `better`."""
    best, k = v00, 0
    if better(v01, best):
        best, k = v01, 1
    if better(v10, best):
        best, k = v10, 2
    if better(v11, best):
        best, k = v11, 3
    return best, k


@njit(cache=True, nogil=True, inline="always")
def relu_grad(g, a):
    """dL/dz from g = dL/da and the ReLU's output a: g where a > 0, g*0 where a <= 0 (so a
    NaN or inf arriving in g stays visible), and a itself where a is NaN."""
    if a > 0:
        return g
    return g * 0.0 if a <= 0 else a


# ---------------------------------------------------------------- pooling blocks


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def pool_block(z, s0, s1, oh_, ow_, pkh, pkw, ph_, pw_, want_arg, y, arg):
    """Max-pool samples s0..s1-1 whose conv outputs are rows of z (block-relative)."""
    per = oh_ * ow_
    for s in range(s1 - s0):
        pool_rows(z, s * per, s0 + s, 0, ph_, ow_, pkh, pkw, pw_, want_arg, y, arg)


@njit(cache=True, nogil=True, inline="always")
def pool_rows(z, z0, n, p0, p1, ow_, pkh, pkw, pw_, want_arg, y, arg):
    """_pool_rows (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _pool_rows(z, int(z0), int(n), int(p0), int(p1), int(ow_), int(pkh), int(pkw),
                      int(pw_), bool(want_arg), y, arg)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _pool_rows(z, z0, n, p0, p1, ow_, pkh, pkw, pw_, want_arg, y, arg):
    """Pooled rows p0..p1-1 of sample n; z row z0 holds conv output row p0*pkh, column 0."""
    c_out = z.shape[1]
    for ph in range(p0, p1):
        for pw in range(pw_):
            # indices only, no row views: see im2col
            r0 = z0 + (ph - p0) * pkh * ow_ + pw * pkw
            for c in range(c_out):
                y[n, ph, pw, c] = z[r0, c]
            if want_arg:
                for c in range(c_out):
                    arg[n, ph, pw, c] = 0
            for i in range(pkh):
                for j in range(pkw):
                    if i == 0 and j == 0:
                        continue
                    r = r0 + i * ow_ + j
                    loc = i * pkw + j
                    for c in range(c_out):
                        v = z[r, c]
                        b = y[n, ph, pw, c]
                        take = better(v, b)  # first maximum wins ties; NaN wins and stays
                        y[n, ph, pw, c] = v if take else b
                        if want_arg and take:
                            arg[n, ph, pw, c] = loc


@njit(cache=True, nogil=True, inline="always")
def unpool_block(y, arg, dy, s0, s1, oh_, ow_, pkh, pkw, relu, g, dz, db):
    """_unpool_block (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _unpool_block(y, arg, dy, int(s0), int(s1), int(oh_), int(ow_), int(pkh), int(pkw),
                         bool(relu), g, dz, db)


@njit(cache=True, nogil=True)
def _unpool_block(y, arg, dy, s0, s1, oh_, ow_, pkh, pkw, relu, g, dz, db):
    """dz (block rows) = the pooled gradient at each window's winner, 0 everywhere else.

    Written row by row in one pass (every element once, no zero-fill then scatter). With
    relu the winner's ReLU mask comes from the pooled output (the max of ReLU'd values is
    > 0 exactly when the winner's pre-activation is): dy passes, dy*0 keeps NaN/inf
    visible, a NaN output stays NaN. db (float64) += what reaches the pre-activations.
    g is a (C,) scratch row.
    """
    per = oh_ * ow_
    ph_, pw_, c_out = dy.shape[1], dy.shape[2], dy.shape[3]
    for s in range(s1 - s0):
        n = s0 + s
        base = s * per
        for i_ in range(ph_):
            for j_ in range(pw_):
                for c in range(c_out):
                    v = dy[n, i_, j_, c]
                    if relu:
                        v = relu_grad(v, y[n, i_, j_, c])
                    g[c] = v
                    db[c] += v
                for i in range(pkh):
                    for j in range(pkw):
                        loc = i * pkw + j
                        r = base + (i_ * pkh + i) * ow_ + j_ * pkw + j
                        for c in range(c_out):
                            dz[r, c] = g[c] if arg[n, i_, j_, c] == loc else 0.0
        # conv outputs no window covers (an odd edge row or column) get no gradient
        for oh in range(oh_):
            first = pw_ * pkw if oh < ph_ * pkh else 0
            for ow in range(first, ow_):
                for c in range(c_out):
                    dz[base + oh * ow_ + ow, c] = 0.0
