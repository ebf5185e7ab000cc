"""The EMR workload: daily store features from the curated transactions."""
