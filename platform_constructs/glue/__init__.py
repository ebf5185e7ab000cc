"""The Glue service's constructs: encryption, the raw-zone crawler, the ETL job, the workflow."""
