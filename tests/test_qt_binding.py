"""The Qt binding survives a long session: PySide6 6.12.0 under-counted references to
True/None on every signal emit and aborted Python after a few thousand (pinned out in
pyproject.toml). Live training emits that many signals in a minute."""
import subprocess
import sys
import textwrap


def test_many_signal_emits_do_not_abort_python():
    code = textwrap.dedent("""
        from PySide6.QtCore import QCoreApplication, QObject, Signal
        app = QCoreApplication([])
        class O(QObject):
            s = Signal(bool)
        o = O()
        o.s.connect(lambda v: None)
        for _ in range(30000):
            o.s.emit(True)
            o.setObjectName("x")
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "ok"
