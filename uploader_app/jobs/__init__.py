"""Work the app does for the GUI and the CLI alike (no Qt)."""
