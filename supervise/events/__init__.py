"""Lifecycle events: their types, the bus that carries them, and their wire format."""
