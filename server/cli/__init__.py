"""The `estate` command."""
