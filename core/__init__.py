"""Backprop Lab's engine: layers, models, losses, optimizers, data and metrics.

Keras-shaped on purpose (the course's notebooks use Keras), NumPy + Numba underneath,
and never imports Qt: everything here runs in a plain Python shell or a worker thread.
"""
