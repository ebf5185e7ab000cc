"""Amazon QuickSight: groups and permissions, the Athena data source, SPICE datasets, a dashboard."""
