"""Helpers shared by the darts test folders: paths, band lists, tiny training sets, sweep files.

An installed workspace package (``tests/_support``, in the root's dev dependencies), so test modules,
conftests and the processes that sweeps start all import it by name, without ``sys.path`` edits.
"""
