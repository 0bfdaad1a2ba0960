"""Cutting a scene into overlapping patches and filtering them."""
