"""The one way an RGBA array becomes a QImage for the app's image widgets."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

__all__ = ["rgba_qimage"]


def rgba_qimage(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 RGBA → a QImage that owns its pixels (the array may be freed)."""
    rgba = np.ascontiguousarray(rgba, np.uint8)  # (H, W, 4)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
