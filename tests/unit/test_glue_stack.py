"""GlueStack: encryption, the job's arguments and code, the trigger chain, least privilege, alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from platform_constructs.glue.etl_job import METRICS_NAMESPACE, SCRIPT
from platform_constructs.lake_access import READ_ACTIONS, WRITE_ACTIONS
from platform_constructs.python_modules import workload_modules
from tests.conftest import ROOT, Synthesized
from tests.unit.policies import as_list, lake_buckets, lake_grants, role_statements
from tests.unit.references import operations_key, referenced
from tests.unit.test_data_lake_stack import KEY
from workloads.glue import discovery, quality
from workloads.schema import CURATED_TRANSACTIONS, RAW_STORES, RAW_TRANSACTIONS

STACK = "Glue"
CONFIGURATION = "EncryptionConfiguration10700093"
CRAWLER, CRAWLER_ROLE = "RawCrawlerCE3839D1", "RawCrawlerRoleE5BD0B04"
JOB, JOB_ROLE = "CleaningJobA848848D", "CleaningJobRole5789E91F"
LOG_GROUPS = {"output": "CleaningJobOutputLogsCB82A3D0", "error": "CleaningJobErrorLogs0D8B9087"}
RULESET = "CleaningJobRuleset23228ACD"
WORKFLOW = "IngestWorkflow86E68368"
ALARM_TOPIC = "AlarmsTopic3A2DFEBA"
STATEFUL = [CONFIGURATION, *LOG_GROUPS.values(), RULESET]


def _asset(env: Synthesized, location: Any) -> Path:
    """The asset in the assembly behind an ``s3://cdk-assets.../<hash>.<ext>`` location."""
    key = location["Fn::Join"][1][-1].lstrip("/")
    digest, extension = key.split(".", 1)
    return env.outdir / (f"asset.{digest}" if extension == "zip" else f"asset.{key}")


def test_stateful_logical_ids_are_pinned(env: Synthesized) -> None:
    assert set(STATEFUL) <= set(env.raw(STACK)["Resources"])


def test_security_configuration_encrypts_s3_with_the_lake_key_and_logs_and_bookmarks_with_operations_key(
    env: Synthesized,
) -> None:
    encryption = env.properties(STACK, CONFIGURATION)["EncryptionConfiguration"]
    ((s3,),) = [encryption["S3Encryptions"]]
    assert s3["S3EncryptionMode"] == "SSE-KMS" and KEY in json.dumps(s3["KmsKeyArn"])
    logs, bookmarks = encryption["CloudWatchEncryption"], encryption["JobBookmarksEncryption"]
    assert logs["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert bookmarks["JobBookmarksEncryptionMode"] == "CSE-KMS"
    for key in (logs["KmsKeyArn"], bookmarks["KmsKeyArn"]):
        assert referenced(env, STACK, key) == operations_key(env)
    env.template(STACK).resource_count_is("AWS::KMS::Key", 0)
    assert env.properties(STACK, CONFIGURATION)["Name"] == f"{env.settings.name_prefix}-glue"


def test_every_crawler_and_job_runs_under_the_security_configuration(env: Synthesized) -> None:
    crawlers = env.resources(STACK, "AWS::Glue::Crawler")
    jobs = env.resources(STACK, "AWS::Glue::Job")
    assert set(crawlers) == {CRAWLER} and set(jobs) == {JOB}
    assert crawlers[CRAWLER]["Properties"]["CrawlerSecurityConfiguration"] == {"Ref": CONFIGURATION}
    assert jobs[JOB]["Properties"]["SecurityConfiguration"] == {"Ref": CONFIGURATION}


def test_crawler_crawls_raw_upload_prefixes_new_folders_only_and_never_deletes(env: Synthesized) -> None:
    crawler = env.properties(STACK, CRAWLER)
    targets = crawler["Targets"]["S3Targets"]
    assert [target["Path"]["Fn::Join"][1][-1] for target in targets] == [
        f"/{table.prefix}" for table in (*RAW_TRANSACTIONS.values(), RAW_STORES)
    ]
    assert all(lake_buckets(target["Path"]) == {"raw"} for target in targets)
    assert crawler["DatabaseName"] == env.platform.data_lake.catalog.database_names["raw"]
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert crawler["SchemaChangePolicy"] == {"DeleteBehavior": "LOG", "UpdateBehavior": "LOG"}
    assert "Schedule" not in crawler  # the workflow starts it


def test_job_arguments_bookmarks_logging_spark_ui_and_zones(env: Synthesized) -> None:
    arguments = env.properties(STACK, JOB)["DefaultArguments"]
    assert arguments["--job-bookmark-option"] == "job-bookmark-enable"
    assert arguments["--enable-metrics"] == "" and arguments["--enable-observability-metrics"] == "true"
    assert arguments["--custom-logGroup-prefix"]["Fn::Join"][1][-1] == "-etl"
    assert arguments["--enable-spark-ui"] == "true"
    spark_ui = arguments["--spark-event-logs-path"]
    assert lake_buckets(spark_ui) == {"artifacts"} and spark_ui["Fn::Join"][1][-1] == "/glue/spark-ui/"
    assert lake_buckets(arguments["--raw_url"]) == {"raw"}
    assert lake_buckets(arguments["--curated_url"]) == {"curated"}
    assert arguments["--dq_results_url"]["Fn::Join"][1][-1] == "/data-quality/"
    assert arguments["--ingest_dates"] == "new"
    hours = env.settings.glue.freshness_hours
    assert arguments["--freshness_hours"] == ("none" if hours is None else str(hours))


def test_job_log_groups_take_the_prefix_the_logs_key_and_configured_retention(env: Synthesized) -> None:
    prefix = env.properties(STACK, JOB)["DefaultArguments"]["--custom-logGroup-prefix"]
    for stream, logical_id in LOG_GROUPS.items():
        group = env.properties(STACK, logical_id)
        name = group["LogGroupName"]["Fn::Join"][1]
        assert name[:-1] == prefix["Fn::Join"][1][:-1] and name[-1] == f"-etl/{stream}"
        assert referenced(env, STACK, group["KmsKeyId"]) == operations_key(env)
        assert group["RetentionInDays"] == env.settings.glue.log_retention_days


def test_script_and_modules_come_from_assets_holding_this_repository_code(env: Synthesized) -> None:
    job = env.properties(STACK, JOB)
    assert job["Command"] == {**job["Command"], "Name": "glueetl", "PythonVersion": "3"}
    assert _asset(env, job["Command"]["ScriptLocation"]).read_bytes() == (ROOT / SCRIPT).read_bytes()
    modules = _asset(env, job["DefaultArguments"]["--extra-py-files"])
    shipped = sorted(str(path.relative_to(modules)) for path in modules.rglob("*.py"))
    assert shipped == list(workload_modules(SCRIPT))
    assert {"workloads/__init__.py", "workloads/glue/transform.py", "workloads/lake_io.py"} <= set(shipped)
    assert "workloads/emr/features.py" not in shipped  # only what the script imports
    for module in shipped:
        assert (modules / module).read_bytes() == (ROOT / module).read_bytes()


def test_job_glue_version_and_worker_settings_per_environment(env: Synthesized) -> None:
    config, job = env.settings.glue, env.properties(STACK, JOB)
    assert job["GlueVersion"] == "5.1"
    assert job["WorkerType"] == config.worker_type
    assert job["NumberOfWorkers"] == config.max_workers
    assert job["DefaultArguments"]["--enable-auto-scaling"] == "true"
    assert job["Timeout"] == config.timeout_minutes and job["MaxRetries"] == config.max_retries
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}


def test_data_quality_ruleset_is_the_jobs_rules_on_the_curated_table(env: Synthesized) -> None:
    ruleset = env.properties(STACK, RULESET)
    hours = env.settings.glue.freshness_hours
    assert ruleset["Ruleset"] == quality.dqdl(
        quality.table_rules(CURATED_TRANSACTIONS, freshness_hours=hours)
    )
    assert ("DataFreshness" in ruleset["Ruleset"]) == (hours is not None)
    assert ruleset["TargetTable"] == {
        "DatabaseName": env.platform.data_lake.catalog.database_names["curated"],
        "TableName": CURATED_TRANSACTIONS.name,
    }


def test_trigger_chain_start_then_crawler_then_job_after_a_successful_crawl(env: Synthesized) -> None:
    triggers = {t["Properties"]["Type"]: t for t in env.resources(STACK, "AWS::Glue::Trigger").values()}
    schedule = env.settings.glue.schedule
    start = triggers["ON_DEMAND" if schedule is None else "SCHEDULED"]["Properties"]
    assert start.get("Schedule") == schedule
    assert start["Actions"] == [{"CrawlerName": {"Ref": CRAWLER}}]
    after_crawl = triggers["CONDITIONAL"]["Properties"]
    assert after_crawl["Predicate"]["Conditions"] == [
        {"CrawlState": "SUCCEEDED", "CrawlerName": {"Ref": CRAWLER}, "LogicalOperator": "EQUALS"}
    ]
    assert after_crawl["Actions"] == [{"JobName": {"Ref": JOB}}] and after_crawl["StartOnCreation"] is True
    assert len(triggers) == 2
    assert all(t["Properties"]["WorkflowName"] == {"Ref": WORKFLOW} for t in triggers.values())


def test_roles_only_glue_of_this_account_assumes_no_wildcard_action_no_managed_policy(
    env: Synthesized,
) -> None:
    for logical_id in (CRAWLER_ROLE, JOB_ROLE):
        role = env.properties(STACK, logical_id)
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "glue.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        assert "ManagedPolicyArns" not in role
        actions = [action for s in role_statements(env, STACK, logical_id) for action in as_list(s["Action"])]
        assert not [action for action in actions if "*" in action], logical_id


def test_crawler_role_reads_only_raw_with_the_lake_key_and_writes_only_raw_tables(env: Synthesized) -> None:
    s3_actions = {a for a in READ_ACTIONS if a.startswith("s3:")}
    crawled = {"", "/transactions_csv/*", "/transactions_json/*", "/stores/*"}
    assert lake_grants(env, STACK, CRAWLER_ROLE) == {"raw": (s3_actions, crawled)}
    statements = role_statements(env, STACK, CRAWLER_ROLE)
    (lake_key,) = [s for s in statements if KEY in json.dumps(s["Resource"])]
    assert lake_key["Action"] == "kms:Decrypt"
    (catalog,) = [s for s in statements if any(a.startswith("glue:") for a in as_list(s["Action"]))]
    raw = env.platform.data_lake.catalog.database_names["raw"]
    assert [r["Fn::Join"][1][-1] for r in catalog["Resource"]] == [
        ":catalog",
        f":database/{raw}",
        f":table/{raw}/*",
    ]
    assert not [a for a in catalog["Action"] if "Delete" in a]


def test_job_role_reads_raw_writes_curated_and_only_its_artifact_prefixes(env: Synthesized) -> None:
    read = {a for a in READ_ACTIONS if a.startswith("s3:")}
    write = {a for a in WRITE_ACTIONS if a.startswith("s3:")}
    assert lake_grants(env, STACK, JOB_ROLE) == {
        "raw": (read, {"", "/transactions_csv/*", "/transactions_json/*", "/stores/*"}),
        "curated": (write, {"", "/*"}),
        "artifacts": (write, {"", "/data-quality/*", "/glue/spark-ui/*"}),
    }
    statements = role_statements(env, STACK, JOB_ROLE)
    (lake_key,) = [s for s in statements if KEY in json.dumps(s["Resource"])]
    assert sorted(lake_key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assets = [s for s in statements if "cdk-" in json.dumps(s["Resource"])]
    assert [s["Action"] for s in assets] == ["s3:GetObject"]
    assert all(r["Fn::Join"][1][-1].endswith((".py", ".zip")) for r in as_list(assets[0]["Resource"]))
    (metrics,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["Glue", "Glue Data Quality"]}}
    curated = env.platform.data_lake.catalog.database_names["curated"]
    (catalog,) = [s for s in statements if "glue:GetTable" in as_list(s["Action"])]
    assert sorted(catalog["Action"]) == ["glue:GetDatabase", "glue:GetTable"]
    assert catalog["Resource"][-1]["Fn::Join"][1][-1] == f":table/{curated}/*"


@pytest.mark.parametrize(
    ("rule", "source", "detail_type", "match"),
    [
        ("AlertsJobFailed", "aws.glue", "Glue Job State Change", {"jobName": [{"Ref": JOB}]}),
        ("AlertsCrawlerFailed", "aws.glue", "Glue Crawler State Change", {"crawlerName": [{"Ref": CRAWLER}]}),
        (
            "AlertsDataQualityFailed",
            "aws.glue-dataquality",
            "Data Quality Evaluation Results Available",
            {"context": {"jobName": [{"Ref": JOB}], "evaluationContext": [quality.EVALUATION_CONTEXT]}},
        ),
    ],
)
def test_failures_reach_the_platform_alarm_topic_as_readable_messages(
    env: Synthesized, rule: str, source: str, detail_type: str, match: dict[str, Any]
) -> None:
    (props,) = [
        r["Properties"] for i, r in env.resources(STACK, "AWS::Events::Rule").items() if i.startswith(rule)
    ]
    pattern = props["EventPattern"]
    assert pattern["source"] == [source] and pattern["detail-type"] == [detail_type]
    assert match.items() <= pattern["detail"].items()
    assert pattern["detail"]["state"]  # failures only
    (target,) = props["Targets"]
    assert ALARM_TOPIC in json.dumps(target["Arn"])
    assert target["InputTransformer"]["InputTemplate"].startswith('"Glue ')


def test_uploads_without_an_ingest_day_alarm_from_the_lines_the_script_logs(env: Synthesized) -> None:
    """The script prints one STRAY_UPLOAD line per upload it leaves out; Glue 5 sends stdout to the
    ``output`` group, whose metric filter counts them for an alarm on the platform topic."""
    (metric_filter,) = env.resources(STACK, "AWS::Logs::MetricFilter").values()
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == {"Ref": LOG_GROUPS["output"]}
    assert props["FilterPattern"] == f'"{discovery.STRAY_UPLOAD}"'
    (transformation,) = props["MetricTransformations"]
    assert transformation["MetricNamespace"] == METRICS_NAMESPACE and transformation["MetricValue"] == "1"
    assert transformation["MetricName"]["Fn::Join"][1][-1] == "-stray-uploads"
    (alarm,) = [
        r["Properties"]
        for r in env.resources(STACK, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == transformation["MetricName"]
    ]
    assert alarm["Namespace"] == METRICS_NAMESPACE and alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    (action,) = alarm["AlarmActions"]
    assert ALARM_TOPIC in json.dumps(action)
    assert "ingest_date=YYYY-MM-DD" in json.dumps(alarm["AlarmDescription"])


def test_alerts_leave_the_topic_policy_to_the_alarms_stack(env: Synthesized) -> None:
    """EventBridge targets would add an unconditioned publish grant; the topic's own one suffices."""
    (policy,) = env.resources("Alarms", "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert sorted(s["Sid"] for s in allows) == ["AllowBudgets", "AllowCloudwatch", "AllowEvents"]


def test_disabled_glue_leaves_the_stack_out() -> None:
    from config.settings import load_settings

    settings = load_settings("dev")
    settings = settings.model_copy(update={"glue": settings.glue.model_copy(update={"enabled": False})})
    app, platform = create_app(settings)
    assert platform.glue is None
    assert "Glue" not in [child.node.id for child in app.node.children]
