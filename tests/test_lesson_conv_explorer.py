"""Convolution explorer: what the learner reads (window products and sum, feature map,
pooled maps, size formula) equals a computation done here with NumPy / SciPy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from scipy.signal import correlate2d

from core.data import load_offline_digits
from gui.lessons.conv_explorer import ConvExplorerLesson
from gui.widgets.numbers import fmt

VERTICAL = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], np.float64)


@pytest.fixture(scope="module")
def digits():
    x, y = load_offline_digits()
    return x[:, :, :, 0].astype(np.float64), y


@pytest.fixture
def lesson(shown_lesson):
    w = shown_lesson(ConvExplorerLesson)
    w.editor.preset.setCurrentText("Vertical edge")
    return w


def same_pads(n, k, s):
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def reference(image, kernel, stride=1, padding="valid"):
    if padding == "same":
        t, b = same_pads(image.shape[0], 3, stride)
        image = np.pad(image, ((t, b), (t, b)))
    return correlate2d(image, kernel, mode="valid")[::stride, ::stride]


def click(qtbot, button, times=1):
    for _ in range(times):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_one_window_shows_the_hand_computed_products_and_sum(qtbot, lesson, digits):
    x, y = digits
    lesson.digit_spin.setValue(7)
    click(qtbot, lesson.playback.reset_button)
    assert lesson.map_view.filled() == 0
    full = reference(x[7], VERTICAL)
    k = int(np.flatnonzero(np.abs(full.ravel()) > 0.1)[0])   # first window on the stroke
    click(qtbot, lesson.playback.forward_button, k + 1)
    r, c = divmod(k, 26)
    patch = x[7, r:r + 3, c:c + 3]
    products = patch * VERTICAL
    total = products.sum()
    text = lesson.calc_label.text()
    assert f"feature map value = {fmt(total)}" in text
    for i in range(3):
        for j in range(3):
            assert (f"<td>[{i},{j}]</td><td align='right'>&nbsp;{fmt(patch[i, j])}</td>"
                    f"<td align='right'>&nbsp;{fmt(VERTICAL[i, j])}</td><td align='right'>"
                    f"&nbsp;<b>{fmt(products[i, j])}</b></td>") in text
    assert f"window {k + 1} of 676" in lesson.stage_label.text()
    assert lesson.map_view.filled() == k + 1
    np.testing.assert_allclose(lesson.map_view.values()[r, c], total, rtol=1e-5, atol=1e-6)
    hl = lesson.input_view._highlights[0]
    assert (hl.top, hl.left, hl.height, hl.width) == (r, c, 3, 3)
    # back one step: one cell fewer
    click(qtbot, lesson.playback.back_button)
    assert lesson.map_view.filled() == k


def test_padding_and_stride_change_the_map_and_the_formula(qtbot, lesson, digits):
    x, _ = digits
    lesson.digit_spin.setValue(3)
    assert "out = ⌊(28 + 2·0 − 3)/1⌋ + 1 = 26" in lesson.formula_label.text()
    lesson.padding_combo.setCurrentText("same")
    lesson.stride_spin.setValue(2)
    ref = reference(x[3], VERTICAL, 2, "same")
    assert ref.shape == (14, 14)
    np.testing.assert_allclose(lesson.map_view.values(), ref, atol=1e-5)
    assert lesson.map_view.filled() == 14 * 14       # a new geometry shows the whole map
    assert "out = ⌊(28 + (0 + 1) − 3)/2⌋ + 1 = 14" in lesson.formula_label.text()
    # the input view shows the padding: one zero row/column after the image
    assert lesson.input_view.values().shape == (29, 29)
    assert lesson.input_view._border == (0, 1, 0, 1)
    lesson.stride_spin.setValue(3)
    ref = reference(x[3], VERTICAL, 3, "same")
    np.testing.assert_allclose(lesson.map_view.values(), ref, atol=1e-5)
    lesson.padding_combo.setCurrentText("valid")
    ref = reference(x[3], VERTICAL, 3, "valid")
    assert ref.shape == (9, 9)
    np.testing.assert_allclose(lesson.map_view.values(), ref, atol=1e-5)
    assert "never covered" in lesson.formula_label.text()   # 28 = 8·3 + 3 + 1: one left over


def test_relu_then_max_and_average_pooling(qtbot, lesson, digits):
    x, _ = digits
    lesson.digit_spin.setValue(11)
    click(qtbot, lesson.playback.reset_button)
    click(qtbot, lesson.next_stage_button)           # whole convolution
    assert lesson.map_view.filled() == 26 * 26
    click(qtbot, lesson.playback.forward_button)     # ReLU
    fmap = reference(x[11], VERTICAL)
    relu = np.maximum(fmap, 0)
    np.testing.assert_allclose(lesson.map_view.values(), relu, atol=1e-5)
    assert f"{int((fmap < 0).sum())} of 676 values were negative" in lesson.calc_label.text()
    click(qtbot, lesson.playback.forward_button, 3)  # three max-pooling windows
    blocks = relu.reshape(13, 2, 13, 2)
    max_ref, avg_ref = blocks.max(axis=(1, 3)), blocks.mean(axis=(1, 3))
    np.testing.assert_allclose(lesson.max_view.values(), max_ref, atol=1e-5)
    assert lesson.max_view.filled() == 3
    assert f"= <b>{fmt(max_ref[0, 2])}</b>" in lesson.calc_label.text()
    click(qtbot, lesson.next_stage_button)           # rest of max pooling
    click(qtbot, lesson.playback.forward_button)     # first average window
    np.testing.assert_allclose(lesson.avg_view.values(), avg_ref, atol=1e-5)
    assert lesson.avg_view.filled() == 1
    assert f"/ 4 = <b>{fmt(avg_ref[0, 0])}</b>" in lesson.calc_label.text()


def test_feature_map_follows_a_new_digit_and_edited_weights(qtbot, lesson, digits):
    x, _ = digits
    lesson.digit_spin.setValue(0)
    before = lesson.map_view.values().copy()
    lesson.digit_spin.setValue(42)
    np.testing.assert_allclose(lesson.map_view.values(), reference(x[42], VERTICAL), atol=1e-5)
    assert not np.allclose(before, lesson.map_view.values())
    lesson.editor.cells[4].setValue(2.5)             # the centre weight
    assert lesson.editor.preset.currentText().startswith("Custom")
    k = VERTICAL.copy()
    k[1, 1] = 2.5
    np.testing.assert_allclose(lesson.map_view.values(), reference(x[42], k), atol=1e-5)
    lesson.editor.bias.setValue(-0.5)
    np.testing.assert_allclose(lesson.map_view.values(), reference(x[42], k) - 0.5, atol=1e-5)


def test_course_loop_detector_on_pixels_minus_one_to_one(qtbot, lesson, digits):
    x, _ = digits
    lesson.scale_combo.setCurrentText("−1…1 (course)")
    lesson.editor.preset.setCurrentText("Loop (the 9's head)")
    loop = np.array([[1, 1, 1], [1, -1, 1], [1, 1, 1]], np.float64) / 9
    lesson.digit_spin.setValue(5)
    np.testing.assert_allclose(lesson.map_view.values(), reference(2 * x[5] - 1, loop),
                               atol=1e-5)


def test_impossible_size_is_flagged_not_crashed(qtbot, lesson):
    lesson.size_spin.setValue(2)
    text = lesson.formula_label.text()
    assert "✗ impossible" in text and "does not fit" in text
    assert lesson.map_view.values().size == 0
    click(qtbot, lesson.playback.forward_button, 2)  # stepping does nothing, safely
    assert lesson.calc_label.text().count("does not fit") == 1
    click(qtbot, lesson.playback.play_button)        # nothing to play: it stops by itself
    qtbot.waitUntil(lambda: not lesson.playback.is_playing(), timeout=3000)
    lesson.padding_combo.setCurrentText("same")      # zeros around make it possible again
    assert "impossible" not in lesson.formula_label.text()
    assert lesson.map_view.values().shape == (2, 2)
    assert lesson.max_view.values().shape == (1, 1)
    lesson.size_spin.setValue(1)                     # a 1×1 map cannot be pooled 2×2
    assert lesson.max_view._empty_text.startswith("✗ too small to pool")
    assert "Pooled 2×2, stride 2</b>: out = ⌊(1 + 2·0 − 2)/2⌋ + 1 = 0 ✗ impossible" in \
        lesson.formula_label.text()


def test_play_fills_the_map(qtbot, lesson):
    lesson.size_spin.setValue(6)                     # 4×4 map: a short animation
    click(qtbot, lesson.playback.reset_button)
    lesson.playback.set_speed(16)
    click(qtbot, lesson.playback.play_button)
    assert lesson.playback.is_playing()
    qtbot.waitUntil(lambda: not lesson.playback.is_playing(), timeout=10000)
    assert lesson.step_index == lesson.timeline.total - 1
    assert lesson.avg_view.filled() == 4


def test_opens_on_a_real_preset(qtbot):
    fresh = ConvExplorerLesson()
    qtbot.addWidget(fresh)
    assert fresh.editor.preset.currentText() == "Vertical edge"
    np.testing.assert_array_equal(fresh.editor.kernel(), VERTICAL)
    fresh.shutdown()


def test_filters_of_a_trained_cnn_are_offered(qtbot, lesson):
    from core.teaching.cnn_models import digits_cnn
    from gui.lessons import cnn_common

    model = digits_cnn("small", seed=3)
    cnn_common.set_trained_cnn(model, "a test CNN")
    try:
        lesson.activate()
        lesson.editor.preset.setCurrentText("CNN filter 2")
        k = model.layers[0].params["kernel"][:, :, 0, 1]
        np.testing.assert_allclose(lesson.editor.kernel(), k, atol=1e-4)
        assert "a test CNN" in lesson.editor.description.text()
    finally:
        cnn_common._TRAINED.update(model=None, source="")


def test_own_drawing_is_convolved(qtbot, lesson):
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 13:15] = 1.0                       # a vertical bar
    lesson.use_drawing(drawing)
    assert lesson.digit_label.text() == "(your drawing)"
    np.testing.assert_allclose(lesson.map_view.values(),
                               reference(drawing.astype(np.float64), VERTICAL), atol=1e-5)
    lesson.digit_spin.setValue(lesson.digit_spin.value() + 1)
    assert lesson.digit_label.text() != "(your drawing)"


def test_fits_beside_the_navigator_at_1280_wide(lesson):
    # the window is 1280 wide with a ~210 px lesson list: a wider minimum would squeeze the
    # list for every lesson shown after this one
    assert lesson.minimumSizeHint().width() <= 1040


def test_a_step_past_the_end_says_how_to_start_again(qtbot, lesson):
    lesson.size_spin.setValue(4)                     # 2×2 map: the end is a few steps away
    messages = []
    lesson.status_message.connect(lambda text, _ms: messages.append(text))
    for _ in range(lesson.timeline.total + 1):
        click(qtbot, lesson.playback.forward_button)
    assert lesson.step_index == lesson.timeline.total - 1
    assert messages and "last" in messages[-1] and "Reset" in messages[-1]


# --- issue 15, item 1: the notes' T23 demonstration -------------------------------------------
LOOP = np.array([[1, 1, 1], [1, -1, 1], [1, 1, 1]], np.float64) / 9
STEM = np.array([[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]], np.float64) / 9
DIAGONAL = np.array([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]], np.float64) / 9
# where each feature of the pixel-art 9 is: map cell = top-left pixel of the 3×3 window
FEATURE_CELLS = {
    "Loop (the 9's head)": (LOOP, [(1, 2)]),                       # the 3×3 ring
    "Vertical line (the 9's stem)": (STEM, [(4, 3), (5, 3)]),       # the stem below it
    "Diagonal line (the 9's tail)": (DIAGONAL, [(7, 2), (8, 1)]),   # the tail to lower left
}


def test_course_example_maps_reach_one_exactly_where_each_feature_is(qtbot, lesson):
    click(qtbot, lesson.course_button)
    assert lesson.course_button.isChecked()
    image = lesson.input_view.values().astype(np.float64)
    # the notes' grid: only −1 and +1, one-pixel strokes (no 2×2 block of ink anywhere)
    assert set(np.unique(image)) == {-1.0, 1.0}
    ink = image > 0
    assert not (ink[:-1, :-1] & ink[1:, :-1] & ink[:-1, 1:] & ink[1:, 1:]).any()
    assert lesson.input_view.color_range() == (-1.0, 1.0)
    for name, (kernel, cells) in FEATURE_CELLS.items():
        lesson.editor.preset.setCurrentText(name)
        shown = lesson.map_view.values()
        expected = correlate2d(image, kernel, mode="valid")
        np.testing.assert_allclose(shown, expected, atol=1e-6)
        assert sorted(map(tuple, np.argwhere(np.isclose(shown, 1.0, atol=1e-6)))) == cells, name
        assert shown.max() == pytest.approx(1.0, abs=1e-6)
    # no "why thick strokes" note on the one-pixel example
    assert not lesson.note_label.isVisible()
    # choosing a digit again leaves the example
    lesson.digit_spin.setValue(3)
    assert not lesson.course_button.isChecked()
    assert lesson.input_view.values().shape == (28, 28)


def test_after_relu_zero_sits_at_the_dark_end_of_the_scale(qtbot, lesson, digits):
    x, _ = digits
    lesson.scale_combo.setCurrentText("−1…1 (course)")
    lesson.editor.preset.setCurrentText("Loop (the 9's head)")
    lesson.digit_spin.setValue(7)
    raw = reference(2 * x[7] - 1, LOOP)
    assert raw.min() < 0                                 # there are negatives to clear
    assert lesson.map_view.color_range()[0] == pytest.approx(raw.min(), abs=1e-5)
    for _ in range(3):                                   # finish convolving, then ReLU
        if lesson.current_stage()[0] == "relu":
            break
        click(qtbot, lesson.next_stage_button)
    assert lesson.current_stage()[0] == "relu"
    np.testing.assert_allclose(lesson.map_view.values(), np.maximum(raw, 0), atol=1e-5)
    lo, hi = lesson.map_view.color_range()
    assert lo == 0.0 and hi == pytest.approx(raw.max(), abs=1e-5)
    click(qtbot, lesson.next_stage_button)               # → max pooling
    assert lesson.max_view.color_range()[0] == 0.0
    assert lesson.avg_view.color_range()[0] == 0.0


def test_thick_strokes_of_a_real_digit_are_explained_with_its_numbers(qtbot, lesson, digits):
    x, _ = digits
    lesson.scale_combo.setCurrentText("−1…1 (course)")
    lesson.editor.preset.setCurrentText("Vertical line (the 9's stem)")
    lesson.digit_spin.setValue(5)
    best = reference(2 * x[5] - 1, STEM).max()
    assert best < 0.9
    assert lesson.note_label.isVisible()
    note = lesson.note_label.text()
    assert "thick" in note and "one-pixel" in note
    assert f"best score is {best:.3g}" in note
    assert "(6 − 3)/9 = 0.333" in note                   # the empty background's score
    lesson.editor.preset.setCurrentText("Vertical edge")   # not a course detector: no note
    assert not lesson.note_label.isVisible()


def test_combine_step_shows_the_maps_together_locating_the_nine(qtbot, lesson):
    click(qtbot, lesson.course_button)
    click(qtbot, lesson.combine_button)
    assert lesson.pages.currentWidget() is lesson.combine_view
    view = lesson.combine_view
    image = view.image_view.values().astype(np.float64)
    for map_view, (name, (kernel, cells)) in zip(view.map_views, FEATURE_CELLS.items()):
        relu = np.maximum(correlate2d(image, kernel, mode="valid"), 0)
        np.testing.assert_allclose(map_view.values(), relu, atol=1e-6)
        assert map_view.color_range()[0] == 0.0
        assert sorted((h.top, h.left) for h in map_view._highlights) == cells
    # on the image, a 3×3 box over each feature
    boxes = {(h.top, h.left, h.height) for h in view.image_view._highlights}
    assert {(1, 2, 3), (4, 3, 3), (7, 2, 3)} <= boxes
    text = view.verdict.text()
    assert view.verdict.isVisible()
    assert "loop" in text.lower() and "stem" in text and "below" in text and "a 9" in text
    click(qtbot, lesson.combine_button)
    assert lesson.pages.currentIndex() == 0


def test_moving_a_digit_changes_the_dense_answer_but_not_the_cnns(qtbot, lesson, digits):
    from core.io import load_model
    from resources.paths import model_path
    x, y = digits
    with model_path("digits_mlp") as p:
        dense = load_model(p)
    with model_path("digits_cnn") as p:
        cnn = load_model(p)
    click(qtbot, lesson.shift_button)
    assert lesson.pages.currentWidget() is lesson.shift_view
    view = lesson.shift_view
    i = lesson.digit_spin.value()
    label = int(y[i])

    def moved(dx):                                   # zero-filled, by hand
        out = np.zeros((28, 28))
        if dx >= 0:
            out[:, dx:] = x[i][:, :28 - dx]
        else:
            out[:, :dx] = x[i][:, -dx:]
        return out

    dense_answers, cnn_answers = [], []
    for dx in range(-6, 7):
        view.slider.setValue(dx)
        np.testing.assert_array_equal(view.view.values(), moved(dx).astype(np.float32))
        batch = moved(dx).astype(np.float32)[None, :, :, None]
        pd, pc = dense.predict(batch)[0], cnn.predict(batch)[0]
        dense_answers.append(int(pd.argmax()))
        cnn_answers.append(int(pc.argmax()))
        assert view.dense_answer.text().startswith(f"{pd.argmax()}  ({100 * pd.max():.1f} %)")
        assert view.cnn_answer.text().startswith(f"{pc.argmax()}  ({100 * pc.max():.1f} %)")
    # the lesson opened on a digit that makes the notes' point
    assert dense_answers[6] == label and any(a != label for a in dense_answers)
    assert all(a == label for a in cnn_answers)
    assert "dense network's answer changes" in view.verdict.text()
    assert "%" in view.summary.text() and "6 px" in view.summary.text()
    click(qtbot, lesson.shift_button)
    assert lesson.pages.currentIndex() == 0
