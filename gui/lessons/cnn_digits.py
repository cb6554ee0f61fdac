"""CNN on digits: train the course's CNN on the 5,000 offline digits and look inside it.

Live curves while it trains (a TrainingSession); the first layer's learned 3×3 filters; every
layer's feature maps for a chosen or drawn digit (Sequential.layer_outputs); and one table
comparing it with the dense 784-128-10 network: validation accuracy, parameter count and
seconds per epoch.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from core.teaching import predict
from core.teaching.cnn_models import describe, digits_cnn, digits_dense
from core.teaching.learner_models import feature_map_problem, top_outputs
from core.data import load_offline_digits, train_validation_split
from gui.lessons.base import Lesson
from gui.lessons.cnn_common import (LiveCurves, TrainingStatus, add_layer_combo,
                                    add_maps_of_combo, cnn_session, epoch_seconds,
                                    layer_caption, output_as_maps, set_trained_cnn,
                                    validation_accuracies)
from gui.widgets.draw_digit_dialog import DrawDigitDialog, drawing_available
from gui.widgets.feature_maps import ArrayView, FeatureMapGrid
from gui.widgets.numbers import fmt, mono_font

#: network choice → (kind, size, table name)
NETWORKS = {
    "CNN, course size (32 · 64 filters, Dense 128)": ("cnn", "course", "CNN (course)"),
    "CNN, small (8 · 16 filters, Dense 32) — faster": ("cnn", "small", "CNN (small)"),
    "Dense 784-128-10 (no convolution)": ("dense", None, "Dense 784-128-10"),
}
TABLE_COLUMNS = ("Network", "Val. acc.", "Parameters", "s / epoch", "Epochs", "Digits")


def seconds_per_epoch(epoch_seconds) -> float | None:
    """Median epoch time; the first epoch (one-time kernel compilation) only if it is alone."""
    secs = list(epoch_seconds)
    if not secs:
        return None
    return float(np.median(secs[1:] if len(secs) > 1 else secs))


class CnnDigitsLesson(Lesson):
    title = "CNN on digits"
    subtitle = ("Train the course's CNN on real digits, watch its filters learn, look at every "
                "layer's feature maps, and compare it with a dense network.")
    help_name = "cnn_digits"
    course_tutorials = (23,)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._data = None
        self._drawing = None
        self.cnn = digits_cnn("course", seed=0)        # untrained: random filters at first
        self.cnn_label = "untrained CNN (course size)"
        self.results: dict[str, dict] = {}
        self.session = None
        self._training = None                          # (kind, size, name) while training

        visual = QWidget(self)
        row = QHBoxLayout(visual)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)

        left = QVBoxLayout()
        left.setSpacing(4)
        self.curves = LiveCurves(visual, lazy=True)
        left.addWidget(self.curves, 3)
        self.status = TrainingStatus(visual)
        left.addWidget(self.status)
        self.table = QTableWidget(0, len(TABLE_COLUMNS), visual)
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Comparison of the networks trained")
        self.table.setToolTip("Every network you trained, side by side: accuracy on the 1,000 "
                              "validation digits, weights and biases to learn, time per epoch")
        self.table.setMaximumHeight(130)
        left.addWidget(self.table, 1)
        row.addLayout(left, 3)

        self.tabs = QTabWidget(visual)
        self.tabs.setAccessibleName("Inside the CNN")
        # tab 1: first-layer filters
        ftab = QWidget()
        fl = QVBoxLayout(ftab)
        fl.setContentsMargins(4, 4, 4, 4)
        self.filters_caption = QLabel()
        self.filters_caption.setWordWrap(True)
        fl.addWidget(self.filters_caption)
        self.filter_grid = FeatureMapGrid("diverging", "filter weight", max_maps=64)
        self.filter_grid.setToolTip("Each small square is one 3×3 filter of the first "
                                    "convolution layer: orange weights add the pixel, blue "
                                    "ones subtract it")
        fl.addWidget(self.filter_grid, 1)
        self.tabs.addTab(ftab, "First-layer filters")
        # tab 2: feature maps of every layer
        mtab = QWidget()
        ml = QVBoxLayout(mtab)
        ml.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        cap = QLabel("Digit #")
        self.digit_spin = QSpinBox()
        self.digit_spin.setRange(0, 999)
        self.digit_spin.setToolTip("Which validation digit to send through the network")
        self.digit_spin.setAccessibleName("Digit number")
        cap.setBuddy(self.digit_spin)
        top.addWidget(cap)
        top.addWidget(self.digit_spin)
        self.draw_button = QPushButton("Draw…")
        self.draw_button.setToolTip("Draw your own digit and look at its feature maps")
        self.draw_button.setAccessibleName("Draw a digit")
        self.draw_button.setVisible(drawing_available())
        self.draw_button.clicked.connect(self.draw_digit)
        top.addWidget(self.draw_button)
        self.maps_combo = add_maps_of_combo(top, "28×28×1")
        self.learner = None                            # (model, name) from File ▸ Open
        ml.addLayout(top)
        top = QHBoxLayout()                # the layer's caption gets the whole width
        self.layer_combo = add_layer_combo(top)
        ml.addLayout(top)
        body = QHBoxLayout()
        side = QVBoxLayout()
        self.input_view = ArrayView("Input", "sequential")
        self.input_view.setFixedSize(130, 150)
        self.input_view.set_show_values(False)
        side.addWidget(self.input_view)
        self.prediction_label = QLabel()
        self.prediction_label.setFont(mono_font())
        self.prediction_label.setWordWrap(True)
        self.prediction_label.setFixedWidth(130)
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        side.addWidget(self.prediction_label, 1)
        body.addLayout(side)
        self.map_grid = FeatureMapGrid("sequential", "activation", max_maps=64)
        body.addWidget(self.map_grid, 1)
        ml.addLayout(body, 1)
        self.tabs.addTab(mtab, "Feature maps")
        row.addWidget(self.tabs, 2)
        self.set_visual(visual)

        # controls
        self.network_combo = self.add_control(QComboBox(), "Network", tooltip="Which network "
                                              "to train; each one trained gets a row in the table",
                                              name="Network")
        self.network_combo.addItems(list(NETWORKS))
        self.size_spin = self.add_control(QSpinBox(), "Training digits", tooltip="How many of "
                                          "the 4,000 training digits to use (fewer = faster); "
                                          "1,000 more are kept aside for validation",
                                          name="Training digits")
        self.size_spin.setRange(100, 4000)
        self.size_spin.setSingleStep(500)
        self.size_spin.setValue(4000)
        self.epochs_spin = self.add_control(QSpinBox(), "Epochs", tooltip="Passes over the "
                                            "training digits", name="Epochs")
        self.epochs_spin.setRange(1, 30)
        self.epochs_spin.setValue(3)
        self.add_controls_stretch()
        self.add_pace_control(None)  # a CNN trains for minutes: full speed
        self.train_button = self.add_control(QPushButton("Train"), tooltip="Train the chosen "
                                             "network from scratch (Adam, batch 32)", name="Train")
        self.stop_button = self.add_control(QPushButton("Stop"), tooltip="Stop after the "
                                            "current batch", name="Stop training")
        self.stop_button.setEnabled(False)
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.stop)
        self.digit_spin.valueChanged.connect(self._on_digit_changed)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self.update_feature_maps())
        self.maps_combo.currentIndexChanged.connect(self._on_maps_model_changed)

        self._fill_layers()
        self.update_filters()
        self.update_feature_maps()

    # --- data ---------------------------------------------------------------------------------
    def data(self):
        """((x_train, y_train), (x_val, y_val)): 4,000 / 1,000 offline digits, stratified."""
        if self._data is None:
            x, y = load_offline_digits(read_only=True)
            self._data = train_validation_split(x, y, 0.2, seed=0)
        return self._data

    def _cnn_state(self) -> str:
        """'trained', 'training' or 'untrained', from the label the lesson keeps for its CNN."""
        if self.cnn_label.endswith("(training…)"):
            return "training"
        return "trained" if ", trained " in self.cnn_label else "untrained"

    # --- training -------------------------------------------------------------------------------
    def train(self) -> None:
        if self.is_training():
            return
        kind, size, name = NETWORKS[self.network_combo.currentText()]
        (xt, yt), (xv, yv) = self.data()
        n = min(self.size_spin.value(), len(xt))
        model = digits_cnn(size, seed=0) if kind == "cnn" else digits_dense(seed=0)
        if kind == "cnn":
            self.cnn, self.cnn_label = model, f"{name} (training…)"
            self._fill_layers()
        epochs = self.epochs_spin.value()
        self._training = (kind, size, name, n, model.count_params())
        run = self.curves.new_run(name, {"network": describe(model), "training digits": n,
                                         "epochs": epochs, "batch size": 32})
        self._run_color = self.curves.run_color(run)
        self.status.reset()
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.network_combo.setEnabled(False)
        self.show_status(f"Training {name} on {n:,} digits for {epochs} epoch(s)…")
        self.session = cnn_session(run, model, xt[:n], yt[:n], xv, yv, epochs, 32, 0, parent=self)
        self.curves.follow(self.session)
        self.status.follow(self.session)
        self._epochs_shown = 0
        self.session.updated.connect(self._on_updated)
        self.session.finished.connect(lambda: self._on_finished(run, model))
        self.start_session(self.session)

    def stop(self) -> None:
        if self.is_training():
            self.session.stop()
            self.show_status("Stopping after the current batch…")

    def _on_updated(self, _ids) -> None:
        run = self.session.tasks[0].run
        if len(run.epochs) > self._epochs_shown and self._training and self._training[0] == "cnn":
            # watch the filters learn: redraw them after every epoch
            self._epochs_shown = len(run.epochs)
            self.update_filters()
            self.update_feature_maps()

    def _on_finished(self, run, model) -> None:
        kind, size, name, n, params = self._training
        accs = validation_accuracies(run)
        done = len(accs)
        self.results[name] = {
            "val_accuracy": accs[-1] if done else None,
            "params": params, "seconds_per_epoch": seconds_per_epoch(epoch_seconds(run)),
            "epochs": done, "n": n, "color": self._run_color,
        }
        self._fill_table()
        if kind == "cnn":
            self.cnn_label = f"{name}, trained {done} epoch(s)"
            set_trained_cnn(model, f"the CNN trained in 'CNN on digits' ({name})")
            self.update_filters()
            self.update_feature_maps()
        if run.status == "failed":
            self.show_status(f"Training failed: {run.stop_reason}")
        else:
            acc = self.results[name]["val_accuracy"]
            msg = (f"{name}: validation accuracy {fmt(acc)} after {done} epoch(s)"
                   if acc is not None else f"{name}: stopped before the first epoch ended")
            if run.stop_reason:
                msg += f" — {run.stop_reason}"
            self.show_status(msg)
        self._training = None
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.network_combo.setEnabled(True)

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.results))
        for r, (name, res) in enumerate(self.results.items()):
            acc = res["val_accuracy"]
            sec = res["seconds_per_epoch"]
            cells = [name, "—" if acc is None else f"{fmt(100 * acc)} %", f"{res['params']:,}",
                     "—" if sec is None else fmt(sec), str(res["epochs"]), f"{res['n']:,}"]
            tips = [f"run colour in the curves; {name}",
                    "correctly classified validation digits / 1,000, after the last epoch",
                    "weights + biases the optimizer adjusts (model.count_params())",
                    "median seconds per training epoch, validation included; the first epoch "
                    "is left out when there are more (it includes one-time compilation)",
                    "epochs completed", "training digits used"]
            for c, (text, tip) in enumerate(zip(cells, tips)):
                item = QTableWidgetItem(("■ " if c == 0 and res["color"] else "") + text)
                item.setToolTip(tip)
                if c == 0 and res["color"]:
                    item.setForeground(QColor(res["color"]))
                if c > 0:
                    item.setFont(mono_font())
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)

    def table_values(self) -> dict[str, dict]:
        """The comparison table as {network: {column: text}} (what the learner reads)."""
        out = {}
        for r in range(self.table.rowCount()):
            row = [self.table.item(r, c).text() for c in range(self.table.columnCount())]
            out[row[0].removeprefix("■ ")] = dict(zip(TABLE_COLUMNS[1:], row[1:]))
        return out

    # --- inside the CNN --------------------------------------------------------------------------
    def _fill_layers(self) -> None:
        current = self.layer_combo.currentIndex()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i, lay in enumerate(self.maps_model()[0].layers):
            self.layer_combo.addItem(layer_caption(i, lay, lay.output_shape))
            self.layer_combo.setItemData(i, f"{lay.name} ({type(lay).__name__})",
                                         Qt.ItemDataRole.ToolTipRole)
        self.layer_combo.setCurrentIndex(current if 0 <= current < self.layer_combo.count() else 0)
        self.layer_combo.blockSignals(False)

    def update_filters(self) -> None:
        k = self.cnn.weights_snapshot()[0]["kernel"]  # (3, 3, 1, F), never mid-update
        maps = np.transpose(k[:, :, 0, :], (2, 0, 1))                     # (F, 3, 3)
        self.filter_grid.set_maps(maps)
        self.filters_caption.setText(
            f"The {maps.shape[0]} filters of the first Conv2D layer of the {self.cnn_label}. "
            f"Training turns random weights into edge and stroke detectors.")

    def current_input(self) -> tuple[np.ndarray, str]:
        """(28, 28, 1) image and what it is."""
        if self._drawing is not None:
            return self._drawing[:, :, None], "your drawing"
        _, (xv, yv) = self.data()
        i = self.digit_spin.value()
        return xv[i], f"validation digit #{i}, a {int(yv[i])}"

    def _on_digit_changed(self, _v) -> None:
        self._drawing = None
        self.update_feature_maps()

    def draw_digit(self) -> bool:
        dialog = DrawDigitDialog(self)
        if dialog.exec() != DrawDigitDialog.DialogCode.Accepted:
            return False
        self.use_drawing(dialog.digit())
        return True

    def use_drawing(self, digit28) -> None:
        self._drawing = np.asarray(digit28, np.float32).reshape(28, 28)
        self.update_feature_maps()

    def next_question(self):
        img, what = self.current_input()
        probs = self.cnn.layer_outputs(img[None])[-1][0]
        true = int(what.rsplit(" ", 1)[1]) if "#" in what else None
        # one question per image: a refresh after an epoch of training is not a new one
        key = ("digit", what, hash(img.tobytes()))
        return predict.digit_question(probs, what.split(",")[0], true, "the CNN", key)

    def update_feature_maps(self) -> None:
        img, what = self.current_input()
        self.input_view.set_array(img[:, :, 0], 0.0, 1.0)
        self.input_view.set_title(what.split(",")[0] if "#" in what else "Your drawing")
        model, who = self.maps_model()
        outs = model.layer_outputs(img[None])                             # list of (1, ...)
        top = top_outputs(model, outs[-1][0])
        self.prediction_label.setText(
            f"{what}\n\n{who} says:\n" + "\n".join(
                f"{d}: {fmt(100 * v)} %" if p else f"{d}: {fmt(v)}" for d, v, p in top))
        self.prediction_label.setToolTip("softmax output of the last layer: the network's "
                                         "probability for each digit (top three)")
        i = max(self.layer_combo.currentIndex(), 0)
        lay = model.layers[i]
        maps, caption = output_as_maps(outs[i][0])
        self.map_grid.set_maps(maps, caption=f"{type(lay).__name__} output: {caption}")
        if self.ask_first(self.update_feature_maps):     # the maps show, the answer waits
            self.prediction_label.setText(f"{what.split(',')[0]}\n\nWhich digit will the CNN "
                                          "answer? Predict below.")

    # --- the learner's own model (File ▸ Open model…) -------------------------------------
    def maps_model(self) -> tuple[object, str]:
        """(model whose feature maps are shown, how the prediction names it)."""
        if self.maps_combo.currentData() == "yours" and self.learner is not None:
            return self.learner[0], f"Your model ({self.learner[1]})"
        return self.cnn, f"The {self._cnn_state()} CNN"

    def _on_maps_model_changed(self, _i) -> None:
        self._fill_layers()
        self.update_feature_maps()

    def learner_model_opened(self, model, name: str) -> None:
        """A model with Conv2D layers that takes 28×28×1 digits shows its own feature maps
        ("Of: your model"); any other model is refused in one sentence."""
        i = self.maps_combo.findData("yours")
        problem = feature_map_problem(model)
        if problem is not None:
            self.learner = None
            if i >= 0:
                self.maps_combo.removeItem(i)     # back to the lesson's CNN
            self.show_status(f"{name} cannot show feature maps here: {problem}.", 8000)
            return
        self.learner = (model, name)
        if i < 0:
            self.maps_combo.addItem("", "yours")
            i = self.maps_combo.count() - 1
        # the row has no room for a file name: the tooltip and the prediction name it
        self.maps_combo.setItemText(i, "your model")
        self.maps_combo.setItemData(i, f"your model: {name}", Qt.ItemDataRole.ToolTipRole)
        if self.maps_combo.currentIndex() == i:
            self._on_maps_model_changed(i)
        else:
            self.maps_combo.setCurrentIndex(i)

    # leaving the lesson stops training (Lesson.deactivate); the epochs done so far still
    # count in the table
