"""Backprop Lab's entry point: `python main.py` or the `backprop-lab` command."""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    """Build the QApplication, open the main window, run the event loop."""
    from gui.app import create_application

    app = create_application(argv)
    from gui.main_window import MainWindow

    window = MainWindow(warm_up_engine=True)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
