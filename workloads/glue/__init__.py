"""The Glue ETL workload: raw-file splitting, the day's transformation, data-quality rules, entry script."""
