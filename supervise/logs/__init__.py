"""Output capture and the main activity log: files, rotation, reading back."""
