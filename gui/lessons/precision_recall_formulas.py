"""Precision, recall and F1, part two: each figure's formula with its numbers, per class and
averaged.

PrecisionRecallLesson inherits these methods; they read its figures and set its labels.
"""
from __future__ import annotations

import numpy as np

from gui.widgets.numbers import fmt


class PrecisionRecallFormulas:
    """The formulas beside the figures: part of PrecisionRecallLesson."""

    # --- formulas ----------------------------------------------------------------------------
    def _class_tips(self, k: int) -> dict:
        f = self.figures
        name = self.task.class_names[k]
        tp, fp, fn = int(f.tp[k]), int(f.fp[k]), int(f.fn[k])
        return {
            "class": f"class {name}: select the row to see its formulas below",
            "TP": f"TP({name}) = cm[{name}, {name}] = {tp}: truly {name}, predicted {name}",
            "FP": f"FP({name}) = column {name} total − TP = {tp + fp} − {tp} = {fp}",
            "FN": f"FN({name}) = row {name} total − TP = {tp + fn} − {tp} = {fn}",
            "support": f"support({name}) = TP + FN = {tp} + {fn} = {tp + fn}",
            "precision": self.precision_text(k),
            "recall": self.recall_text(k),
            "F1": self.f1_text(k),
        }

    def precision_text(self, k: int) -> str:
        f, name = self.figures, self.task.class_names[k]
        tp, fp = int(f.tp[k]), int(f.fp[k])
        if tp + fp == 0:
            return f"precision({name}) = TP/(TP+FP) = 0/0: never predicted, counted as 0"
        return (f"precision({name}) = TP/(TP+FP) = {tp}/({tp}+{fp}) = "
                f"{fmt(f.precision[k])}")

    def recall_text(self, k: int) -> str:
        f, name = self.figures, self.task.class_names[k]
        tp, fn = int(f.tp[k]), int(f.fn[k])
        if tp + fn == 0:
            return f"recall({name}) = TP/(TP+FN) = 0/0: no such examples, counted as 0"
        return f"recall({name}) = TP/(TP+FN) = {tp}/({tp}+{fn}) = {fmt(f.recall[k])}"

    def f1_text(self, k: int) -> str:
        f, name = self.figures, self.task.class_names[k]
        p, r = f.precision[k], f.recall[k]
        if p + r == 0:
            return f"F1({name}) = 2·P·R/(P+R) = 0 (precision and recall are both 0)"
        return (f"F1({name}) = 2·P·R/(P+R) = 2·{fmt(p)}·{fmt(r)}/({fmt(p)}+{fmt(r)}) = "
                f"{fmt(f.f1[k])}")

    def _average_formula(self, kind: str, metric: str, expand: bool = True) -> str:
        """macro: the plain mean of the per-class values; weighted: by support. `expand`
        writes every term out (tooltips); otherwise the sum is shown as one number."""
        f = self.figures
        key = "f1" if metric == "F1" else metric
        per = getattr(f, key)
        if kind == "macro":
            ks = np.flatnonzero(f.present)
            total = fmt(float(per[ks].sum()))
            terms = " + ".join(fmt(per[k]) for k in ks) if expand else f"Σ {metric}"
            shown = f"({terms}) / {len(ks)}" if expand else f"{total} / {len(ks)}"
            return (f"macro {metric} = Σ {metric} / {len(ks)} classes = {shown} = "
                    f"{fmt(f.macro[key])}")
        n = int(f.support.sum())
        if expand:
            terms = " + ".join(f"{int(f.support[k])}·{fmt(per[k])}" for k in range(len(per)))
            shown = f"({terms}) / {n}"
        else:
            shown = f"{fmt(float(np.dot(f.support, per)))} / {n}"
        return (f"weighted {metric} = Σ support·{metric} / N = {shown} = "
                f"{fmt(f.weighted[key])}")

    def _show_formulas(self, k: int) -> None:
        if self.figures is None:
            return
        self.selected_class = k
        self.formula.setText("\n".join((self.precision_text(k), self.recall_text(k),
                                        self.f1_text(k))))

    def _on_row_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if not rows or self.task is None:
            return
        row = min(rows)
        if row < self.task.num_classes:
            self._show_formulas(row)
        else:
            kind = "macro" if row == self.task.num_classes else "weighted"
            self.formula.setText("\n".join(self._average_formula(kind, m, expand=False)
                                           for m in ("precision", "recall", "F1")))
