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
"""
from __future__ import annotations

import numpy as np

from core import activations
from core.layers.base import Layer, as_clean_float32, glorot_uniform


def orthogonal(rng, shape) -> np.ndarray:
    """Keras's Orthogonal initialiser: the Q of a Gaussian matrix's QR decomposition."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # a unique, uniformly distributed Q
    q = q if rows >= cols else q.T
    return q[:rows, :cols].astype(np.float32)


def _sigmoid(z, out=None):
    """σ(z) = (1 + tanh(z/2)) / 2: one ufunc pass, and no exp that could overflow."""
    out = np.multiply(z, np.float32(0.5), out=out)
    np.tanh(out, out=out)
    out *= np.float32(0.5)
    out += np.float32(0.5)
    return out


class _Recurrent(Layer):
    gates = 1
    takes_any_length = True   # the weights have no time axis

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

    def _output(self, hs):
        return np.ascontiguousarray(hs) if self.return_sequences else hs[:, -1].copy()

    def _incoming(self, dy, n, t):
        """The gradient arriving at every step's hidden state from the layer above."""
        dh = np.zeros((n, t, self.units), np.float32)
        if self.return_sequences:
            dh += dy
        else:
            dh[:, -1] = dy
        return dh

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

    def _f(self, z):
        if self.activation is None:
            return z
        if self.activation.name == "tanh":
            return np.tanh(z)
        return self.activation.forward(np.ascontiguousarray(z))

    def forward(self, x, training=False):
        x = self._sequences(x)                                   # (N, T, F)
        w, u, b = (self.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
        n, t, _ = x.shape
        xw = (x.reshape(n * t, -1) @ w).reshape(n, t, self.units) + b   # every step at once
        hs = np.empty((n, t, self.units), np.float32)
        zs = np.empty_like(hs) if activations.name_of(self.activation) != "tanh" else None
        h = np.zeros((n, self.units), np.float32)
        for s in range(t):
            z = xw[:, s] + h @ u
            if zs is not None:
                zs[:, s] = z
            h = self._f(z)
            hs[:, s] = h
        self._cache = {"x": x, "hs": hs, "zs": zs}
        return self._output(hs)

    def _dz(self, s, dh):
        """∂L/∂z_t from ∂L/∂h_t: tanh's derivative from its output, others from z_t."""
        hs, zs = self._cache["hs"], self._cache["zs"]
        if zs is None:
            return dh * (1.0 - hs[:, s] ** 2)
        if self.activation is None:
            return dh
        return self.activation.backward(np.ascontiguousarray(zs[:, s]),
                                        np.ascontiguousarray(hs[:, s]),
                                        np.ascontiguousarray(dh, dtype=np.float32))

    def backward(self, dy):
        x, hs = self._cache["x"], self._cache["hs"]
        w, u = self.params["kernel"], self.params["recurrent_kernel"]
        n, t, f = x.shape
        dh_in = self._incoming(dy, n, t)
        dz = np.empty_like(hs)                                  # ∂L/∂z_t
        dh_steps = np.empty_like(hs)                            # ∂L/∂h_t, all paths
        carry = np.zeros((n, self.units), np.float32)           # from step t+1 through U
        for s in range(t - 1, -1, -1):
            dh = dh_in[:, s] + carry
            dh_steps[:, s] = dh
            dz[:, s] = self._dz(s, dh)
            carry = dz[:, s] @ u.T
        h_prev = np.concatenate([np.zeros((n, 1, self.units), np.float32), hs[:, :-1]], axis=1)
        dz2 = dz.reshape(n * t, self.units)
        self.grads = {"kernel": x.reshape(n * t, f).T @ dz2,
                      "recurrent_kernel": h_prev.reshape(n * t, self.units).T @ dz2,
                      "bias": dz2.sum(axis=0)}
        self.finite_grads = ()
        self._cache["dh"] = dh_steps
        return (dz2 @ w.T).reshape(n, t, f)

    def get_config(self):
        return {**super().get_config(), "activation": activations.name_of(self.activation)}

    def trace_extras(self):
        out = {"hidden_states": self._cache.get("hs")}
        if "dh" in self._cache:
            out["grad_hidden_states"] = self._cache["dh"]
        return {k: v for k, v in out.items() if v is not None}


class LSTM(_Recurrent):
    base_name = "lstm"
    gates = 4

    def forward(self, x, training=False):
        x = self._sequences(x)
        w, u, b = (self.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
        n, t, _ = x.shape
        m = self.units
        xw = (x.reshape(n * t, -1) @ w).reshape(n, t, 4 * m) + b
        hs, cs = np.empty((n, t, m), np.float32), np.empty((n, t, m), np.float32)
        gates = np.empty((n, t, 4 * m), np.float32)   # i, f, g, o after their functions
        h = np.zeros((n, m), np.float32)
        c = np.zeros((n, m), np.float32)
        for s in range(t):
            z = xw[:, s] + h @ u                                  # (N, 4u): i, f, c, o
            a = _sigmoid(z)                                       # every gate at once,
            a[:, 2 * m:3 * m] = np.tanh(z[:, 2 * m:3 * m])        # the candidate's is tanh
            i, f, g, o = a[:, :m], a[:, m:2 * m], a[:, 2 * m:3 * m], a[:, 3 * m:]
            c = f * c + i * g
            h = o * np.tanh(c)
            gates[:, s] = a
            hs[:, s], cs[:, s] = h, c
        self._cache = {"x": x, "hs": hs, "cs": cs, "gates": gates}
        return self._output(hs)

    def backward(self, dy):
        x, hs, cs, gates = (self._cache[k] for k in ("x", "hs", "cs", "gates"))
        w, u = self.params["kernel"], self.params["recurrent_kernel"]
        n, t, f_in = x.shape
        m = self.units
        dh_in = self._incoming(dy, n, t)
        dz = np.empty((n, t, 4 * m), np.float32)
        dh_steps = np.empty_like(hs)
        dh_next = np.zeros((n, m), np.float32)
        dc_next = np.zeros((n, m), np.float32)
        for s in range(t - 1, -1, -1):
            i, f = gates[:, s, :m], gates[:, s, m:2 * m]
            g, o = gates[:, s, 2 * m:3 * m], gates[:, s, 3 * m:]
            c = cs[:, s]
            c_prev = cs[:, s - 1] if s > 0 else np.zeros_like(c)
            dh = dh_in[:, s] + dh_next
            dh_steps[:, s] = dh
            tc = np.tanh(c)
            dc = dc_next + dh * o * (1.0 - tc ** 2)
            dz[:, s, :m] = dc * g * i * (1.0 - i)                 # input gate
            dz[:, s, m:2 * m] = dc * c_prev * f * (1.0 - f)       # forget gate
            dz[:, s, 2 * m:3 * m] = dc * i * (1.0 - g ** 2)       # candidate
            dz[:, s, 3 * m:] = dh * tc * o * (1.0 - o)            # output gate
            dh_next = dz[:, s] @ u.T
            dc_next = dc * f
        h_prev = np.concatenate([np.zeros((n, 1, m), np.float32), hs[:, :-1]], axis=1)
        dz2 = dz.reshape(n * t, 4 * m)
        self.grads = {"kernel": x.reshape(n * t, f_in).T @ dz2,
                      "recurrent_kernel": h_prev.reshape(n * t, m).T @ dz2,
                      "bias": dz2.sum(axis=0)}
        self.finite_grads = ()
        self._cache["dh"] = dh_steps
        return (dz2 @ w.T).reshape(n, t, f_in)

    def trace_extras(self):
        if "gates" not in self._cache:
            return {}
        m, gates = self.units, self._cache["gates"]
        out = {"hidden_states": self._cache["hs"], "cell_states": self._cache["cs"],
               "input_gate": gates[..., :m], "forget_gate": gates[..., m:2 * m],
               "candidate": gates[..., 2 * m:3 * m], "output_gate": gates[..., 3 * m:]}
        if "dh" in self._cache:
            out["grad_hidden_states"] = self._cache["dh"]
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
