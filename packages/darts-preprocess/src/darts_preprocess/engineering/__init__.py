"""A raw scene as model input: its auxiliary layers (ArcticDEM, TCVIS) and the derived bands (NDVI, TPI,
slope, TCVIS).
"""
