"""Convolution explorer, part two: its pages beyond the step-by-step view, and its formula text.

ConvExplorerLesson inherits these methods; they read and set its widgets and state.
"""
from __future__ import annotations

import numpy as np

from core.teaching.conv_steps import FILTER_PRESETS
from core.teaching.learner_models import first_conv_problem
from core.teaching.course_nine import COURSE_FEATURES
from core.teaching.location import (accuracy_under_shift, answers_over_shifts,
                                    pick_telling_digit)
from gui.lessons.cnn_common import first_conv_filters
from gui.widgets.numbers import fmt, paren
from gui.widgets.shift_test import SHIFTS


#: the pixel scale of the course's hand-made example
COURSE_SCALE = "−1…1 (course)"
#: how the filter chooser names the learner's own model's filters ("… 1", "… 2", …)
YOUR_FILTER = "Your model's filter"


def pct(fraction: float) -> str:
    return f"{100.0 * fraction:.0f} %"


class ConvExplorerPages:
    """The explorer's other pages (the course's pixel-art 9, the combined maps, a moved
    digit) and the words and formulas its views show: part of ConvExplorerLesson."""

    # --- the learner's own model (File ▸ Open model…) -------------------------------------
    def learner_model_opened(self, model, name: str) -> None:
        """The 3×3 kernels of the first Conv2D layer of a model that takes 28×28×1 digits
        become filters to choose ("Your model's filter 1", …; the first is applied at once);
        any other model is refused in one sentence and its filters leave the chooser."""
        problem = first_conv_problem(model)
        found = first_conv_filters(model) if problem is None else None
        if problem is None and found is None:
            problem = "its first Conv2D layer reads more than one channel"
        was_yours = self.editor.preset.currentText().startswith(YOUR_FILTER)
        self._learner_filters = None if found is None else (found, name)
        self._fill_presets()
        if problem is not None:
            if was_yours:       # the editor must not keep a refused model's weights
                self.editor.preset.setCurrentIndex(0)
                self._on_preset(0)
            self.show_status(f"{name}'s filters cannot slide over the digit here: "
                             f"{problem}.", 8000)
            return
        self.editor.preset.blockSignals(True)
        self.editor.preset.setCurrentText(f"{YOUR_FILTER} 1")
        self.editor.preset.blockSignals(False)
        self._on_preset(0)      # also when filter 1 of an earlier model was chosen
        self.show_status(f"The {len(found[0])} filters of {name}'s first Conv2D layer are "
                         "in the filter chooser.", 6000)

    def _add_learner_presets(self, combo) -> None:
        learner = self._learner_filters
        if learner is not None:
            combo.insertSeparator(combo.count())
            for i in range(len(learner[0][0])):
                combo.addItem(f"{YOUR_FILTER} {i + 1}")

    def _use_learner_preset(self, name: str) -> bool:
        """Put the learner's filter `name` in the editor; False if `name` is not one."""
        learner = self._learner_filters
        if learner is None or not name.startswith(YOUR_FILTER):
            return False
        (kernels, biases), model_name = learner
        i = int(name.split()[-1]) - 1
        self.editor.set_kernel(kernels[i], float(biases[i]))
        self.editor.description.setText(f"Filter {i + 1} of the first Conv2D layer of your "
                                        f"model ({model_name}), with its learned bias.")
        return True

    def use_course_example(self, on: bool = True) -> None:
        """The notes' pixel-art 9 (−1/+1, one-pixel strokes) with the loop filter, or back
        to the digits."""
        if self.course_button.isChecked() != bool(on):
            self.course_button.setChecked(bool(on))     # comes back here through toggled
            return
        self._course = bool(on)
        if on:
            self._drawing = None
            self.scale_combo.blockSignals(True)
            self.scale_combo.setCurrentText(COURSE_SCALE)
            self.scale_combo.blockSignals(False)
            if self.editor.preset.currentText() not in COURSE_FEATURES:
                self.editor.preset.blockSignals(True)
                self.editor.preset.setCurrentText(COURSE_FEATURES[0])
                self.editor.preset.blockSignals(False)
                kernel, text = FILTER_PRESETS[COURSE_FEATURES[0]]
                self.editor.set_kernel(kernel, 0.0)
                self.editor.description.setText(text)
        # the example is its own 12×8 image on its own −1/+1 grid
        self.scale_combo.setEnabled(not on)
        self.size_spin.setEnabled(not on)
        self.rebuild(keep_step=False)

    def _leave_course(self) -> None:
        if self._course:
            self._course = False
            self.course_button.blockSignals(True)
            self.course_button.setChecked(False)
            self.course_button.blockSignals(False)
            self.scale_combo.setEnabled(True)
            self.size_spin.setEnabled(True)

    def show_combined(self, on: bool = True) -> None:
        """The combine step (loop here + stem below = 9) instead of the sliding filter."""
        if self.combine_button.isChecked() != bool(on):
            self.combine_button.setChecked(bool(on))
            return
        if on:
            self.playback.set_playing(False)
            self._uncheck(self.shift_button)
        self.pages.setCurrentIndex(1 if on else 0)
        self._update_combined()

    @staticmethod
    def _uncheck(button) -> None:
        button.blockSignals(True)
        button.setChecked(False)
        button.blockSignals(False)

    def show_shift_test(self, on: bool = True) -> None:
        """The dense network and the CNN on the current digit moved left and right."""
        if self.shift_button.isChecked() != bool(on):
            self.shift_button.setChecked(bool(on))
            return
        if on:
            self.playback.set_playing(False)
            self._uncheck(self.combine_button)
            self.pages.setCurrentIndex(2)
            first = not self._shift_models_loaded
            if self._load_shift_models() and first:
                # open on a digit that makes the point, unless the learner drew one
                if self._drawing is None and not self._shows_difference():
                    self.find_telling_digit()
            self._update_shift()
        else:
            self.pages.setCurrentIndex(0)

    def _load_shift_models(self) -> bool:
        if self._shift_models_loaded:
            return self.shift_view.dense is not None
        self._shift_models_loaded = True
        try:
            from core.io import load_model
            from resources.paths import model_path

            with model_path("digits_mlp") as p:
                dense = load_model(p)
            with model_path("digits_cnn") as p:
                cnn = load_model(p)
        except (ValueError, OSError) as exc:
            self.shift_view.set_unavailable(
                f"The shipped models could not be read ({exc}); reinstall Backprop Lab to "
                f"restore resources/models.")
            return False
        self.shift_view.set_models(dense, cnn)
        x, y = self.digits()
        # the same 100 digits every time: the summary must not change between visits
        idx = np.random.default_rng(0).choice(len(x), 100, replace=False)
        left = accuracy_under_shift(dense, cnn, x[idx], y[idx], SHIFTS[0])
        right = accuracy_under_shift(dense, cnn, x[idx], y[idx], SHIFTS[-1])
        centre = accuracy_under_shift(dense, cnn, x[idx], y[idx], 0)
        self.shift_view.summary.setText(
            f"On 100 offline digits: unmoved, dense right {pct(centre[0])}, CNN "
            f"{pct(centre[1])}; moved {-SHIFTS[0]} px left, dense {pct(left[0])}, CNN "
            f"{pct(left[1])}; moved {SHIFTS[-1]} px right, dense {pct(right[0])}, CNN "
            f"{pct(right[1])}.")
        return True

    def _shift_digit01(self) -> tuple[np.ndarray, int]:
        if self._drawing is not None:
            return self._drawing, -1
        x, y = self.digits()
        i = self.digit_spin.value()
        return x[i, :, :, 0], int(y[i])

    def _shows_difference(self) -> bool:
        img, label = self._shift_digit01()
        answers = answers_over_shifts(self.shift_view.dense, self.shift_view.cnn, img, SHIFTS)
        return (any(a.dense_class != label for a in answers)
                and all(a.cnn_class == label for a in answers))

    def find_telling_digit(self) -> None:
        """Jump to the next digit whose dense answer changes when moved, the CNN's not."""
        if not self._load_shift_models():
            return
        x, y = self.digits()
        start = self.digit_spin.value() + 1
        i = pick_telling_digit(self.shift_view.dense, self.shift_view.cnn, x, y, SHIFTS,
                               start=start)
        if i is None:
            self.show_status("No digit among the next 300 changes the dense network's answer "
                             "when moved.", 6000)
            return
        self.digit_spin.setValue(i)      # → rebuild → the shift page follows

    def _update_shift(self) -> None:
        if self.pages.currentIndex() != 2 or self.shift_view.dense is None:
            return
        img, label = self._shift_digit01()
        if label < 0:
            # a drawing has no true label: the CNN's answer on it unmoved stands in
            label = answers_over_shifts(self.shift_view.dense, self.shift_view.cnn, img,
                                        [0])[0].cnn_class
        self.shift_view.set_digit(img, label)

    def _conv_html(self, w) -> str:
        # one row per filter cell (row-major): long numbers fit a narrow column this way
        head = ("<tr><th></th><th align='right'>&nbsp;pixel</th><th align='right'>&nbsp;×&nbsp;"
                "weight</th><th align='right'>&nbsp;=&nbsp;product</th></tr>")
        rows = []
        for (r, c), v in np.ndenumerate(w.patch):
            rows.append(f"<tr><td>[{r},{c}]</td><td align='right'>&nbsp;{fmt(v)}</td>"
                        f"<td align='right'>&nbsp;{fmt(w.kernel[r, c])}</td>"
                        f"<td align='right'>&nbsp;<b>{fmt(w.products[r, c])}</b></td></tr>")
        table = "<table cellspacing='0' cellpadding='1'>" + head + "".join(rows) + "</table>"
        total = float(w.products.sum())
        bias = f" + b {paren(w.bias)}" if w.bias else ""
        self.calc_label.setToolTip(
            "sum = " + " + ".join(f"{paren(a)}·{paren(b)}" for a, b in
                                  zip(w.patch.ravel(), w.kernel.ravel()))
            + (f" + {paren(w.bias)}" if w.bias else "") + f" = {fmt(w.total)}")
        return (f"Window at image row {w.top}, column {w.left} → output row {w.row}, "
                f"column {w.col}{table}"
                f"sum of products = {fmt(total)}{bias}<br>"
                f"<b>feature map value = {fmt(w.total)}</b>")

    def _pool_html(self, pw, mode: str) -> str:
        vals = pw.values
        rows = []
        for r in range(vals.shape[0]):
            cells = []
            for c in range(vals.shape[1]):
                win = (pw.winner is not None
                       and (max(pw.top, 0) + r, max(pw.left, 0) + c) == pw.winner)
                text = f"<b>▲ {fmt(vals[r, c])}</b>" if win else fmt(vals[r, c])
                cells.append(f"<td align='right' style='padding:2px 8px;'>{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        table = ("<table border='1' cellspacing='0' style='border-color:#b9c0c9;'>"
                 + "".join(rows) + "</table>")
        if mode == "max":
            how = (f"max of the {vals.size} values = <b>{fmt(pw.result)}</b> (▲ the winner, "
                   f"dashed in the map)")
            self.calc_label.setToolTip("max(" + ", ".join(fmt(v) for v in vals.ravel())
                                       + f") = {fmt(pw.result)}")
        else:
            how = (f"({' + '.join(paren(v) for v in vals.ravel())}) / {vals.size} = "
                   f"<b>{fmt(pw.result)}</b>")
            self.calc_label.setToolTip(how.replace("<b>", "").replace("</b>", ""))
        return (f"Window rows {pw.top}–{pw.top + vals.shape[0] - 1}, columns "
                f"{pw.left}–{pw.left + vals.shape[1] - 1} of the ReLU map → output row "
                f"{pw.row}, column {pw.col}<br>{table}<br>{how}")

    # --- tooltips -------------------------------------------------------------------------------
    def _input_tooltip(self, r: int, c: int) -> str:
        conv = self.timeline.conv
        ir, ic = r - conv.rows.pad_before, c - conv.cols.pad_before
        v = conv.padded[r, c]
        if not (0 <= ir < conv.image.shape[0] and 0 <= ic < conv.image.shape[1]):
            return f"padding (row {ir}, column {ic}): 0"
        return f"pixel row {ir}, column {ic}: {fmt(v)}"

    def _map_tooltip(self, r: int, c: int) -> str:
        conv = self.timeline.conv
        i = r * conv.output.shape[1] + c
        w = conv.window(i)
        text = (f"output row {r}, column {c} = Σ pixel·weight"
                f"{' + b' if w.bias else ''} = {fmt(w.total)}")
        stage = self.current_stage()
        if stage is not None and stage[0] != "conv":
            text += f"\nafter ReLU: max({fmt(w.total)}, 0) = {fmt(self.timeline.relu[r, c])}"
        return text

    def _pool_tooltip(self, mode: str, r: int, c: int) -> str:
        pool = self.timeline.max_pool if mode == "max" else self.timeline.avg_pool
        pw = pool.window(r * pool.output.shape[1] + c)
        vals = ", ".join(fmt(v) for v in pw.values.ravel())
        name = "max" if mode == "max" else "mean"
        return f"row {r}, column {c} = {name}({vals}) = {fmt(pw.result)}"
