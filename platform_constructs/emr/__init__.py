"""The EMR service's constructs: encryption and TLS, roles, clusters."""
