"""cdk-nag runs on every synth: findings fail it, acknowledgements are narrow and explained."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from app import add_checks, feature_flags
from scripts.synth_summary import nag_acknowledgements, stacks
from tests.conftest import Synthesized


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), context=feature_flags())
    add_checks(app)
    s3.Bucket(Stack(app, "Probe"), "PlainBucket")
    with pytest.raises(RuntimeError, match=r"^ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S10" in report  # the AWS Solutions pack ran
    assert "NIST.800.53.R5-S3BucketSSLRequestsOnly" in report  # and so did NIST 800-53 rev 5


def _acknowledgements(env: Synthesized) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of every cdk-nag acknowledgement in the assembly."""
    return [
        found for _, artifact in stacks(env.outdir) for found in nag_acknowledgements(env.outdir, artifact)
    ]


def test_acknowledgements_sit_on_the_construct_that_causes_them_with_a_reason(env: Synthesized) -> None:
    acknowledgements = _acknowledgements(env)
    assert acknowledgements
    stack_paths = {f"/{stack_id}" for stack_id, _ in stacks(env.outdir)}
    for path, rule, reason in acknowledgements:
        assert path not in stack_paths and path != "/", f"{rule} acknowledged on a whole stack or app: {path}"
        assert len(reason) >= 40, f"{rule} on {path} needs a reason that says why"


def test_only_the_known_acknowledgements_exist(env: Synthesized) -> None:
    """A new acknowledgement must be a deliberate change to this list, reviewed with its reason.

    Wildcard findings (IAM5) are one per wildcard; they are counted per policy here, and the
    stack tests pin the statements behind them.
    """
    found: Counter[tuple[str, str]] = Counter()
    for path, rule, _ in _acknowledgements(env):
        owner = path.removesuffix("/Resource").removesuffix("/DefaultPolicy").split("/")[-2:]
        found["/".join(owner) if "Role" in owner else owner[-1], rule.split("::")[1].split("[")[0]] += 1
    replication = "NIST.800.53.R5-S3BucketReplicationEnabled"
    expected = Counter(
        [(bucket, replication) for bucket in ("AccessLogs", "Raw", "Curated", "Analytics", "Artifacts")]
        + [("AccessLogs", "NIST.800.53.R5-S3DefaultEncryptionKMS")]
    )
    captures = env.settings.sagemaker.enabled and env.settings.sagemaker.endpoint.instances is not None
    personal = {"Frames": env.settings.video.enabled, "Captures": captures}
    expected.update({(store, replication): 1 for store, present in personal.items() if present})
    if env.settings.glue.enabled:
        inline = "NIST.800.53.R5-IAMNoInlinePolicy"
        # one wildcard per raw prefix read (the two upload formats and the store list), not all of raw
        expected.update({("RawCrawler/Role", inline): 1, ("RawCrawler/Role", "AwsSolutions-IAM5"): 6})
        expected.update({("CleaningJob/Role", inline): 1, ("CleaningJob/Role", "AwsSolutions-IAM5"): 11})
    if env.settings.emr.enabled:
        wildcards, inline = "AwsSolutions-IAM5", "NIST.800.53.R5-IAMNoInlinePolicy"
        if env.settings.emr.feature_runs_on == "serverless":
            # the job role: four zone patterns, the tables of each database and default, its log
            # streams, DescribeLogGroups; the submitting machine: this application's runs, X-Ray/logs
            tables = len(env.platform.data_lake.catalog.database_names) + 1
            expected.update({("StateMachine/Role", wildcards): 2, ("StateMachine/Role", inline): 1})
            expected.update({("JobRole", wildcards): 4 + tables + 2, ("JobRole", inline): 1})
        else:  # the transient clusters' tasks
            expected.update({("StateMachine/Role", wildcards): 3, ("StateMachine/Role", inline): 1})
    if env.settings.emr.enabled and env.settings.emr.runs_clusters:  # what clusters run on
        expected.update({("InstanceRole", wildcards): 10, ("InstanceRole", inline): 1})
        expected.update({("ServiceRole", "AwsSolutions-IAM4"): 1, ("ServiceRole", inline): 1})
        # the security-group clean-up: DescribeSecurityGroups (no resource-level), its log
        # streams, and revokes on the EMR-tagged groups (by tag, so a replaced clean-up resource
        # still cleans the old groups); a function CloudFormation alone invokes, outside the VPC
        # to reach EC2's API
        expected.update(
            {("SecurityGroupCleanup/Role", wildcards): 3, ("SecurityGroupCleanup/Role", inline): 1}
        )
        for rule in ("LambdaDLQ", "LambdaConcurrency", "LambdaInsideVPC"):
            expected[("Function", f"NIST.800.53.R5-{rule}")] += 1
        if env.settings.emr.certificates_zip is None:
            expected.update({("TlsCertificates/Role", wildcards): 3, ("TlsCertificates/Role", inline): 1})
            expected.update({("Function", "NIST.800.53.R5-LambdaDLQ"): 1})
            expected.update({("Function", "NIST.800.53.R5-LambdaConcurrency"): 1})
        if env.settings.emr.cluster.enabled:  # authentication by design; encryption misread by cdk-nag
            for rule in ("AwsSolutions-EMR4", "AwsSolutions-EMR5", "AwsSolutions-EMR6"):
                expected[("Cluster", rule)] = 1
            expected[("Cluster", "NIST.800.53.R5-EMRKerberosEnabled")] = 1
    sagemaker = env.settings.sagemaker
    if sagemaker.enabled:
        wildcards, inline = "AwsSolutions-IAM5", "NIST.800.53.R5-IAMNoInlinePolicy"
        automatic, serverless = sagemaker.approval == "automatic", sagemaker.endpoint.serverless is not None
        # training (+ the deploy machine's executions it starts when automatic) and deployment
        expected.update({("StateMachine/Role", wildcards): 7 + automatic, ("StateMachine/Role", inline): 2})
        expected.update({("JobRole", wildcards): 4, ("JobRole", inline): 1})
        expected.update({("ModelRole", wildcards): 3 + (not serverless), ("ModelRole", inline): 1})
        expected.update({("BootstrapRole", wildcards): 2, ("BootstrapRole", inline): 1})
        # the Forecast step: its processing jobs' role (features, models, forecasts, logs, list
        # actions) and its state machine's (jobs, packages, the tables and results its query
        # reads, list actions)
        expected.update({("JobRole", wildcards): 5, ("JobRole", inline): 1})
        expected.update({("StateMachineRole", wildcards): 7, ("StateMachineRole", inline): 1})
        # the provider frameworks of the endpoint and, with Studio, of the domain's clean-up: their
        # handlers, their own functions, roles and waiters
        studio = sagemaker.studio.enabled
        for function in (
            "OnEvent",
            "IsComplete",
            "framework-onEvent",
            "framework-isComplete",
            "framework-onTimeout",
        ):
            for rule in ("LambdaDLQ", "LambdaConcurrency", "LambdaInsideVPC"):
                expected[(function, f"NIST.800.53.R5-{rule}")] = 1 + studio
        for role, invoked in (("OnEventRole", 2), ("WaitRole", 2), ("waiter-state-machine/Role", 3)):
            expected.update({(role, wildcards): invoked * (1 + studio), (role, inline): 1 + studio})
        expected[("waiter-state-machine", "AwsSolutions-SF2")] = 1 + studio
        if studio:
            # the execution roles: the lake zones, sandbox, query results and catalog tables, the
            # notebooks, training runs, registry packages, the domain's apps, spaces and profiles,
            # list actions; the clean-up: list actions, this domain's apps (and, destroying, its
            # spaces and profiles), its log streams
            for role, wildcards_held in (("DataScientistRole", 19), ("LeadRole", 20)):
                expected.update({(role, wildcards): wildcards_held, (role, inline): 1})
            destroying = env.settings.destroy_on_delete
            expected.update({("CleanupRole", wildcards): 3 + 2 * destroying, ("CleanupRole", inline): 1})
        if not automatic:  # the rule's own role, and its target's dead-letter queue
            expected[("OnApprovalRole", inline)] = 1
            expected[("OnApprovalDeadLetters", "AwsSolutions-SQS3")] = 1
        if serverless:  # serverless inference rejects VPC configs and network isolation
            for rule in (
                "AwsSolutions-SM1",
                "AwsSolutions-SM3",
                "NIST.800.53.R5-SageMakerModelInVPC",
                "NIST.800.53.R5-SageMakerModelNetworkIsolationEnabled",
            ):
                expected[("BaselineModel", rule)] = 1
    if env.settings.video.enabled:
        inline = "NIST.800.53.R5-IAMNoInlinePolicy"
        expected.update({("ProducerRole", "AwsSolutions-IAM5"): 1, ("ProducerRole", inline): 1})
        if env.settings.video.viewer.principals:  # no named viewer, no viewer role
            expected.update({("ConsumerRole", inline): 1})
        expected.update({("Sampler/Role", "AwsSolutions-IAM5"): 3, ("Sampler/Role", inline): 1})
        expected[("Function", "NIST.800.53.R5-LambdaInsideVPC")] += 1
        if env.settings.video.sampler.reserved_concurrency is None:  # a new account has none to reserve
            expected[("Function", "NIST.800.53.R5-LambdaConcurrency")] += 1
    if env.settings.quicksight.enabled:  # the data source role: table prefixes, results, tables, list actions
        inline = "NIST.800.53.R5-IAMNoInlinePolicy"
        read = 6 + env.settings.forecasts  # the forecasts' views read store_forecasts too
        expected.update({("Athena/Role", "AwsSolutions-IAM5"): read, ("Athena/Role", inline): 1})
        # the groups' SDK-call function (CDK's shared one): its log streams, called by CloudFormation only
        expected.update({("Groups/Role", "AwsSolutions-IAM5"): 1, ("Groups/Role", inline): 1})
        for rule in ("LambdaDLQ", "LambdaConcurrency", "LambdaInsideVPC"):
            expected[("AWS679f53fac002430cb0da5b7982bd2287", f"NIST.800.53.R5-{rule}")] = 1
    if env.settings.pipeline.enabled:  # its steps' ingestions and nested executions, X-Ray and logs
        inline = "NIST.800.53.R5-IAMNoInlinePolicy"
        # with forecasts: the two forecast datasets' ingestions and the Forecast step's executions
        steps = 5 + 3 * env.settings.forecasts
        expected.update({("StateMachine/Role", "AwsSolutions-IAM5"): steps, ("StateMachine/Role", inline): 1})
        if env.settings.pipeline.schedule is not None:  # the schedule's own role and dead-letter queue
            expected[("ScheduleRole", inline)] = 1
            expected[("ScheduleDeadLetters", "AwsSolutions-SQS3")] = 1
    assert found == expected
