"""One rule for what the bridge cannot do: say so, naming it, instead of doing something else."""
from __future__ import annotations


def refuse(where: str, options: dict, allowed_defaults: dict | None = None) -> None:
    """NotImplementedError for any keyword in `options`, unless it is in allowed_defaults
    with exactly that default value (Keras code often spells the default out)."""
    allowed_defaults = allowed_defaults or {}
    for key, value in options.items():
        if key in allowed_defaults and _same(value, allowed_defaults[key]):
            continue
        raise NotImplementedError(
            f"{where}: {key}={value!r} is not supported by Backprop Lab's engine")


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd objects are simply "not the default"
        return False
