"""The Layer base class: Keras's shape (build / forward / backward / get_config)."""
from __future__ import annotations

import numpy as np

from core import activations


class Layer:
    """One step of a network.

    Lifecycle: `build(input_shape, rng)` creates the parameters (input_shape without the
    batch axis); `forward(x, training)` computes the output and keeps what `backward`
    needs; `backward(dy)` receives dL/d(output), fills `self.grads` and returns
    dL/d(input). Parameters live in `self.params` in Keras order (kernel, then bias).
    """

    #: how `Sequential` names an unnamed layer ("dense", "dense_1", ...)
    base_name = "layer"
    #: True if `backward(dy, need_input_grad=False)` may skip dL/d(input) (returns None):
    #: a first layer's input gradient is never used, and computing it is a whole product.
    input_grad_optional = False
    #: True if the layer reads inputs whose time axis is free (None: sequences of any
    #: length), as recurrent, Dense, Dropout and activation layers do; a layer whose
    #: output size depends on every input size (Flatten, Conv2D) refuses them
    takes_any_length = False

    def __init__(self, name: str | None = None, trainable: bool = True):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"a layer name must be a non-empty string, got {name!r}")
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError(f"trainable must be True or False, got {trainable!r}")
        self.name = name
        #: False freezes the layer (Keras's `layer.trainable = False`): training still
        #: passes gradients through it to the layers before, but never changes its weights
        self.trainable = bool(trainable)
        self.built = False
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: keys of `grads` the backward kernel already found finite (the step skips them)
        self.finite_grads: tuple = ()
        self._cache: dict = {}

    def forget_forward(self) -> None:
        """Drop what the last forward pass kept for backward: a fused kernel that ran this
        layer's step itself leaves nothing here that a later backward could mistake for its own."""
        self._cache = {}

    # --- shapes and parameters -------------------------------------------------
    def build(self, input_shape: tuple, rng: np.random.Generator | None = None) -> None:
        # None: a free time axis (sequences of any length), kept as Keras keeps it
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self.check_input_shape(input_shape)
        self.output_shape = self.compute_output_shape(input_shape)
        self.input_shape = input_shape
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def check_input_shape(self, input_shape: tuple) -> None:
        """ValueError, in a sentence, if this layer cannot read inputs of this declared
        shape because it has a free (None) length the layer needs to know."""
        if None in tuple(input_shape) and not self.takes_any_length:
            fixed = ", ".join("5" if d is None else str(d) for d in input_shape)
            raise ValueError(
                f"{type(self).__name__} cannot read sequences of any length (input shape "
                f"{_written(input_shape)}): its output has a size fixed by the input's, so "
                f"the length must be known. Give it, e.g. input_shape=({fixed}"
                f"{',' if len(input_shape) == 1 else ''}), or read the sequence with a "
                f"SimpleRNN or LSTM first")

    def param_shapes(self, input_shape: tuple) -> dict[str, tuple]:
        """The shapes `build(input_shape)` would give the parameters, in Keras order, without
        creating them: a model file's declared sizes are checked before anything is allocated."""
        return {}

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    @property
    def updates_weights(self) -> bool:
        """Does a training step change this layer's weights? (It has some, and is not frozen.)"""
        return self.trainable and bool(self.params)

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params.values()]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        if len(weights) != len(self.params):
            raise ValueError(
                f"layer {self.name!r} has {len(self.params)} weight arrays, got {len(weights)}")
        for (key, old), new in zip(self.params.items(), weights):
            new = np.asarray(new)
            if new.shape != old.shape:
                raise ValueError(
                    f"layer {self.name!r}: {key} must have shape {old.shape}, got {new.shape}")
            if not np.issubdtype(new.dtype, np.number):
                raise ValueError(f"layer {self.name!r}: {key} must be numeric, got {new.dtype}")
            old[...] = new.astype(np.float32)

    # --- computation ------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    #: name of the activation whose output this layer produces last, if a loss may fuse
    #: its gradient with it (softmax + cross-entropy, sigmoid + binary cross-entropy).
    def output_activation(self) -> str | None:
        return None

    def preactivation(self) -> np.ndarray:
        """z of the last forward, for a loss fused with `output_activation()`."""
        return self._cache["z"]

    def backward_from_preactivation(self, dz: np.ndarray) -> np.ndarray:
        """Backward given dL/dz for the pre-activation z (the fused-loss path)."""
        raise NotImplementedError(f"{type(self).__name__} has no activation to fuse")

    def trace_extras(self) -> dict:
        """Extra arrays of the last forward/backward a lesson may show (pre-activation, masks)."""
        return {}

    # --- serialisation ----------------------------------------------------------
    def get_config(self) -> dict:
        # "trainable" only when frozen: files and configs of trainable layers stay as before
        return {"name": self.name} if self.trainable else {"name": self.name, "trainable": False}

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class ActivatedLayer(Layer):
    """A layer computing a = f(z) after its own linear map z (Dense, Conv2D)."""

    def __init__(self, activation=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.activation = activations.get(activation)

    def _activate(self, z: np.ndarray) -> np.ndarray:
        a = z if self.activation is None else self.activation.forward(z)
        self._cache["z"] = z
        self._cache["a"] = a
        return a

    def backward(self, dy):
        if self.activation is None:
            dz = dy
        else:
            dz = self.activation.backward(self._cache["z"], self._cache["a"], dy)
        return self.backward_from_preactivation(dz)

    def output_activation(self):
        return None if self.activation is None else self.activation.name

    def trace_extras(self):
        if self.activation is None or "z" not in self._cache:
            return {}
        return {"pre_activation": self._cache["z"], "activation": self.activation.name}

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = activations.name_of(self.activation) if not isinstance(
            self.activation, activations.LeakyReLUFn) else self.activation.get_config()
        return cfg


def _written(shape) -> str:
    """(None, 3) as the learner writes it; (5,) keeps its comma."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def as_clean_float32(x) -> np.ndarray:
    """x as a C-contiguous, writeable float32 array, copied only when it is not one already.

    The layers' fast kernels assume exactly this (and a read-only or strided array would
    make Numba compile another specialisation of every kernel).
    """
    if (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous
            and x.flags.writeable):
        return x
    return np.array(x, dtype=np.float32, order="C")


def glorot_uniform(rng: np.random.Generator, shape: tuple, fan_in: int, fan_out: int):
    """Keras's default kernel initialiser: U(−l, l) with l = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def as_pair(value, what: str) -> tuple[int, int]:
    """2 → (2, 2); (2, 3) stays; anything else is a clear ValueError."""
    if isinstance(value, (int, np.integer)):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except TypeError:
            raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}") from None
        if len(pair) != 2:
            raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{what} must be ≥ 1, got {value!r}")
    return pair


def check_padding(padding: str) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()
