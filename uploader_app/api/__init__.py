"""HTTP client for the Twelve Labs API (requests; no Qt)."""
