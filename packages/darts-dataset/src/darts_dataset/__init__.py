"""darts_dataset."""
