"""Package data of Backprop Lab: lesson texts, pretrained models, icons, styles.

Read files through `resources.paths`, never through `__file__` arithmetic, so the same code
works from a source checkout, `pip install -e .` and `pip install .`.
"""
