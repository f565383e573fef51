"""Cluster mode: definitions in Redis applied by every node, state and commands through it,
one console for every node (docs/cluster.md)."""
