"""The numbers behind the lessons, Qt-free: loss surfaces, convolution step by step,
the backprop stepper, classifier evaluation, run records and the like.

The engine (core/model.py, core/layers/, core/fast/) never imports this package; lessons
in gui/lessons/ do.
"""
