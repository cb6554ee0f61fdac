"""The speed lane: the same numbers as the readable engine, computed faster.

Nothing here changes what a model computes. `plan` picks how a training step runs,
`dense_step` trains a whole dense network in one compiled call, `conv_pool` runs a
convolution and the pooling after it as one pass, and `warmup` compiles the kernels
ahead of need. Reading the engine (core/model.py, core/layers/) never requires this folder.
"""
