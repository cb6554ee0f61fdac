"""Optimizers on the loss surface: what the learner sees — three paths drawn on each map,
counters that advance as the replay plays, Reset that puts them back, and words saying
which parameters are drawn and what is held fixed."""
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core.teaching import descent_paths as dp
from gui.lessons import COURSE
from gui.lessons.optimizer_paths import OptimizerPathsLesson

TIMEOUT = 30_000
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


@pytest.fixture
def lesson(qtbot):
    les = OptimizerPathsLesson()
    qtbot.addWidget(les)
    les.resize(1280, 800)
    les.show()
    # the runs are computed in workers
    qtbot.waitUntil(lambda: les.variants.data is not None and les.arena.data is not None,
                    timeout=TIMEOUT)
    yield les
    les.shutdown()
    assert not les.running_workers()


def _counters(page):
    return [page.table.item(row, 1).text() for row in range(3)]


def _names(page):
    return [page.table.item(row, 0).text() for row in range(3)]


def test_listed_right_after_batch_vs_sgd():
    names = [cls for _mod, cls in COURSE]
    assert names[names.index("DescentVariantsLesson") + 1] == "OptimizerPathsLesson"
    assert OptimizerPathsLesson.course_tutorials == (14,)


def test_three_descent_paths_on_the_map(lesson):
    page = lesson.variants
    assert [n.split(" ", 1)[1] for n in _names(page)] == ["batch", "stochastic", "mini-batch 4"]
    # at the start every path is its first point, the course's start
    for i in range(3):
        np.testing.assert_allclose(page.map.drawn_points(i), [[1.0, 1.0]])
    assert _counters(page) == ["0", "0", "0"]
    # one step is one update: stochastic descent's first (one example seen)
    qtbot_step = lesson.playback.forward_button
    qtbot_step.click()
    assert _counters(page) == ["0", "1", "0"]
    assert "1 of 840 examples" in page.clock_label.text()
    # after one epoch batch descent has made 1 update, stochastic 28, mini-batch 7
    while page.examples_seen() < 28:
        page.step()
    assert _counters(page) == ["1", "28", "7"]
    drawn = [page.map.drawn_points(i) for i in range(3)]
    assert [len(d) for d in drawn] == [2, 29, 8]
    ps = page.data.path_set
    for d, path in zip(drawn, ps.paths):
        np.testing.assert_allclose(d, path.points[:len(d)])
    # the numbers in the table are the path's own
    batch = ps.by_key("batch")
    assert page.table.item(0, 4).text() == f"{batch.losses[1]:.4f}"
    assert page.table.item(0, 2).text() == "1.00"


def test_counters_advance_while_playing_and_reset_puts_them_back(qtbot, lesson):
    page = lesson.variants
    lesson.playback.set_speed(16)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(lambda: int(_counters(page)[0]) >= 2, timeout=TIMEOUT)
    lesson.playback.set_playing(False)
    batch, sgd, mini = map(int, _counters(page))
    # update counts in proportion to the examples each needs per update
    assert sgd >= 28 * batch and mini >= 7 * batch
    times = [float(page.table.item(r, 3).text().split()[0]) for r in range(3)]
    assert all(t > 0 for t in times)
    qtbot.keyClick(lesson, Qt.Key.Key_R)     # R: reset, as the button
    assert _counters(page) == ["0", "0", "0"]
    for i in range(3):
        assert len(page.map.drawn_points(i)) == 1
    assert "0 of 840 examples" in page.clock_label.text()


def test_playing_to_the_end_sums_up_in_numbers(qtbot, lesson):
    lesson.epochs_spin.setValue(2)            # recomputed off the GUI thread
    page = lesson.variants
    qtbot.waitUntil(lambda: page.data is not None and page.data.path_set.total_examples == 56,
                    timeout=TIMEOUT)
    lesson.playback.set_speed(16)
    lesson.playback.set_playing(True)
    qtbot.waitUntil(page.at_end, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not lesson.playback.is_playing(), timeout=TIMEOUT)
    assert _counters(page) == ["2", "56", "14"]
    text = page.summary_label.text()
    assert text.startswith("Done:") and "stochastic 56 updates" in text and "Lowest:" in text
    # Play at the end starts the replay over
    lesson.playback.set_playing(True)
    assert int(_counters(page)[1]) <= 1
    lesson.playback.set_playing(False)


def test_arena_runs_sgd_momentum_and_adam_from_one_start(qtbot, lesson):
    lesson.tabs.setCurrentIndex(1)
    page = lesson.arena
    assert lesson.page() is page
    assert [n.split(" ", 1)[1] for n in _names(page)] == ["SGD", "momentum", "Adam"]
    for _ in range(10):
        lesson.playback.trigger_step_forward()
    assert _counters(page) == ["10", "10", "10"]
    drawn = [page.map.drawn_points(i) for i in range(3)]
    for d in drawn:
        np.testing.assert_allclose(d[0], [1.0, 1.0])
        assert len(d) == 11
    # three rules, three different places after the same 10 gradients
    ends = np.array([d[-1] for d in drawn])
    assert np.min(np.linalg.norm(ends[:, None] - ends[None], axis=-1) + np.eye(3) * 99) > 0.1
    lesson.playback.trigger_step_back()
    assert _counters(page) == ["9", "9", "9"]
    # a setting changes the run: Adam's first step is its learning rate long in each direction
    lesson.adam_rate_box.setCurrentIndex(lesson.adam_rate_box.findData(1.0))
    qtbot.waitUntil(lambda: page.data is not None and page.data.path_set.paths[2].points[1][0]
                    == pytest.approx(2.0, abs=1e-4), timeout=TIMEOUT)
    assert _counters(page) == ["0", "0", "0"]
    expected = dp.optimizer_arena(None, lesson.arena_settings(), 80).by_key("adam").points
    np.testing.assert_allclose(page.data.path_set.by_key("adam").points, expected)


def test_says_what_is_drawn_and_what_is_held_fixed(lesson):
    for page in (lesson.variants, lesson.arena):
        about = page.about_label.text()
        bias = page.data.path_set.problem.bias
        assert "Drawn: w1 and w2" in about and f"b at {bias:.4g}" in about
        assert "held at" in page.map.legend._label
    assert "28 (one person each)" in lesson.variants.about_label.text()


def test_no_scientific_notation_on_screen(lesson):
    for page in (lesson.variants, lesson.arena):
        for _ in range(30):
            page.step()
        texts = [lbl.text() for lbl in page.findChildren(QLabel)]
        texts += [page.table.item(r, c).text() for r in range(3) for c in range(5)]
        texts += page.map.legend.tick_labels()
        for t in texts:
            assert not SCIENTIFIC.search(t), t


def test_leaving_pauses_the_replay(lesson):
    lesson.playback.set_playing(True)
    assert lesson.clock.is_running()
    lesson.deactivate()
    assert not lesson.playback.is_playing() and not lesson.clock.is_running()


def test_arena_on_mini_batch_gradients(qtbot, lesson):
    lesson.tabs.setCurrentIndex(1)
    page = lesson.arena
    lesson.gradient_box.setCurrentIndex(lesson.gradient_box.findData(4))
    qtbot.waitUntil(lambda: page.data is not None
                    and page.data.path_set.paths[0].batch_size == 4, timeout=TIMEOUT)
    assert "the same shuffled mini-batches of 4" in page.about_label.text()
    lesson.playback.trigger_step_forward()
    # one step: every rule made its first update, on the first 4 people of the shuffle
    assert _counters(page) == ["1", "1", "1"]
    assert "4 of 320 examples" in page.clock_label.text()
    expected = dp.optimizer_arena(None, lesson.arena_settings(), 80, batch_size=4)
    for got, want in zip(page.data.path_set.paths, expected.paths):
        np.testing.assert_allclose(got.points, want.points)


def test_every_counter_says_how_it_is_made(lesson):
    page = lesson.variants
    for _ in range(28):
        page.step()
    tips = [page.table.item(0, c).toolTip() for c in range(1, 5)]   # batch, after 1 epoch
    assert "1 update of 28 people" in tips[0]
    assert "28 ÷ 28 = 1.00" in tips[1]
    assert tips[2].startswith("time = updates × one update's time = 1 ×")
    assert tips[3].startswith("L = −(1/28)") and "b = -6.845" in tips[3]
