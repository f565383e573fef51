"""Moved to ``supervise.cluster_store.definitions``; kept only until ``service.py``
imports it from there. Delete then."""

from supervise.cluster_store.definitions import extra_sections

__all__ = ["extra_sections"]
