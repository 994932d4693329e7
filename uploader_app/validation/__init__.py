"""Local checks of videos against the target index's limits (no Qt)."""
