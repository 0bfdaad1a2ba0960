"""darts_models."""
