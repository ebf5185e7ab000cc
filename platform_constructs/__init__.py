"""Reusable L3 constructs of the data science platform: secure defaults, typed props, resources exposed."""
