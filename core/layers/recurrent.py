"""Recurrent layers, Keras-shaped: SimpleRNN, LSTM and Embedding (the course's tutorials 33–36).

Sequences are float32 (N, T, F); Embedding takes integer ids (N, T). The initial state is
zeros. Weights are Keras's, in Keras's order and shapes:

    SimpleRNN  kernel (F, u), recurrent_kernel (u, u), bias (u,)
               h_t = tanh(x_t·W + h_{t−1}·U + b)
    LSTM       kernel (F, 4u), recurrent_kernel (u, 4u), bias (4u,), gate blocks i, f, c, o
               z = x_t·W + h_{t−1}·U + b;  i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_c)
               c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t)
    Embedding  embeddings (V, d): row ids[n, t] is the output at (n, t)

Backward is backpropagation through time, exact: every step's gradient flows back through
the same weights, summed over steps. The layers keep every time step's state for their
record (`trace_extras`): the hidden state, for LSTM each gate and the cell state, and after
backward the gradient arriving at each step's hidden state — the lessons draw from it.
Initialisation as Keras: glorot-uniform kernels, orthogonal recurrent kernels, zero biases
with the LSTM's forget-gate bias 1 (unit_forget_bias).

The numbers come from the Numba kernels of core/kernels/recurrent.py (their readable form:
core/kernels/recurrent_ref.py). Those keep every step's state time-major, (T, N, ·); the
record shows it as (N, T, ·) views.
"""
from __future__ import annotations

import numpy as np

from core import activations
from core.kernels import recurrent as K
from core.layers.base import Layer, as_clean_float32, glorot_uniform


def orthogonal(rng, shape) -> np.ndarray:
    """Keras's Orthogonal initialiser: the Q of a Gaussian matrix's QR decomposition."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a unique, uniformly distributed Q
    q = q if rows >= cols else q.T
    return np.ascontiguousarray(q[:rows, :cols], dtype=np.float32)


def _batch_major(a):
    """A kernel's time-major (T, N, ·) array seen as the layer's (N, T, ·), without a copy."""
    return a.transpose(1, 0, 2)


class _Recurrent(Layer):
    gates = 1
    takes_any_length = True   # the weights have no time axis
    #: the first layer's dx (a whole product over every step) is skipped in training
    input_grad_optional = True

    def __init__(self, units: int, return_sequences: bool = False, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"{type(self).__name__} units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.return_sequences = bool(return_sequences)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{type(self).__name__} takes sequences (time steps, features), "
                             f"got input shape {tuple(input_shape)}")
        t = input_shape[0]   # None: any length
        return (t, self.units) if self.return_sequences else (self.units,)

    def param_shapes(self, input_shape):
        f, k = int(input_shape[1]), self.gates * self.units
        return {"kernel": (f, k), "recurrent_kernel": (self.units, k), "bias": (k,)}

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        shapes = self.param_shapes(self.input_shape)
        f, k = shapes["kernel"]
        bias = np.zeros(k, np.float32)
        if self.gates == 4:
            bias[self.units:2 * self.units] = 1.0  # Keras's unit_forget_bias
        self.params = {"kernel": glorot_uniform(rng, (f, k), f, k),
                       "recurrent_kernel": orthogonal(rng, (self.units, k)), "bias": bias}

    def _sequences(self, x):
        x = as_clean_float32(x)
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} takes (N, T, F) sequences, got {x.shape}")
        return x

    def _weights(self):
        """(kernel, recurrent kernel, bias) as the kernels take them: C-contiguous float32
        (copied only if a caller swapped in an array that is not)."""
        return tuple(np.ascontiguousarray(self.params[k], dtype=np.float32)
                     for k in ("kernel", "recurrent_kernel", "bias"))

    def _output(self, hs):
        """The layer's output from the time-major hidden states (T, N, u)."""
        return np.ascontiguousarray(_batch_major(hs)) if self.return_sequences else hs[-1].copy()

    def _gradients(self, out):
        dx, dw, du, db, dh_steps, finite = out
        self.grads = {"kernel": dw, "recurrent_kernel": du, "bias": db}
        # the kernel read them all already: the step need not check them again
        self.finite_grads = tuple(self.grads) if finite else ()
        self._cache["dh"] = dh_steps
        return dx

    def _dy(self, dy):
        return np.ascontiguousarray(dy, dtype=np.float32)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "return_sequences": self.return_sequences}


class SimpleRNN(_Recurrent):
    """h_t = f(x_t·W + h_{t−1}·U + b), f tanh by default (Keras's), or relu, sigmoid,
    leaky_relu or linear: the vanishing-gradients lesson compares them."""

    base_name = "simple_rnn"
    gates = 1

    def __init__(self, units: int, activation="tanh", return_sequences: bool = False,
                 name=None, trainable=True):
        super().__init__(units, return_sequences=return_sequences, name=name,
                         trainable=trainable)
        self.activation = activations.get(activation)
        if self.activation is not None and self.activation.name == "softmax":
            raise ValueError("SimpleRNN takes an element-wise activation (tanh, relu, "
                             "sigmoid, leaky_relu or linear), not softmax")

    def _kind(self):
        """(activation name, leaky slope) as the kernels take them."""
        return activations.name_of(self.activation), float(getattr(self.activation, "alpha", 0.0))

    def forward(self, x, training=False):
        x = self._sequences(x)                                   # (N, T, F)
        zs, hs = K.rnn_forward_planned(x, *self._weights(), *self._kind())   # (T, N, u) each
        self._cache = {"x": x, "zs": zs, "hs": hs}
        return self._output(hs)

    def backward(self, dy, need_input_grad=True):
        c = self._cache
        w, u, _ = self._weights()
        return self._gradients(K.rnn_backward_planned(
            c["x"], w, u, c["zs"], c["hs"], self._dy(dy), *self._kind(),
            need_input_grad=need_input_grad))

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}

    def trace_extras(self):
        if "hs" not in self._cache:
            return {}
        out = {"hidden_states": _batch_major(self._cache["hs"])}
        if "dh" in self._cache:
            out["grad_hidden_states"] = _batch_major(self._cache["dh"])
        return out


class LSTM(_Recurrent):
    base_name = "lstm"
    gates = 4

    def forward(self, x, training=False):
        x = self._sequences(x)                                   # (N, T, F)
        gates, cs, tcs, hs = K.lstm_forward_planned(x, *self._weights())   # (T, N, ·) each
        self._cache = {"x": x, "gates": gates, "cs": cs, "tcs": tcs, "hs": hs}
        return self._output(hs)

    def backward(self, dy, need_input_grad=True):
        c = self._cache
        w, u, _ = self._weights()
        return self._gradients(K.lstm_backward_planned(
            c["x"], w, u, c["gates"], c["cs"], c["tcs"], c["hs"], self._dy(dy),
            need_input_grad=need_input_grad))

    def trace_extras(self):
        if "gates" not in self._cache:
            return {}
        m = self.units
        gates = _batch_major(self._cache["gates"])          # i, f, g, o after their functions
        out = {"hidden_states": _batch_major(self._cache["hs"]),
               "cell_states": _batch_major(self._cache["cs"]),
               "input_gate": gates[..., :m], "forget_gate": gates[..., m:2 * m],
               "candidate": gates[..., 2 * m:3 * m], "output_gate": gates[..., 3 * m:]}
        if "dh" in self._cache:
            out["grad_hidden_states"] = _batch_major(self._cache["dh"])
        return out


class Embedding(Layer):
    """Integer ids (N, T) → their rows of a (V, d) table. First layer only: ids have no gradient."""

    base_name = "embedding"
    takes_any_length = True

    def __init__(self, input_dim: int, output_dim: int, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Embedding {what} must be a positive integer, got {v!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Embedding takes sequences of ids (time steps,), got input shape "
                             f"{tuple(input_shape)}")
        return (input_shape[0], self.output_dim)   # None: any length

    def param_shapes(self, input_shape):
        return {"embeddings": (self.input_dim, self.output_dim)}

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng if rng is not None else np.random.default_rng()
        self.params = {"embeddings": rng.uniform(-0.05, 0.05, (self.input_dim, self.output_dim))
                       .astype(np.float32)}   # Keras's default: RandomUniform(±0.05)

    def forward(self, x, training=False):
        ids = np.asarray(x)
        if ids.dtype.kind == "f":
            if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
                raise ValueError("Embedding takes whole-number ids")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            raise ValueError(f"Embedding ids must be in 0…{self.input_dim - 1}, got "
                             f"{int(ids.min())}…{int(ids.max())}")
        self._cache = {"ids": ids}
        return self.params["embeddings"][ids]                       # (N, T, d)

    def backward(self, dy):
        grad = np.zeros_like(self.params["embeddings"])
        np.add.at(grad, self._cache["ids"].reshape(-1), dy.reshape(-1, self.output_dim))
        self.grads = {"embeddings": grad}   # a repeated id gets the sum of its gradients
        self.finite_grads = ()
        return np.zeros(self._cache["ids"].shape, np.float32)   # ids: nothing to pass back

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim}


__all__ = ["SimpleRNN", "LSTM", "Embedding", "orthogonal"]
