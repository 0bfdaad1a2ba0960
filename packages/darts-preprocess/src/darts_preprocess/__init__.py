"""darts_preprocess."""
