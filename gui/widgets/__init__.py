"""Widgets shared by every lesson: colours, numbers, playback, collapsible sections."""
from gui.widgets.collapsible import CollapsibleSection
from gui.widgets.colors import (BACKWARD_COLOR, FORWARD_COLOR, AccentLegend, ColorLegend,
                                diverging_color, diverging_rgba, sequential_color,
                                sequential_rgba)
from gui.widgets.numbers import NumberLabel, fmt, mono_font
from gui.widgets.playback import PlaybackBar

__all__ = [
    "AccentLegend", "BACKWARD_COLOR", "CollapsibleSection", "ColorLegend", "FORWARD_COLOR",
    "NumberLabel", "PlaybackBar", "diverging_color", "diverging_rgba", "fmt", "mono_font",
    "sequential_color", "sequential_rgba",
]
