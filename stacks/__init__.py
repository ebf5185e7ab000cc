"""Deployable stacks: each composes platform constructs from the typed settings, nothing else."""
