"""Matrix products on strided row-major blocks, handed to BLAS without copies.

np.dot inside jitted code only takes contiguous arrays, so a thread that should compute a
block of columns of a product (say z[:, 64:128] = x @ W[:, 64:128], reading only its half
of W) would first have to copy its block. BLAS itself takes a leading dimension for every
operand, so no copy is needed: `gemm` hands the blocks to BLAS's sgemm/dgemm - NumPy's own
OpenBLAS where NumPy ships one (faster, see _blas_library), else SciPy's through the entry
point Numba's np.dot calls (numba_xxgemm in Numba's helper library). Either is resolved by
name, so the kernels calling it stay in Numba's on-disk cache.

BLAS is column-major: a row-major (m x n) block with row stride ld is, to it, the
transposed (n x m) matrix with leading dimension ld, so C = op(A) @ op(B) is asked for as
C^T = op(B)^T @ op(A)^T.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._blas_library import load_for_numba

try:  # Numba's own entry point to SciPy's BLAS (internal, stable for years; see below)
    from numba.np.linalg import _BLAS, ensure_blas

    ensure_blas()
    _sgemm = _BLAS().numba_xxgemm(types.float32)
    _dgemm = _BLAS().numba_xxgemm(types.float64)
    HAVE_XXGEMM = True
except (ImportError, AttributeError, TypeError):  # a Numba without it: contiguous copies
    HAVE_XXGEMM = False


def _cblas(name, real):
    """NumPy's CBLAS gemm `name` (order, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
    beta, C, ldc; 64-bit sizes), called by name from compiled code."""
    i64, i32, p = types.int64, types.int32, types.voidptr
    return types.ExternalFunction(name, types.void(i32, i32, i32, i64, i64, i64, real, p, i64, p,
                                                   i64, real, p, i64))


_NUMPY_CBLAS = load_for_numba()
if _NUMPY_CBLAS is not None:
    _cblas_sgemm = _cblas(_NUMPY_CBLAS[1], types.float32)
    _cblas_dgemm = _cblas(_NUMPY_CBLAS[2], types.float64)

_N, _T = 110, 116  # 'n', 't'
_COL_MAJOR, _NO_TRANS, _TRANS = 102, 111, 112  # CBLAS's enums


def _xxgemm(c, fb, fa, n, m, k, b, a, beta):
    """Column-major sgemm or dgemm by c's dtype (jitted code only, see the overload)."""
    raise NotImplementedError


@overload(_xxgemm)
def _xxgemm_typed(c, fb, fa, n, m, k, b, a, beta):
    if _NUMPY_CBLAS is not None:
        fn = _cblas_sgemm if c.dtype == types.float32 else _cblas_dgemm

        def numpys(c, fb, fa, n, m, k, b, a, beta):
            fn(_COL_MAJOR, _TRANS if fb == _T else _NO_TRANS, _TRANS if fa == _T else _NO_TRANS,
               n, m, k, 1.0, b.ctypes, _ld(b), a.ctypes, _ld(a), beta, c.ctypes, _ld(c))
            return 0
        return numpys
    if not HAVE_XXGEMM:
        def copied(c, fb, fa, n, m, k, b, a, beta):
            # the same product with np.dot on contiguous copies (slower, same numbers)
            opa = np.ascontiguousarray(a.T) if fa == _T else np.ascontiguousarray(a)
            opb = np.ascontiguousarray(b.T) if fb == _T else np.ascontiguousarray(b)
            prod = np.dot(opa, opb)
            for i in range(m):
                for j in range(n):
                    c[i, j] = prod[i, j] + beta * c[i, j] if beta != 0.0 else prod[i, j]
            return 0
        return copied
    fn, kind = (_sgemm, 115) if c.dtype == types.float32 else (_dgemm, 100)  # 's' / 'd'

    def scipys(c, fb, fa, n, m, k, b, a, beta):
        one = np.ones(1, dtype=c.dtype)
        scale = np.full(1, beta, dtype=c.dtype)
        return fn(kind, fb, fa, n, m, k, one.ctypes, b.ctypes, _ld(b), a.ctypes, _ld(a),
                  scale.ctypes, c.ctypes, _ld(c))
    return scipys


@njit(cache=True, nogil=True)
def _ld(x):
    """Row stride in elements of a row-major block. A one-row array's stride can be
    anything (NumPy gives x[None] a stride of 0) and BLAS rejects a leading dimension
    below the row length, so one row counts as a packed one."""
    if x.shape[0] > 1:
        return x.strides[0] // x.itemsize
    return max(x.shape[1], 1)


@njit(cache=True, nogil=True, inline="always")
def gemm(a, b, c, trans_a, trans_b, beta):
    """_gemm (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _gemm(a, b, c, bool(trans_a), bool(trans_b), float(beta))


@njit(cache=True, nogil=True)
def _gemm(a, b, c, trans_a, trans_b, beta):
    """c = op(a) @ op(b) + beta * c on 2-D row-major blocks of one float dtype.

    op(x) is x, or x transposed when trans_x. Each block may be a strided view (a block of
    columns, say) as long as its elements along a row are contiguous; c must have the
    product's shape. Nothing is checked: this is for trusted kernels.
    """
    m, n = c.shape[0], c.shape[1]
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:  # an empty sum (BLAS would reject the zero leading dimensions of empty operands)
        for i in range(m):
            for j in range(n):
                c[i, j] = c[i, j] * beta if beta != 0.0 else 0.0
        return
    _xxgemm(c, _T if trans_b else _N, _T if trans_a else _N, n, m, k, b, a, beta)


#: A product with at most this many rows against a weight block of at least this many
#: elements, times the block transposed, is asked of BLAS the other way round (see
#: weights_product).
FEW_ROWS = 64
BIG_WEIGHTS = 1 << 20


@njit(cache=True, nogil=True)
def transposed_is_faster(rows, weights, trans_w):
    """Does weights_product compute c^T and transpose it for these sizes?"""
    return trans_w and rows <= FEW_ROWS and weights >= BIG_WEIGHTS


@njit(cache=True, nogil=True)
def weights_product(a, w, c, trans_w):
    """c = a @ op(w) for a batch a (N, K) and a weight block w: op(w) is w, or w.T when trans_w.

    Which way round BLAS is asked changes only its kernel (same products, same sums, so
    results agree to rounding), and the faster way depends on the product. Measured here
    (OpenBLAS 0.3.30 SkylakeX kernels, AMD EPYC; one thread, operands evicted from the
    cache first, the thread's processor time so that other programs on the shared cores
    do not count; 15 repeats, medians): the backward pass's dx = dz @ W^T with few samples
    and a big W is faster asked as (W dz^T)^T - 32x1000 @ (1000x3000)^T 3.30 ms against
    3.69 ms, the halves of it a tie - so those take the transposed form; the forward
    x @ W is faster asked directly - 32x3072 @ 3072x3000 19.2 ms against 25.8 ms, a
    thread's half of it 9.5 against 12.2 ms, 32x1500 @ 1500x1000 3.0 against 4.5 ms
    (wall-time minima agree: 28.9 against 33.8 ms). An earlier wall-time measurement on
    the loaded cores had found the forward 2.7x faster transposed; the processor time
    and the minima do not reproduce it. Small weight blocks (the course's 784x128) keep
    the direct product either way.
    """
    if transposed_is_faster(c.shape[0], w.shape[0] * w.shape[1], trans_w):
        ct = np.empty((c.shape[1], c.shape[0]), dtype=c.dtype)
        gemm(w, a, ct, not trans_w, True, 0.0)
        c[:, :] = ct.T
    else:
        gemm(a, w, c, False, trans_w, 0.0)


#: OpenBLAS has small-matrix kernels that skip packing the operands on its AVX-512
#: ("SkylakeX") kernel family. 100³ for M·N·K is the limit as measured here, not read in
#: OpenBLAS's source: blocks of 64x128x64 (0.5 M) were faster than one call, blocks of
#: 64x128x128 (1.05 M) were not; Cooperlake and SapphireRapids are listed on the
#: assumption that they use the SkylakeX kernels (not measured). For products used over and
#: over on the same small operands - a recurrent layer's h_{t-1}·U at every time step - a
#: few such calls beat one packed call: per thread and step of an LSTM(128) on 64 sequences
#: (OpenBLAS 0.3.30 SkylakeX kernels, AMD EPYC, one thread) 64x128·128x256 took 36.8 us in
#: four column blocks against 48.8 us in one call, dz·U_blockᵀ 38.7 against 51.3 us, the
#: dU step 37.7 against 46.8 us. With the Haswell or Zen kernels (OPENBLAS_CORETYPE)
#: splitting made the same products 5-17 % slower, so elsewhere nothing is split.
SMALL_KERNEL_ARCHITECTURES = ("skylakex", "cooperlake", "sapphirerapids")
SMALL_MNK = 100 ** 3


def small_product_limit() -> int:
    """SMALL_MNK where the BLAS has unpacked small-matrix kernels, else 0 (gemm_blocks then
    makes one call). Fixed per machine and environment, so results never depend on timing."""
    from ._threads import blas_architecture

    return SMALL_MNK if blas_architecture().lower() in SMALL_KERNEL_ARCHITECTURES else 0


@njit(cache=True, nogil=True, inline="always")
def gemm_blocks(a, b, c, trans_a, trans_b, beta, small):
    """_gemm_blocks (below), for constant and variable arguments alike: the flags and sizes go
    on as plain values, so that a call with a constant (a literal 0, True, 3) does not
    compile another copy of the kernel for that value (Numba specialises a called
    function on its literal arguments)."""
    return _gemm_blocks(a, b, c, bool(trans_a), bool(trans_b), float(beta), int(small))


@njit(cache=True, nogil=True)
def _gemm_blocks(a, b, c, trans_a, trans_b, beta, small):
    """gemm, in blocks of c's columns (multiples of 16) each with m·n·k ≤ small, so that
    BLAS takes its unpacked small-matrix kernel (see SMALL_MNK); one call when small is 0
    or the product fits already or blocks of 16 columns would still be too big."""
    m, n = c.shape[0], c.shape[1]
    k = a.shape[0] if trans_a else a.shape[1]
    per_col = m * k
    if small <= 0 or per_col * n <= small or per_col * 16 > small:
        gemm(a, b, c, trans_a, trans_b, beta)
        return
    parts = (per_col * n + small - 1) // small
    while True:     # equal blocks, rounded up to 16 columns, each within the limit
        width = ((n + parts - 1) // parts + 15) // 16 * 16
        if per_col * width <= small:
            break
        parts += 1
    for c0 in range(0, n, width):
        c1 = min(n, c0 + width)
        if trans_b:
            gemm(a, b[c0:c1, :], c[:, c0:c1], trans_a, trans_b, beta)
        else:
            gemm(a, b[:, c0:c1], c[:, c0:c1], trans_a, trans_b, beta)
