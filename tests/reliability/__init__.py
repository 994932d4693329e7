"""Issue 19: faults, crashes, hostile input, soak, office networks and secrets."""
