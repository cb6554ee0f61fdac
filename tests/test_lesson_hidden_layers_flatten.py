"""Hidden layers, issue 15 item 6: the flattening of 28×28 into 784 inputs is shown — the
digit's rows laid end to end into the input column, one pixel highlighted in the image, in
its row and in the column."""
import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint, Qt  # noqa: E402

from core.teaching.flatten import flat_index, laid_rows, pixel_of_input, row_inputs  # noqa: E402
from gui.lessons.hidden_layers import HiddenLayersLesson  # noqa: E402
from gui.widgets.colors import sequential_rgba  # noqa: E402
from gui.widgets.flatten_view import FlattenView  # noqa: E402


def digit():
    return np.random.default_rng(0).random((28, 28))


def test_flat_index_is_numpys_row_major_order():
    img = digit()
    flat = img.reshape(-1)                     # what Flatten() / x.reshape(N, 784) do
    for r, c in ((0, 0), (0, 27), (1, 0), (14, 3), (27, 27)):
        i = flat_index(r, c)
        assert i == np.ravel_multi_index((r, c), (28, 28))
        assert flat[i] == img[r, c]
        assert pixel_of_input(i) == (r, c)
    assert list(row_inputs(14)) == list(range(392, 420))
    half = laid_rows(img, 10)
    np.testing.assert_array_equal(half[:280], flat[:280])
    assert np.isnan(half[280:]).all()
    np.testing.assert_array_equal(laid_rows(img, 28), flat)
    with pytest.raises(ValueError):
        flat_index(3, 28)


def test_clicking_a_pixel_highlights_it_in_the_row_and_the_column(qtbot):
    view = FlattenView()
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show()
    qtbot.waitExposed(view)
    img = digit()
    view.set_image(img.reshape(-1))                                  # 784 values in
    np.testing.assert_array_equal(view.column, img.reshape(-1))
    image_rect, zoom, column = view.canvas.geometry_()
    cell = image_rect.width() / 28
    r, c = 14, 3
    at = QPoint(int(image_rect.left() + (c + 0.5) * cell), int(image_rect.top() + (r + 0.5) * cell))
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=at)
    assert view.highlight == (r, c)
    text = view.mapping.text()
    assert "pixel (row 14, column 3)" in text and "14 · 28 + 3 = <b>395</b>" in text
    # clicking input 600's place in the long column follows that input back to its pixel
    y = column.top() + column.height() * (600 + 0.5) / 784
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton,
                     pos=QPoint(int(column.center().x()), int(y)))
    r, c = view.highlight                      # the column is ~0.5 px per input: near 600
    assert abs(flat_index(r, c) - 600) <= 2
    assert f"= <b>{flat_index(r, c)}</b>" in view.mapping.text()
    # what is painted: the row drawn large holds that row's pixels, in order
    shot = view.canvas.grab().toImage()
    dpr = shot.devicePixelRatio()
    z = zoom.height() / 28
    for k in (0, 10, 20, 27):
        got = shot.pixelColor(int(zoom.center().x() * dpr), int((zoom.top() + (k + 0.5) * z) * dpr))
        want = sequential_rgba(np.array([img[r, k]]), 0.0, 1.0)[0]
        assert (got.red(), got.green(), got.blue()) == tuple(int(v) for v in want[:3])


def test_flatten_lays_one_row_after_another(qtbot):
    view = FlattenView()
    qtbot.addWidget(view)
    view.set_image(digit())
    view._timer.setInterval(5)
    view.play()
    assert view.rows_laid == 0 and np.isnan(view.column).all()
    qtbot.waitUntil(lambda: view.rows_laid >= 5, timeout=3000)
    laid = view.rows_laid
    np.testing.assert_array_equal(view.column[:28 * laid], digit().reshape(-1)[:28 * laid])
    assert view.highlight[0] == laid - 1                   # the row just laid is followed
    qtbot.waitUntil(lambda: not view.is_playing(), timeout=5000)
    assert view.rows_laid == 28
    np.testing.assert_array_equal(view.column, digit().reshape(-1))


def test_the_lesson_shows_its_digit_flattened(qtbot):
    lesson = HiddenLayersLesson()
    lesson.auto_train = False
    qtbot.addWidget(lesson)
    lesson.resize(1040, 760)
    lesson.show()
    lesson.activate()
    qtbot.waitUntil(lambda: lesson.data is not None, timeout=60_000)
    assert lesson.views.tabText(1) == "28×28 → 784 inputs"
    lesson.views.setCurrentIndex(1)
    assert lesson.flatten_view.isVisible()
    lesson.set_sample(7)
    np.testing.assert_array_equal(lesson.flatten_view.image.reshape(-1),
                                  lesson.data.x_val[7].astype(np.float64))
    r, c = lesson.flatten_view.highlight           # it starts on the digit's ink
    assert lesson.flatten_view.image[r, c] > 0
    assert f"= <b>{r * 28 + c}</b>" in lesson.flatten_view.mapping.text()
    lesson.deactivate()
    lesson.shutdown()
