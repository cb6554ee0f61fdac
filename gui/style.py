"""One tidy look: Fusion, a light palette and a short stylesheet keyed on object names.

The palette is light on purpose: the colour scales (zero = light grey, blue/orange
extremes) are calibrated against a light background, and a projected classroom screen
reads best that way.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

ACCENT = "#2166ac"
MUTED_TEXT = "#4a5260"
BORDER = "#d5dae1"
PANEL = "#f4f6f8"

STYLESHEET = f"""
QListWidget#navigator {{
    border: none;
    border-right: 1px solid {BORDER};
    background: {PANEL};
    outline: none;
}}
QListWidget#navigator::item {{
    padding: 0px 10px;
    border-left: 3px solid transparent;
    color: #1d232b;
}}
QListWidget#navigator::item:hover {{ background: #e7ecf2; }}
QListWidget#navigator::item:selected {{
    background: #dce8f5;
    border-left: 3px solid {ACCENT};
    color: #0f1a26;
}}
QLabel#lessonSubtitle, QLabel#mutedText {{ color: {MUTED_TEXT}; }}
QTextBrowser#explanation, QTextBrowser#welcomeText {{
    border: 1px solid {BORDER};
    border-radius: 4px;
    background: #fcfcfd;
    padding: 4px 8px;
}}
QFrame#controlsBar {{
    background: {PANEL};
    border: 1px solid {BORDER};
    border-radius: 4px;
}}
QFrame#visualArea {{ background: transparent; }}
QToolButton#collapsibleHeader {{ font-weight: 600; border: none; padding: 2px 2px; }}
QStatusBar {{ border-top: 1px solid {BORDER}; }}
QPlainTextEdit#modelSummary {{ border: 1px solid {BORDER}; background: #fcfcfd; }}
"""


def light_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#ffffff",
        QPalette.ColorRole.WindowText: "#1d232b",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f4f6f8",
        QPalette.ColorRole.ToolTipBase: "#fffff4",
        QPalette.ColorRole.ToolTipText: "#1d232b",
        QPalette.ColorRole.PlaceholderText: "#7a828e",
        QPalette.ColorRole.Text: "#1d232b",
        QPalette.ColorRole.Button: "#f0f2f5",
        QPalette.ColorRole.ButtonText: "#1d232b",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#e3e7ec",
        QPalette.ColorRole.Mid: "#b9c0c9",
        QPalette.ColorRole.Dark: "#8a939f",
        QPalette.ColorRole.Shadow: "#5b626c",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.LinkVisited: "#5b3a8c",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa1ab"))
    return p


def apply_style(app: QApplication | None = None) -> None:
    """Idempotent: safe to call from main() and again from a test's MainWindow."""
    app = app or QApplication.instance()
    if app is None or app.property("backpropStyled"):
        return
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(light_palette())
    app.setStyleSheet(STYLESHEET)
    app.setProperty("backpropStyled", True)
    try:
        import pyqtgraph as pg
    except ImportError:  # plots are optional for the frame itself
        return
    # plots match the light palette; row-major so an (H, W) array shows upright, as in NumPy
    pg.setConfigOptions(background="w", foreground="#1d232b", antialias=True,
                        imageAxisOrder="row-major")
