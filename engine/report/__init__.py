"""The HTML report: its builder and its registered sections."""
