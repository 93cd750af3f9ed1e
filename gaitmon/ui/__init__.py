"""Terminal user interfaces (rich)."""
