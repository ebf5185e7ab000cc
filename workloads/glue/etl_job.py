"""AWS Glue entry point of the ETL job: arguments, job bookmark, the day loop, the data-quality gate.

Everything that transforms data lives in :mod:`.transform` (plain PySpark, tested locally); this
script only wires it to Glue. Job arguments:

``--raw_url`` / ``--curated_url``
    ``s3://`` URLs of the raw and curated zone buckets.
``--dq_results_url``
    where Glue Data Quality writes its results (``s3://…/data-quality/``).
``--ingest_dates``
    ``new`` (default): the days with uploads the job bookmark has not seen yet, from the paths Glue
    attaches to the bookmarked read (:mod:`.discovery`: uploads outside a valid ``ingest_date=``
    folder are logged for the job's alarm and left out; uploads read without a path fail the run
    before the bookmark is committed); or a comma-separated list of ``yyyy-mm-dd`` days to
    (re)process whatever the bookmark says.
``--freshness_hours``
    ``none``, or the age in hours the newest curated sale may have before the gate fails.

The days are cleaned together, then staged, checked and published (:func:`.transform.publish_days`):
the data-quality rules run on the days' clean lines as they are about to be written plus the
published rows of the freshness window, and only when every rule passes are the days' curated and
quarantine partitions replaced. A failed rule fails the run with nothing published and before the
bookmark is committed, so readers never see the failed day and the next run takes the same uploads
again (publishing is idempotent).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from awsgluedq.transforms import EvaluateDataQuality
from pyspark.context import SparkContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from workloads import lake_io
from workloads.glue import discovery, quality, transform
from workloads.schema import RAW_TRANSACTIONS, TEMPORARY_FILE_PATTERNS

ARGUMENTS = ["JOB_NAME", "raw_url", "curated_url", "dq_results_url", "ingest_dates", "freshness_hours"]


DISCOVERY_FORMAT = {"withHeader": False, "quoteChar": -1}
"""How the bookmarked read parses every upload, CSV and JSON alike: as unquoted CSV lines without a
header, so any non-empty file gives records (a malformed JSON line, a header-only CSV or a gzip
without ``.gz`` would give Glue only error records, and their days would be skipped for good). Only
the paths matter here; :mod:`.transform` reads the content itself. Empty files give no record and
hold no data."""


def new_upload_files(glue_context: GlueContext, raw_url: str) -> list[str | None]:
    """Paths of the uploads the job bookmark has not seen: a bookmarked read of each upload prefix,
    with each record's file path attached by Glue (``attachFilename``)."""
    files: list[str | None] = []
    for upload_format, table in RAW_TRANSACTIONS.items():
        uploads = glue_context.create_dynamic_frame.from_options(
            connection_type="s3",
            connection_options={
                "paths": [lake_io.table_location(raw_url, table)],
                "recurse": True,
                "exclusions": json.dumps(list(TEMPORARY_FILE_PATTERNS)),
                "attachFilename": discovery.UPLOAD_FILE,
            },
            format="csv",
            format_options=DISCOVERY_FORMAT,
            transformation_ctx=f"uploads_{upload_format}",
        )
        files += discovery.upload_files(uploads.toDF())
    return files


def failed_rules(glue_context: GlueContext, frame: DataFrame, rules: str, results_url: str) -> list[str]:
    """Evaluate ``rules`` (DQDL) with Glue Data Quality, publishing results; the rules that failed."""
    outcomes = EvaluateDataQuality.apply(
        frame=DynamicFrame.fromDF(frame, glue_context, quality.EVALUATION_CONTEXT),
        ruleset=rules,
        publishing_options={
            "dataQualityEvaluationContext": quality.EVALUATION_CONTEXT,
            "enableDataQualityCloudWatchMetrics": True,
            "enableDataQualityResultsPublishing": True,
            "resultsS3Prefix": results_url,
        },
    )
    rows = outcomes.toDF().collect()
    return [f"{row['Rule']}: {row['FailureReason']}" for row in rows if row["Outcome"] != "Passed"]


def main(argv: list[str]) -> None:
    """Run the job with Glue's ``argv``."""
    args = getResolvedOptions(argv, ARGUMENTS)
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    for key, value in lake_io.SESSION_CONF.items():
        spark.conf.set(key, value)
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    raw_url, curated_url = args["raw_url"], args["curated_url"]
    # Raises (so nothing is written and the bookmark is not committed) if uploads were read
    # without their paths; uploads outside a valid ingest_date= folder are logged for the alarm.
    found = discovery.plan(args["ingest_dates"], lambda: new_upload_files(glue_context, raw_url))
    for line in found.log_lines():
        print(line)
    days = found.days
    hours = None if args["freshness_hours"] == "none" else int(args["freshness_hours"])
    since = (datetime.now(UTC) - timedelta(hours=hours)).date() if hours is not None else None
    rules = quality.dqdl(quality.table_rules(freshness_hours=hours))

    def gate(staged: DataFrame) -> list[str]:
        """The rules on the staged days plus the published rows of the other days of the window."""
        published = transform.read_curated(spark, curated_url, [], since).where(
            ~F.col("sale_date").isin(*(day.isoformat() for day in days))
        )
        return failed_rules(glue_context, staged.unionByName(published), rules, args["dq_results_url"])

    if days:
        result = transform.clean_days(spark, raw_url, days)
        for day, counts in result.counts().items():
            print(f"ingest_date {day}: {counts}")
        transform.publish_days(result, curated_url, gate)  # raises when the gate fails
        result.release()
    elif hours is None:
        print("no new uploads; nothing to check")
    else:
        window = transform.read_curated(spark, curated_url, [], since)
        failures = failed_rules(glue_context, window, rules, args["dq_results_url"])
        if failures:
            raise RuntimeError("data quality gate failed: " + "; ".join(failures))
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
