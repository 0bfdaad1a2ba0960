"""Helpers shared by the test folders: paths, band lists, tiny training sets, sweep files and configs.

Import from the submodules (``from tests._support.trainsets import write_tiny_training_set``); pytest's
importlib mode finds ``tests`` as a package from the repository root, so no ``sys.path`` editing.
"""
