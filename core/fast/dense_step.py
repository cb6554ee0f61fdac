"""When a training step can run as one compiled call (core.kernels.dense_step), and that call.

The fused step covers what the course trains most: Flatten and Dense layers, ReLU or no
activation before a softmax output, sparse categorical cross-entropy, float32, and an
optimizer whose rule the kernel can apply: it asks the optimizer (`fused_rule()`, today
only plain SGD offers one) before every step, and tells it of every step it applied
(`count_step()`). Anything else - another loss or optimizer, dropout, a trace, sample
weights - takes the layer-by-layer step (core.fast.plan chooses), which computes the same
numbers (the kernel runs the same kernels on the same blocks) and also keeps each layer's
arrays for lessons that show them.

After a fused step each Dense layer holds its gradients in `grads`, as after any step;
its forward cache is emptied, so nothing can read arrays of an older step from it.
"""
from __future__ import annotations

import sys

import numpy as np

from core.layers.dense import Dense
from core.layers.reshape import Flatten
from core.kernels import _threads
from core.kernels.dense_step import APPLIED, BAD_LABELS, PARTS_FAILED, part_addresses, train_step

#: the optimizer rules the kernel applies itself (core.optimizers.FusedRule.kind)
RULES = ("sgd",)


class FusedDenseStep:
    """The fused step of one model's current layers, loss and optimizer."""

    __slots__ = ("dense", "_key", "_lists", "_last", "_spare")

    def __init__(self, dense):
        self.dense = dense
        self._key = None
        self._lists = None
        self._last = self._spare = None  # gradient buffers of the last two steps

    @staticmethod
    def plan(model):
        """A FusedDenseStep for the model's layers and loss, or None if its steps must go
        layer by layer. The optimizer is asked at each step (`run`): it may be replaced or
        change its settings between steps."""
        if (model.loss is None or model.loss.name != "sparse_categorical_crossentropy"
                or model.loss.fuses_with != "softmax"):  # from_logits: the outputs are logits
            return None
        dense = []
        for layer in model.layers:
            if not layer.trainable:  # the kernel updates every layer
                return None
            if type(layer) is Dense and layer.built:
                dense.append(layer)
            elif type(layer) is not Flatten:
                return None
        if not dense:
            return None
        *hidden, last = dense
        if last.activation is None or last.activation.name != "softmax":
            return None
        if any(lay.activation is not None and lay.activation.name != "relu" for lay in hidden):
            return None
        return FusedDenseStep(dense)

    @staticmethod
    def takes(optimizer) -> bool:
        """Does the kernel apply this optimizer's rule (as it is now)?"""
        return _rule(optimizer) is not None

    def _typed(self):
        """The weights as the kernel's typed lists (and where each gradient goes in the flat
        buffer), rebuilt only when an array was replaced (set_weights, a new build): the
        optimizer updates them in place."""
        params = [(lay.params["kernel"], lay.params["bias"]) for lay in self.dense]
        key = tuple(id(a) for pair in params for a in pair)
        if key != self._key:
            from numba.typed import List

            for w, b in params:
                for a in (w, b):
                    if a.dtype != np.float32 or not a.flags.c_contiguous or not a.flags.writeable:
                        return None
            ws, bs = List(), List()
            for w, b in params:
                ws.append(w)
                bs.append(b)
            relus = np.array([lay.activation is not None and lay.activation.name == "relu"
                              for lay in self.dense], dtype=np.bool_)
            sizes = [a.size for pair in params for a in pair]
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            shapes = tuple(a.shape for pair in params for a in pair)
            where = [(slice(offsets[2 * k], offsets[2 * k + 1]), shapes[2 * k],
                      slice(offsets[2 * k + 1], offsets[2 * k + 2])) for k in range(len(params))]
            self._key, self._lists = key, (ws, bs, relus, offsets, shapes, where)
        return self._lists

    def run(self, model, x, y, want_probs):
        """One step: (per-sample losses, probabilities or None, applied), or None when the
        weights are not in a form the kernel takes or the optimizer offers no rule it
        applies now (then the caller goes layer by layer)."""
        rule = model.optimizer.fused_rule()  # asked every step: a lesson may change the rate
        if rule is None or rule.kind not in RULES:
            return None
        lists = self._typed()
        if lists is None:
            return None
        ws, bs, relus, offsets, shapes, where = lists
        n = x.shape[0]
        x2 = x.reshape(n, -1)
        if not (x2.flags.c_contiguous and x2.flags.writeable and x2.flags.aligned):
            x2 = np.array(x2, order="C")  # the one array type the kernel's parts take
        if type(y) is np.ndarray and y.dtype == np.int64 and y.shape == (n,) and y.flags.c_contiguous:
            labels = y  # the kernel checks the range
        else:
            labels = model.loss.prepare_targets(y, (n, self.dense[-1].units))
        lr = rule.learning_rate
        grads = self._gradient_buffer(int(offsets[-1]))
        per_sample, probs, status = _threads.run(
            ("dense step", x2.shape, shapes), train_step, None,
            x2, labels, ws, bs, relus, lr, _threads.n_chunks(), bool(want_probs), grads, offsets,
            *part_addresses())
        if status == PARTS_FAILED:
            raise RuntimeError("the fused dense step's parallel parts did not run (a kernel "
                               "failed or was compiled for other types); weights unchanged "
                               "unless the update itself failed")
        if status == BAD_LABELS:
            model.loss.prepare_targets(y, (n, self.dense[-1].units))  # raises, saying why
            raise ValueError("class ids out of range")
        applied = status == APPLIED
        checked = ("kernel", "bias") if applied else ()
        for layer, (w_at, w_shape, b_at) in zip(self.dense, where):
            layer.grads = {"kernel": grads[w_at].reshape(w_shape), "bias": grads[b_at]}
            layer.finite_grads = checked
            layer.forget_forward()
        if applied:
            model.optimizer.count_step()
        self._spare, self._last = self._last, grads
        return per_sample, (probs if want_probs else None), applied

    def _gradient_buffer(self, size):
        """The flat buffer this step's gradients go into: the one of two steps ago when
        nothing outside holds it or any view of it any more, else a new one.

        A gradient handed out after one step never changes, so the buffer whose views the
        layers hand out now cannot be written; but tutorial 24's CIFAR network has 48 MB of
        gradients, above the 32 MiB up to which glibc's malloc reuses freed memory, so a
        new buffer every step was a fresh mmap whose 12,000 pages were faulted in and
        zeroed each step (~10-17 ms of a ~150 ms step here). Every NumPy view's base is the
        array that owns the memory, so the buffer's reference count says whether anyone
        still holds a gradient of that step (the layers dropped theirs a step ago).
        """
        spare, self._spare = self._spare, None
        # the references counted: `spare` and getrefcount's argument
        if spare is not None and spare.size == size and sys.getrefcount(spare) == 2:
            return spare
        return np.empty(size, np.float32)


def _rule(optimizer):
    """The optimizer's fused rule if the kernel applies that kind, else None."""
    rule = None if optimizer is None else optimizer.fused_rule()
    return rule if rule is not None and rule.kind in RULES else None
