"""darts_sweep."""
