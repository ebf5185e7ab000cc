"""Per-environment configuration: the typed settings model and one YAML file per environment."""
