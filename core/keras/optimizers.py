"""`keras.optimizers`: SGD, Adam and RMSprop with Keras's arguments and defaults."""
from __future__ import annotations

from core import optimizers as _O
from core.keras._unsupported import refuse


def _rate(learning_rate, lr):
    # TensorFlow 2's notebooks often still write lr=
    return learning_rate if lr is None else lr


def SGD(learning_rate=0.01, momentum=0.0, nesterov=False, *, lr=None, clipnorm=None,
        clipvalue=None, **kwargs):
    refuse("SGD", kwargs, {"name": "SGD"})
    return _O.SGD(_rate(learning_rate, lr), momentum=momentum, nesterov=nesterov,
                  clipnorm=clipnorm, clipvalue=clipvalue)


def Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, *,
         lr=None, clipnorm=None, clipvalue=None, **kwargs):
    refuse("Adam", {"amsgrad": amsgrad, **kwargs}, {"amsgrad": False, "name": "Adam"})
    return _O.Adam(_rate(learning_rate, lr), beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                   clipnorm=clipnorm, clipvalue=clipvalue)


def RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, *,
            lr=None, clipnorm=None, clipvalue=None, **kwargs):
    refuse("RMSprop", {"momentum": momentum, "centered": centered, **kwargs},
           {"momentum": 0.0, "centered": False, "name": "RMSprop"})
    return _O.RMSprop(_rate(learning_rate, lr), rho=rho, epsilon=epsilon, clipnorm=clipnorm,
                      clipvalue=clipvalue)


def get(identifier):
    """An optimizer from Keras's string names ("sgd", "adam", "rmsprop") or an instance."""
    if isinstance(identifier, _O.Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ("sgd", "adam", "rmsprop"):
        return {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}[identifier.lower()]()
    raise NotImplementedError(
        f"optimizer {identifier!r}: Backprop Lab has 'sgd', 'adam' and 'rmsprop'")


__all__ = ["SGD", "Adam", "RMSprop", "get"]
