"""Code that runs inside AWS, importable and run locally by the tests.

The schema of every lake table (:mod:`workloads.schema`), the sample-data generator
(:mod:`workloads.sample_data`) and, per service, pure functions plus a thin entry point. Nothing here
imports the CDK, and nothing imports Spark at module level outside the Spark workloads.
"""
