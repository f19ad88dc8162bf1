"""Top-level pytest configuration for the LiveMigLibrary test suites."""
