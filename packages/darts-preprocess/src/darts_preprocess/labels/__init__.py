"""Labels: reading and matching the label files to scenes, burning them into a scene grid, and the
target ``y``.
"""
