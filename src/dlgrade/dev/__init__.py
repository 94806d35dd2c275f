"""Course authors' checks: dev check, README table, doctor."""
