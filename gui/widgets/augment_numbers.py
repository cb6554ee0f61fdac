"""The data-augmentation lesson's numbers: validation, best, training accuracy and their gap,
for the run without augmentation, the run with it, and the difference."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from gui.widgets.numbers import NumberLabel, fmt

ROWS = (
    ("last_val", "validation accuracy",
     "Accuracy on the 1,000 held-out digits after the last epoch = right / 1,000"),
    ("best_val", "best validation",
     "The highest validation accuracy of any epoch"),
    ("last_train", "training accuracy",
     "Accuracy on the digits it trained on (the plain ones, or that epoch's copies)"),
    ("gap", "gap train − validation",
     "Training accuracy − validation accuracy: large when the network memorises its "
     "training digits instead of learning what a digit looks like. With augmentation it "
     "can even be negative: the distorted copies are harder than real digits"),
)
COLUMNS = (("without", "without"), ("with", "with"), ("diff", "with − without"))


class AugmentNumbers(QWidget):
    """A grid of NumberLabels, `numbers[(row key, column key)]`, each with its formula."""

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(1)
        for c, (_, caption) in enumerate(COLUMNS, start=1):
            head = QLabel(f"<b>{caption}</b>")
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(head, 0, c)
        self.numbers: dict[tuple[str, str], NumberLabel] = {}
        for r, (key, caption, tip) in enumerate(ROWS, start=1):
            cap = QLabel(caption)
            cap.setToolTip(tip)
            grid.addWidget(cap, r, 0)
            for c, (col, _) in enumerate(COLUMNS, start=1):
                lbl = NumberLabel()
                lbl.setAlignment(Qt.AlignmentFlag.AlignRight)
                lbl.setAccessibleName(f"{caption}, {col}")
                grid.addWidget(lbl, r, c)
                self.numbers[(key, col)] = lbl
        grid.setColumnStretch(0, 1)
        self.clear()

    def clear(self) -> None:
        for lbl in self.numbers.values():
            lbl.set_prefix("")
            lbl.set_value(None, formula="")

    def show_summaries(self, s: dict[str, dict], formula) -> None:
        """`s`: summarize's numbers per run ("without", "with"); `formula(key, col)` the
        tooltip of one number."""
        for key, _, _ in ROWS:
            values = {}
            for col in ("without", "with"):
                v = s.get(col, {}).get(key)
                values[col] = v
                lbl = self.numbers[(key, col)]
                if v is None:
                    lbl.set_value(None, formula="")
                    continue
                lbl.set_value(v, formula=formula(key, col))
            diff = self.numbers[(key, "diff")]
            if values["without"] is None or values["with"] is None:
                diff.set_prefix("")
                diff.set_value(None, formula="")
            else:
                d = values["with"] - values["without"]
                diff.set_prefix("+" if d > 0 else "")
                diff.set_value(d, formula=f"{fmt(values['with'])} − {fmt(values['without'])}")
