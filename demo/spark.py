"""The local Spark session every local run of the workloads uses: the demo, the baseline model, the tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workloads.lake_io import SESSION_CONF

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
"""For a short-lived JVM on tiny data (the tests): the quick JIT tier and the serial collector start
work sooner; neither changes what Spark computes."""


def local_session(app_name: str, *, java_options: str = "") -> SparkSession:
    """A ``local[2]`` session configured as the Glue and EMR jobs configure their own, without the UI,
    with one shuffle partition per core (tiny data: more only adds tasks) and only errors logged;
    ``java_options`` go to the driver JVM."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.level=error {java_options}".strip(),
        **SESSION_CONF,
    }.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
