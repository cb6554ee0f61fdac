"""The course's pixel-art 9 and its combine step, against plain NumPy."""
import numpy as np
from scipy.signal import correlate2d

from core.teaching.conv_steps import FILTER_PRESETS
from core.teaching.course_nine import (COURSE_FEATURES, combine_features, course_nine,
                                       stroke_thickness)


def test_each_detector_scores_one_only_on_its_feature():
    nine = course_nine().astype(np.float64)
    for name in COURSE_FEATURES:
        m = correlate2d(nine, FILTER_PRESETS[name][0].astype(np.float64), mode="valid")
        assert np.isclose(m.max(), 1.0) and (m <= 1.0 + 1e-6).all()


def test_combine_finds_a_nine_and_not_its_upside_down_six():
    assert combine_features(course_nine()).is_nine
    six = combine_features(np.ascontiguousarray(course_nine()[::-1, ::-1]))
    assert not six.is_nine and "not" in six.sentence


def test_stroke_thickness_of_drawn_lines():
    img = np.zeros((20, 20))
    img[2:18, 5] = 1                      # a 1-px vertical line
    assert stroke_thickness(img) == 1
    img[2:18, 9:12] = 1                   # and a 3-px one: median over all ink pixels
    assert stroke_thickness(img[:, 8:]) == 3
    assert stroke_thickness(np.zeros((5, 5))) == 0


def test_shift_digit_moves_and_fills_with_background():
    from core.teaching.location import shift_digit
    img = np.arange(28 * 28, dtype=np.float32).reshape(28, 28)
    right = shift_digit(img, 3)
    np.testing.assert_array_equal(right[:, 3:], img[:, :-3])
    assert (right[:, :3] == 0).all()
    down_left = shift_digit(img, -2, 1)
    np.testing.assert_array_equal(down_left[1:, :-2], img[:-1, 2:])
    assert (down_left[0] == 0).all() and (down_left[:, -2:] == 0).all()
    assert (shift_digit(img, 28) == 0).all()
