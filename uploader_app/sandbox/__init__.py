"""A local stand-in for the Twelve Labs API, for demos and tests."""
