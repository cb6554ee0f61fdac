"""Convolution explorer: a 3×3 filter slides over a digit, window by window.

At each position the nine pixel × weight products and their sum are written out while
the feature map fills in; then ReLU clears the negatives; then 2×2 max and average
pooling shrink the map, window by window. Padding and stride change the output, and the
output-size formula is shown with the numbers in. All numbers come from
core.teaching.conv_steps (the engine's own convolution and pooling kernels).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from core.teaching.conv_steps import (FILTER_PRESETS, PIXEL_SCALES, ConvSteps,
                                      ExplorerTimeline, scale_pixels)
from core.data import load_offline_digits
from core.teaching.course_nine import combine_features, course_nine, thick_stroke_note
from gui.lessons.base import Lesson
from gui.lessons.conv_explorer_pages import ConvExplorerPages
from gui.lessons.cnn_common import first_conv_filters, trained_cnn, trained_cnn_version
from gui.widgets.colors import FORWARD_COLOR, ColorLegend
from gui.widgets.draw_digit_dialog import DrawDigitDialog, drawing_available
from gui.widgets.feature_maps import ArrayView, CombinedFeatures, Highlight
from gui.widgets.filter_editor import FilterEditor
from gui.widgets.numbers import fmt, mono_font
from gui.widgets.shift_test import ShiftTest


BASE_INTERVAL_MS = 300
WARN_COLOR = "#8c510a"
ERROR_COLOR = "#a50026"
STAGE_TITLES = {"conv": "Convolution", "relu": "ReLU", "max": "Max pooling 2×2",
                "avg": "Average pooling 2×2"}


class ConvExplorerLesson(ConvExplorerPages, Lesson):
    title = "Convolution explorer"
    subtitle = ("A 3×3 filter slides over a digit: each window's nine products and their sum "
                "fill the feature map, then ReLU and 2×2 pooling shrink it.")
    help_name = "conv_explorer"
    course_tutorials = (23, 25)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._digits = None
        self._cnn_filters = None          # (kernels (F, 3, 3), biases (F,)) when available
        self._cnn_source = ""
        self._cnn_version = -1
        self._learner_filters = None      # ((kernels, biases), file name): File ▸ Open model…
        self._drawing = None              # (28, 28) the learner's own digit, when in use
        self._course = False              # the notes' pixel-art 9 instead of a digit
        self.step_index = 0
        self.timeline: ExplorerTimeline | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

        visual = QWidget(self)
        outer = QVBoxLayout(visual)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        # two pages: the filter sliding over the image, and the combine step
        self.pages = QStackedWidget(visual)
        slide_page = QWidget(self.pages)
        row = QHBoxLayout(slide_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        self.pages.addWidget(slide_page)
        self.combine_view = CombinedFeatures(self.pages)
        self.pages.addWidget(self.combine_view)
        self.shift_view = ShiftTest(self.pages)
        self.shift_view.find_requested.connect(self.find_telling_digit)
        self.pages.addWidget(self.shift_view)
        self._shift_models_loaded = False
        # the filter panel (with the page buttons) stays beside every page
        main_row = QHBoxLayout()
        main_row.setSpacing(10)
        main_row.addWidget(self.pages, 1)
        outer.addLayout(main_row, 1)

        # left: the filter and how pixels are read
        side = QVBoxLayout()
        side.setSpacing(6)
        # the notes' demonstration first: their pixel-art 9, then the combine step
        course_row = QHBoxLayout()
        course_row.setSpacing(4)
        self.course_button = QPushButton("Course example", visual)
        self.course_button.setToolTip(
            "The notes' small pixel-art 9 on a −1/+1 grid with one-pixel strokes: the loop, "
            "stem and diagonal filters each reach 1 exactly where their feature is")
        self.course_button.setAccessibleName("Course example")
        self.course_button.setCheckable(True)
        self.course_button.toggled.connect(self.use_course_example)
        self.combine_button = QPushButton("Combine maps", visual)
        self.combine_button.setToolTip("Show the loop, stem and tail maps together: loop here "
                                       "+ stem below = 9 (the notes' combine step)")
        self.combine_button.setAccessibleName("Combine maps")
        self.combine_button.setCheckable(True)
        self.combine_button.toggled.connect(self.show_combined)
        course_row.addWidget(self.course_button)
        course_row.addWidget(self.combine_button)
        side.addLayout(course_row)
        self.shift_button = QPushButton("Move the digit: dense vs CNN", visual)
        self.shift_button.setToolTip("Why CNNs: move a digit a few pixels; the dense network's "
                                     "answer changes, the CNN's does not (the shipped models)")
        self.shift_button.setAccessibleName("Move the digit: dense network vs CNN")
        self.shift_button.setCheckable(True)
        self.shift_button.toggled.connect(self.show_shift_test)
        side.addWidget(self.shift_button)
        self.editor = FilterEditor(visual)
        side.addWidget(self.editor)
        form = QGridLayout()
        form.setSpacing(4)
        cap = QLabel("Pixels", visual)
        self.scale_combo = QComboBox(visual)
        self.scale_combo.addItems(list(PIXEL_SCALES))
        self.scale_combo.setToolTip("How the digit's pixels are numbered: 0 (background) to 1 "
                                    "(ink), or −1 to 1 as in the course's hand-made example")
        self.scale_combo.setAccessibleName("Pixel values")
        cap.setBuddy(self.scale_combo)
        form.addWidget(cap, 0, 0)
        form.addWidget(self.scale_combo, 0, 1)
        cap = QLabel("Image size", visual)
        self.size_spin = QSpinBox(visual)
        self.size_spin.setRange(1, 28)
        self.size_spin.setValue(28)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Use the whole 28×28 digit, or a centred crop: a small "
                                  "image shows every number and makes a short animation")
        self.size_spin.setAccessibleName("Image size")
        cap.setBuddy(self.size_spin)
        form.addWidget(cap, 1, 0)
        form.addWidget(self.size_spin, 1, 1)
        cap = QLabel("Padding", visual)
        self.padding_combo = QComboBox(visual)
        self.padding_combo.addItems(["valid", "same"])
        self.padding_combo.setToolTip("valid: the window stays inside the image (the map "
                                      "shrinks); same: zeros around the image keep the size")
        self.padding_combo.setAccessibleName("Padding")
        cap.setBuddy(self.padding_combo)
        form.addWidget(cap, 2, 0)
        form.addWidget(self.padding_combo, 2, 1)
        cap = QLabel("Stride", visual)
        self.stride_spin = QSpinBox(visual)
        self.stride_spin.setRange(1, 5)
        self.stride_spin.setToolTip("How many pixels the window moves each step")
        self.stride_spin.setAccessibleName("Stride")
        cap.setBuddy(self.stride_spin)
        form.addWidget(cap, 3, 0)
        form.addWidget(self.stride_spin, 3, 1)
        side.addLayout(form)
        side.addStretch(1)
        side_w = QWidget(visual)
        side_w.setLayout(side)
        side_w.setFixedWidth(250)
        main_row.insertWidget(0, side_w)

        # middle: the input with the sliding window, and the size formulas
        mid = QVBoxLayout()
        mid.setSpacing(4)
        self.input_view = ArrayView("Input (hatched: zero padding)", "sequential", visual)
        self.input_view.tooltip_fn = self._input_tooltip
        # the legend right under the square image, the spare height below both
        self.input_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        mid.addWidget(self.input_view)
        self.input_legend = ColorLegend("sequential", 0, 1, "pixel value", ticks=3, parent=visual)
        mid.addWidget(self.input_legend, 0, Qt.AlignmentFlag.AlignHCenter)
        mid.addStretch(1)
        row.addLayout(mid, 3)

        # the calculation at the current window
        calc = QVBoxLayout()
        calc.setSpacing(4)
        self.stage_label = QLabel(visual)
        self.stage_label.setStyleSheet(f"font-weight: 600; color: {FORWARD_COLOR.name()};")
        calc.addWidget(self.stage_label)
        self.calc_label = QLabel(visual)
        self.calc_label.setFont(mono_font())
        self.calc_label.setTextFormat(Qt.TextFormat.RichText)
        self.calc_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.calc_label.setWordWrap(True)
        self.calc_label.setAccessibleName("Calculation at the current window")
        # a fixed width: long numbers wrap instead of pushing the window wider
        self.calc_label.setFixedWidth(290)
        calc.addWidget(self.calc_label, 1)
        row.addLayout(calc, 2)

        # right: the feature map (then after ReLU) and the two pooled maps
        right = QVBoxLayout()
        right.setSpacing(4)
        self.map_view = ArrayView("Feature map", "sequential", visual)
        self.map_view.tooltip_fn = self._map_tooltip
        right.addWidget(self.map_view, 3)
        self.map_legend = ColorLegend("sequential", 0, 1, "feature value", ticks=3, parent=visual)
        right.addWidget(self.map_legend, 0, Qt.AlignmentFlag.AlignHCenter)
        pools = QHBoxLayout()
        self.max_view = ArrayView("Max pool", "sequential", visual)
        self.avg_view = ArrayView("Average pool", "sequential", visual)
        self.max_view.tooltip_fn = lambda r, c: self._pool_tooltip("max", r, c)
        self.avg_view.tooltip_fn = lambda r, c: self._pool_tooltip("avg", r, c)
        for v in (self.max_view, self.avg_view):
            v.setMinimumSize(100, 100)
            pools.addWidget(v)
        right.addLayout(pools, 2)
        row.addLayout(right, 3)
        self.formula_label = QLabel(visual)
        self.formula_label.setFont(mono_font())
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setAccessibleName("Output size formula")
        outer.addWidget(self.formula_label)
        # why the course's detectors score below 1 on a real (thick-stroked) digit
        self.note_label = QLabel(visual)
        self.note_label.setWordWrap(True)
        self.note_label.setAccessibleName("Why thick strokes change the numbers")
        self.note_label.setStyleSheet(f"color: {WARN_COLOR};")
        outer.addWidget(self.note_label)
        self.set_visual(visual)

        # controls bar
        pb = self.add_playback()
        pb.step_forward.connect(self._step_clicked)
        pb.step_back.connect(self.step_back)
        pb.reset.connect(self.reset)
        pb.play_toggled.connect(self._on_play)
        pb.speed_changed.connect(lambda _s: self._update_interval())
        self.next_stage_button = self.add_control(
            QPushButton("Next stage"), tooltip="Finish the current stage at once "
            "(convolution → ReLU → max pooling → average pooling)", name="Next stage")
        self.next_stage_button.clicked.connect(self.next_stage)
        self.add_controls_separator()
        self.digit_spin = self.add_control(QSpinBox(), "Digit #", tooltip="Which of the 5,000 "
                                           "offline MNIST digits to convolve", name="Digit number")
        self.digit_spin.setRange(0, 4999)
        self.digit_label = QLabel("")
        self.digit_label.setToolTip("The digit's true label")
        self.controls.addWidget(self.digit_label)
        self.draw_button = self.add_control(QPushButton("Draw…"), tooltip="Draw your own "
                                            "digit and convolve it", name="Draw a digit")
        self.draw_button.clicked.connect(self.draw_digit)
        self.draw_button.setVisible(drawing_available())
        self.add_controls_stretch()

        self._fill_presets()
        self.editor.preset.currentIndexChanged.connect(self._on_preset)
        for sb in self.editor.cells:
            sb.valueChanged.connect(self._on_weights_edited)
        self.editor.bias.valueChanged.connect(self._on_weights_edited)
        self.scale_combo.currentIndexChanged.connect(lambda _i: self.rebuild(keep_step=True))
        self.digit_spin.valueChanged.connect(self._on_digit_changed)
        self.size_spin.valueChanged.connect(lambda _v: self.rebuild(keep_step=False))
        self.padding_combo.currentIndexChanged.connect(lambda _i: self.rebuild(keep_step=False))
        self.stride_spin.valueChanged.connect(lambda _v: self.rebuild(keep_step=False))
        self._on_preset(0)

    # --- data -----------------------------------------------------------------------------
    def digits(self):
        if self._digits is None:
            self._digits = load_offline_digits(read_only=True)   # only read: no 15.7 MB copy
        return self._digits

    def _on_digit_changed(self, _v) -> None:
        self._drawing = None      # picking a digit number leaves the drawing
        self._leave_course()
        self.rebuild(keep_step=True)

    def draw_digit(self) -> bool:
        dialog = DrawDigitDialog(self)
        if dialog.exec() != DrawDigitDialog.DialogCode.Accepted:
            return False
        self.use_drawing(dialog.digit())
        return True

    def use_drawing(self, digit28) -> None:
        """Convolve the learner's own (28, 28) digit instead of an offline one."""
        self._drawing = np.asarray(digit28, np.float32).reshape(28, 28)
        self._leave_course()
        self.rebuild(keep_step=True)

    def _digit01(self) -> np.ndarray:
        """The chosen digit or drawing, centre-cropped to the image size, pixels 0…1."""
        if self._drawing is not None:
            img = self._drawing                                            # (28, 28)
        else:
            x, _ = self.digits()
            img = x[self.digit_spin.value(), :, :, 0]                      # (28, 28)
        n = self.size_spin.value()
        o = (28 - n) // 2
        return img[o:o + n, o:o + n]

    def image(self) -> np.ndarray:
        """What the filter slides over: the course's 9 (−1/+1), or the chosen digit in the
        chosen pixel scale."""
        if self._course:
            return course_nine()                                           # (12, 8)
        return scale_pixels(self._digit01(), self.scale_combo.currentText())

    def _fill_presets(self) -> None:
        combo = self.editor.preset
        combo.blockSignals(True)
        current = combo.currentText()
        combo.clear()
        for name in FILTER_PRESETS:
            combo.addItem(name)
        self._cnn_version = trained_cnn_version()
        model, source = trained_cnn()
        found = first_conv_filters(model)
        self._cnn_filters, self._cnn_source = None, ""
        if found is not None and found[0].shape[1:] == (3, 3):
            self._cnn_filters, self._cnn_source = found, source
            combo.insertSeparator(combo.count())
            for i in range(len(found[0])):
                combo.addItem(f"CNN filter {i + 1}")
        self._add_learner_presets(combo)
        combo.addItem("Custom (edited)")
        idx = combo.findText(current) if current else -1   # "" would find the separator
        combo.setCurrentIndex(max(idx, 0))
        combo.blockSignals(False)

    def _on_preset(self, _index) -> None:
        name = self.editor.preset.currentText()
        if name in FILTER_PRESETS:
            kernel, text = FILTER_PRESETS[name]
            self.editor.set_kernel(kernel, 0.0)
            self.editor.description.setText(text)
        elif name.startswith("CNN filter") and self._cnn_filters is not None:
            i = int(name.split()[-1]) - 1
            self.editor.set_kernel(self._cnn_filters[0][i], float(self._cnn_filters[1][i]))
            self.editor.description.setText(f"Filter {i + 1} of the first Conv2D layer of "
                                            f"{self._cnn_source}, with its learned bias.")
        elif name.startswith("Custom"):
            self.editor.description.setText("Your own weights: edit any cell.")
            return
        elif not self._use_learner_preset(name):
            return
        self.rebuild(keep_step=True)

    def _on_weights_edited(self, _v) -> None:
        self.editor.forget_exact()
        combo = self.editor.preset
        if not combo.currentText().startswith("Custom"):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.count() - 1)
            combo.blockSignals(False)
            self.editor.description.setText("Your own weights: edit any cell.")
        self.rebuild(keep_step=True)

    # --- the model of the animation -------------------------------------------------------------
    def rebuild(self, keep_step: bool = True) -> None:
        _, y = self.digits()
        if self._course:
            self.digit_label.setText("(the course's pixel-art 9)")
        else:
            self.digit_label.setText("(your drawing)" if self._drawing is not None
                                     else f"(a {int(y[self.digit_spin.value()])})")
        steps = ConvSteps(self.image(), self.editor.kernel(), self.stride_spin.value(),
                          self.padding_combo.currentText(), self.editor.bias_value())
        self.timeline = ExplorerTimeline(steps)
        total = self.timeline.total
        if not keep_step:
            # new geometry: show the whole new feature map at once
            self.step_index = self.timeline.lengths["conv"] - 1
        self.step_index = min(self.step_index, total - 1) if total else -1
        self._update_formulas()
        self._update_note()
        self._update_combined()
        self._update_shift()
        self.refresh()

    def _update_note(self) -> None:
        conv = self.timeline.conv
        name = self.editor.preset.currentText()
        note = None
        if not self._course and conv.ok:
            note = thick_stroke_note(self._digit01(), name, float(conv.output.max()),
                                     self.scale_combo.currentText())
        self.note_label.setText(note or "")
        self.note_label.setVisible(bool(note))

    def _update_combined(self) -> None:
        if self.pages.currentIndex() != 1:
            return
        img = self.image()
        if min(img.shape) < 3:
            self.combine_view.verdict.setText("✗ The image is smaller than the 3×3 filters: "
                                              "choose a larger image size.")
            return
        lo, hi = (-1.0, 1.0) if self._course else PIXEL_SCALES[self.scale_combo.currentText()]
        self.combine_view.set_combination(img, lo, hi, combine_features(img))

    def _update_formulas(self) -> None:
        tl = self.timeline
        conv = tl.conv
        lines = []
        same_axes = conv.rows.size == conv.cols.size
        for axis, name in ((conv.rows, "height and width" if same_axes else "height"),
                           (conv.cols, "width")):
            line = f"<b>Feature map {name}</b>: {axis.formula()} &nbsp;({axis.rule()})"
            if not axis.ok:
                line += (f"<br><span style='color:{ERROR_COLOR}'>✗ impossible: "
                         f"{axis.problem}</span>")
            elif axis.warning():
                line += f"<br><span style='color:{WARN_COLOR}'>⚠ {axis.warning()}</span>"
            lines.append(line)
            if same_axes:
                break
        if tl.max_pool is not None:
            pr = tl.max_pool.rows
            line = f"<b>Pooled 2×2, stride 2</b>: {pr.formula()}"
            if not tl.max_pool.ok:
                line += f" <span style='color:{ERROR_COLOR}'>✗ impossible: {pr.problem}</span>"
            elif pr.warning():
                line += f" <span style='color:{WARN_COLOR}'>⚠ {pr.warning()}</span>"
            lines.append(line)
        self.formula_label.setText("<br>".join(lines))
        self.formula_label.setToolTip(
            "n = input size, p = zero padding added (before + after), k = window size, "
            "s = stride; ⌊ ⌋ rounds down. 'same' padding chooses p so that out = ⌈n/s⌉.")

    def current_stage(self) -> tuple[str, int] | None:
        if self.timeline is None or self.step_index < 0 or self.timeline.total == 0:
            return None
        return self.timeline.stage_at(self.step_index)

    # --- drawing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        tl = self.timeline
        conv = tl.conv
        lo, hi = (-1.0, 1.0) if self._course else PIXEL_SCALES[self.scale_combo.currentText()]
        b = (conv.rows.pad_before, conv.rows.pad_after, conv.cols.pad_before, conv.cols.pad_after)
        self.input_view.set_array(conv.padded, lo, hi, border=b)
        self.input_legend.set_range(lo, hi)
        stage = self.current_stage()
        t = self.step_index
        if not conv.ok:
            for v in (self.map_view, self.max_view, self.avg_view):
                v.set_empty("✗ impossible size")
            self.input_view.set_highlights([])
            self.stage_label.setText("No output")
            self.calc_label.setText(f"<span style='color:{ERROR_COLOR}'>✗ {tl.problems[0]}"
                                    f"</span>")
            return
        # feature map: raw while convolving, after ReLU from the ReLU step on
        after_relu = stage is not None and stage[0] != "conv"
        fmap = tl.relu if after_relu else conv.output
        if after_relu:
            # nothing is negative any more: zero belongs at the dark end of the scale
            fr = (0.0, max(float(tl.relu.max()), 0.0))
        else:
            fr = (min(float(conv.output.min()), 0.0), max(float(conv.output.max()), 0.0))
        if fr[1] <= fr[0]:
            fr = (fr[0], fr[0] + 1.0)
        self.map_view.set_array(fmap, *fr)
        self.map_view.set_title("Feature map after ReLU" if after_relu else "Feature map")
        self.map_view.set_filled(tl.filled("conv", t))
        self.map_legend.set_range(*fr)
        for view, pool, key in ((self.max_view, tl.max_pool, "max"),
                                (self.avg_view, tl.avg_pool, "avg")):
            if pool is None or not pool.ok:
                view.set_empty("✗ too small to pool 2×2")
                continue
            view.set_array(pool.output, *fr)
            view.set_filled(tl.filled(key, t))
        highlights_in, highlights_map = [], []
        self.max_view.set_highlights([])
        self.avg_view.set_highlights([])
        if stage is None:
            self.stage_label.setText("Ready")
            self.calc_label.setText("Press <b>Play</b> (Space) or <b>Step</b> (→) to slide "
                                    "the filter over the image.")
        elif stage[0] == "conv":
            w = conv.window(stage[1])
            kh, kw = conv.kernel.shape
            highlights_in.append(Highlight(w.top + conv.rows.pad_before,
                                           w.left + conv.cols.pad_before, kh, kw, FORWARD_COLOR))
            highlights_map.append(Highlight(w.row, w.col, 1, 1, FORWARD_COLOR))
            self.stage_label.setText(f"Convolution: window {stage[1] + 1} of {conv.n_steps}")
            self.calc_label.setText(self._conv_html(w))
        elif stage[0] == "relu":
            neg = int((conv.output < 0).sum())
            self.stage_label.setText("ReLU on the whole feature map")
            self.calc_label.setText(
                f"ReLU(x) = max(x, 0)<br><br>{neg} of {conv.output.size} values were negative "
                f"and became 0; the other {conv.output.size - neg} pass unchanged.<br><br>"
                f"Smallest value before: {fmt(conv.output.min())}<br>"
                f"Smallest value after: {fmt(tl.relu.min())}")
        else:
            pool = tl.max_pool if stage[0] == "max" else tl.avg_pool
            view = self.max_view if stage[0] == "max" else self.avg_view
            pw = pool.window(stage[1])
            p = pool.pool_size
            highlights_map.append(Highlight(pw.top, pw.left, p, p, FORWARD_COLOR))
            if pw.winner is not None:
                highlights_map.append(Highlight(pw.winner[0], pw.winner[1], 1, 1,
                                                QColor("#1d232b"), 2.0, dashed=True))
            view.set_highlights([Highlight(pw.row, pw.col, 1, 1, FORWARD_COLOR)])
            self.stage_label.setText(f"{STAGE_TITLES[stage[0]]}: window {stage[1] + 1} of "
                                     f"{pool.n_steps}")
            self.calc_label.setText(self._pool_html(pw, stage[0]))
        self.input_view.set_highlights(highlights_in)
        self.map_view.set_highlights(highlights_map)

    # --- stepping ----------------------------------------------------------------------------------
    def step_forward(self) -> bool:
        if self.timeline is None or self.step_index >= self.timeline.total - 1:
            return False
        self.step_index += 1
        self.refresh()
        return True

    def _step_clicked(self) -> None:
        # a step past the end would otherwise do nothing without a word
        if not self.step_forward() and self.timeline is not None and self.timeline.total:
            self.show_status("That was the last window of the last stage: press R (Reset) "
                             "or Play to start again.", 6000)

    def step_back(self) -> None:
        if self.step_index >= 0:
            self.step_index -= 1
            self.refresh()

    def reset(self) -> None:
        self.step_index = -1
        self.refresh()

    def next_stage(self) -> None:
        stage = self.current_stage()
        tl = self.timeline
        if tl is None or tl.total == 0:
            return
        if stage is None:
            self.step_index = tl.lengths["conv"] - 1
        else:
            end = tl.starts[stage[0]] + tl.lengths[stage[0]] - 1
            if self.step_index < end:
                self.step_index = end
            else:
                self.step_index = min(self.step_index + 1, tl.total - 1)
                stage = tl.stage_at(self.step_index)
                self.step_index = tl.starts[stage[0]] + tl.lengths[stage[0]] - 1
        self.refresh()

    def _update_interval(self) -> None:
        speed = self.playback.speed() if self.playback is not None else 1.0
        self.timer.setInterval(max(10, int(BASE_INTERVAL_MS / speed)))

    def _on_play(self, playing: bool) -> None:
        if playing:
            if self.timeline is not None and self.step_index >= self.timeline.total - 1:
                self.step_index = -1
            self._update_interval()
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        if not self.step_forward():
            self.playback.set_playing(False)

    # --- lifecycle --------------------------------------------------------------------------------
    def activate(self) -> None:
        # a CNN trained in the other lesson since we were built: offer its filters
        if trained_cnn_version() != self._cnn_version:
            self._fill_presets()

    def deactivate(self) -> None:
        self.playback.set_playing(False)
        super().deactivate()

    def shutdown(self) -> None:
        self.timer.stop()
        super().shutdown()
