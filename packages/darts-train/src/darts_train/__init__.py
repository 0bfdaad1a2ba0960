"""darts_train."""
