"""The training set from the finished scenes: splits by scene, the assembly of the split arrays, the
report and config.toml records.
"""
