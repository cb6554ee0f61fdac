"""Backprop Lab's Qt user interface: main window, lesson frame, shared widgets.

Nothing here does numerics beyond glue: every number shown comes from `core`.
"""
