"""The suite passes whatever 'monospace' resolves to on the machine that runs it.

Debian's fonts-noto-mono makes 'monospace' a face Qt does not report as fixed-pitch, with
a taller line than DejaVu Sans Mono: tests that asserted what the fonts resolved to (not
what the app asks for) failed there. Here the font-sensitive tests run again in a child
process whose fontconfig knows one font only, made on the spot: proportional, with a tall
line, and aliased as 'monospace' and 'sans-serif'. No font of this machine is involved.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("fontTools")
from fontTools.fontBuilder import FontBuilder  # noqa: E402
from fontTools.pens.ttGlyphPen import TTGlyphPen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FAMILY = "Backprop Proportional Test"

#: the tests that broke on fonts-noto-mono, and the widgets' own font and layout tests
FONT_SENSITIVE = [
    "tests/test_gui_widgets.py",
    "tests/test_lesson_hidden_layers.py::test_the_diagram_gets_the_height_before_any_data",
    "tests/test_network_diagram.py::test_a_short_diagram_gives_the_formula_strips_height_to_the_network_at_once",
]


def write_proportional_font(path: Path) -> None:
    """Printable ASCII as boxes of different widths ('1' and 'W' differ, as do the digits),
    a line 1.45 em tall (DejaVu Sans Mono's is 1.16, Noto Sans Mono's 1.36)."""
    chars = [chr(c) for c in range(0x20, 0x7F)]
    names = [".notdef"] + [f"u{ord(c):04X}" for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"u{ord(c):04X}" for c in chars})
    glyphs, metrics = {}, {}
    for i, name in enumerate(names):
        width = 250 + (i * 37) % 650
        pen = TTGlyphPen(None)
        if name not in (".notdef", "u0020"):
            pen.moveTo((50, 0))
            pen.lineTo((50, 700))
            pen.lineTo((width - 50, 700))
            pen.lineTo((width - 50, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
        metrics[name] = (width, 50)
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    ascent, descent = 1100, 350
    fb.setupHorizontalHeader(ascent=ascent, descent=-descent)
    fb.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=ascent, sTypoDescender=-descent, sTypoLineGap=0,
                usWinAscent=ascent, usWinDescent=descent)
    fb.setupPost(isFixedPitch=0)
    fb.save(str(path))


def fontconfig_with_only(font_dir: Path, cache_dir: Path, conf: Path) -> None:
    aliases = "".join(
        f"<alias binding='same'><family>{generic}</family>"
        f"<prefer><family>{FAMILY}</family></prefer></alias>"
        for generic in ("monospace", "sans-serif", "serif"))
    conf.write_text(
        "<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
        f"<dir>{font_dir}</dir><cachedir>{cache_dir}</cachedir>{aliases}</fontconfig>")


@pytest.fixture(scope="module")
def proportional_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("fonts")
    (base / "fonts").mkdir()
    write_proportional_font(base / "fonts" / "proportional.ttf")
    fontconfig_with_only(base / "fonts", base / "cache", base / "fonts.conf")
    # a child pytest must not take itself for one of this session's xdist workers
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(FONTCONFIG_FILE=str(base / "fonts.conf"), QT_QPA_PLATFORM="offscreen",
               BACKPROP_LAB_TEST_WARMUP="0")
    probe = textwrap.dedent("""
        from PySide6.QtGui import QFontInfo
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from gui.widgets.numbers import mono_font
        info = QFontInfo(mono_font())
        print(info.family(), "|", info.fixedPitch())
    """)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or out.stdout.strip() != f"{FAMILY} | False":
        pytest.skip("this Qt does not take its fonts from fontconfig "
                    f"(probe said {out.stdout.strip() or out.stderr[-300:]!r})")
    return env


def test_the_font_sensitive_tests_pass_when_monospace_is_proportional_and_tall(
        proportional_env):
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         *FONT_SENSITIVE],
        cwd=ROOT, env=proportional_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
