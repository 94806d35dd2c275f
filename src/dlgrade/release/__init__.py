"""Student bundles, packages and wheels."""
