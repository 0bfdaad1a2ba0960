"""darts_cli."""
