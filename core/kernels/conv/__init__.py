"""The convolution family, layered bottom-up (each file imports only from those above it):

    blocks.py      im2col / col2im, bias + ReLU, chunk sums, max-pool window rules, pool blocks
    direct.py      direct loops for tiny receptive fields (3x3 on one channel, also + 2x2 pool)
    im2col.py      conv2d forward / backward: im2col + BLAS (or direct loops), plans, checks
    winograd.py    3x3 conv + ReLU + 2x2 max pool by Winograd's F(2x2, 3x3), and its part kernels
    pool_fused.py  conv + ReLU + max pool fused: picks direct, Winograd or im2col
    reference.py   the same numbers by plain NumPy loops, slow and obviously correct

The public functions are reachable as `core.kernels.<name>` (loaded on first use).
"""
