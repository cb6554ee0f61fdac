"""Backprop Lab's entry point: `python main.py` or the `backprop-lab` command."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    """Build the QApplication, open the main window, run the event loop."""
    from gui.app import (create_application, exit_code_after_loop, quit_on_interrupt,
                         report_unexpected_errors)

    app = create_application(argv)
    from core.data.download import remove_stale_partials
    from gui.main_window import MainWindow

    # what a download killed mid-way (a crash, a power cut) left behind
    remove_stale_partials(recursive=True)
    window = MainWindow(warm_up_engine=True)
    quit_on_interrupt(window)
    report_unexpected_errors(window)
    window.show()
    # a thread still inside uninterruptible work (a Numba compile) after the window's
    # shutdown budget ends the process here, instead of Qt aborting it at exit
    return exit_code_after_loop(app.exec(), window)


if __name__ == "__main__":
    sys.exit(main())
