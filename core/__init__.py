"""Backprop Lab's engine: layers, models, losses, optimizers, data and metrics.

Keras-shaped on purpose (the course's notebooks use Keras), NumPy + Numba underneath,
and never imports Qt: everything here runs in a plain Python shell or a worker thread.

Three parts, to be read in this order:
- the engine at this level (model.py, layers/, losses.py, activations.py, optimizers.py,
  callbacks.py, trace.py, io.py, metrics.py, digits.py, augment.py, data/): what a
  network computes, written to read like the course;
- fast/ and kernels/: the speed lane, computing the same numbers faster (optional to read);
- teaching/: the numbers behind the lessons; the engine never imports it.
"""
