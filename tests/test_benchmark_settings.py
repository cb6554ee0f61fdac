"""benchmarks/startup.py opens the real window and closes it, which saves the window's
layout: it must save it in a folder of its own, never over the learner's preferences
(issue 13, item 12)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CONFIG_HOME is Linux's")
def test_the_startup_benchmark_leaves_the_learners_settings_alone(tmp_path):
    config = tmp_path / "config"
    real = config / "Backprop Lab" / "Backprop Lab.conf"   # where the app keeps them here
    real.parent.mkdir(parents=True)
    text = "[mainWindow]\nlastLesson=Neuron\nnavigatorVisible=false\n"
    real.write_text(text)
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), HOME=str(tmp_path),
               QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"),
                          "--window-only", "--repeats", "1"],
                         env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "window shown" in out.stdout
    assert real.read_text() == text
    assert sorted(p.name for p in config.rglob("*") if p.is_file()) == ["Backprop Lab.conf"]
