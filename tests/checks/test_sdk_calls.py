"""Every AWS SDK call the platform makes, against botocore's service models (see ``sdk_calls``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.checks import sdk_calls
from tests.checks.sdk_calls import Call, code_findings, template_calls, template_findings
from tests.conftest import ROOT, Synthesized

ALLOWED = {
    "ops/platform.py: aws(self._session.client, service, region_name=region)": (
        "Deployed.client is the one client factory of dsp; its callers name the service literally, "
        "and those calls are checked"
    ),
}
"""Client calls the static pass cannot resolve to a service, each with why that is fine."""


def _templates(env: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        path.name.removesuffix(".template.json"): env.raw(path.name.removesuffix(".template.json"))
        for path in sorted(env.outdir.glob("*.template.json"))
    }


def test_every_state_machine_task_and_custom_resource_call_matches_its_service_model(
    env: Synthesized,
) -> None:
    findings = template_findings(env.settings.environment, _templates(env))
    assert findings == []


def test_the_serverless_feature_run_matches_the_emr_serverless_model(env: Synthesized) -> None:
    calls = [call for call in template_calls("", "Emr", env.raw("Emr")) if isinstance(call, Call)]
    assert {(call.service, call.operation) for call in calls} == {("emr-serverless", "StartJobRun")}
    assert template_findings(env.settings.environment, {"Emr": env.raw("Emr")}) == []
    broken = copy.deepcopy(env.raw("Emr"))
    _edit_definition(broken, lambda part: part.replace('"ExecutionTimeoutMinutes":', '"TimeoutMinutes":'))
    (finding,) = template_findings("dev", {"Emr": broken})
    assert "state RunFeatureJob: emr-serverless.StartJobRun:" in finding and '"TimeoutMinutes"' in finding


def test_the_walk_reaches_sdk_and_optimized_integrations_in_both_query_languages(
    env: Synthesized, transient: Synthesized
) -> None:
    templates = {**_templates(env), "Emr": transient.raw("Emr")}  # the transient engine's tasks
    calls = [call for stack, template in templates.items() for call in template_calls("", stack, template)]
    checked = {(call.service, call.operation) for call in calls if isinstance(call, Call)}
    assert {
        ("glue", "StartCrawler"),  # aws-sdk, JSONata
        ("glue", "StartJobRun"),  # optimized .sync
        ("stepfunctions", "StartExecution"),  # optimized .sync:2, Input as an object
        ("sagemaker", "CreateTrainingJob"),
        ("emr", "RunJobFlow"),  # optimized, JSONPath
        ("emr", "TerminateJobFlows"),  # JSONPath with a .$ member
        ("emr", "AddJobFlowSteps"),
        ("quicksight", "CreateIngestion"),
        # the Forecast step: the approved package, the day's features, the job, the accuracy query
        ("sagemaker", "ListModelPackages"),
        ("sagemaker", "DescribeModelPackage"),
        ("s3", "ListObjectsV2"),
        ("sagemaker", "CreateProcessingJob"),  # optimized .sync
        ("athena", "StartQueryExecution"),  # optimized .sync
        ("athena", "GetQueryResults"),
        ("cloudwatch", "PutMetricData"),
    } <= checked
    assert not [call for call in calls if isinstance(call, str)]


def test_every_boto3_call_in_our_code_matches_its_service_model() -> None:
    files = sorted([*(ROOT / "workloads").rglob("*.py"), *(ROOT / "ops").rglob("*.py")])
    assert code_findings(ROOT, files, ALLOWED) == []


# --- broken on purpose: each mistake fails with the place and the parameter named ------------------


def _pipeline(dev: Synthesized) -> dict[str, Any]:
    return copy.deepcopy(dev.raw("Pipeline"))


def _edit_definition(template: dict[str, Any], edit: Any) -> None:
    """Apply ``edit`` to the literal JSON fragments of every state machine's definition string."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            join = resource["Properties"]["DefinitionString"]["Fn::Join"]
            join[1] = [edit(part) if isinstance(part, str) else part for part in join[1]]


@pytest.mark.parametrize(
    ("before", "after", "state", "named"),
    [
        ('"JobName":', '"JobNme":', "Clean", 'Unknown parameter in input: "JobNme"'),  # JSONata, optimized
        ("aws-sdk:glue:startCrawler", "aws-sdk:glue:startCrawlr", "Crawl", "no operation 'startCrawlr'"),
        (
            '"DataSetId":"dsp-dev-transactions",',
            '"DataSetld":"x",',
            "RefreshDspDevTransactions",
            '"DataSetld"',
        ),
        ('"Timeout":60', '"Timeout":"sixty"', "Clean", "Invalid type for parameter Timeout"),
    ],
)
def test_a_wrong_call_in_a_state_names_the_state_and_the_parameter(
    dev: Synthesized, before: str, after: str, state: str, named: str
) -> None:
    template = _pipeline(dev)
    _edit_definition(template, lambda part: part.replace(before, after))
    findings = template_findings("dev", {"Pipeline": template})
    assert any(
        f"dev Pipeline PipelineStateMachine1814BD05 state {state}: " in f and named in f for f in findings
    ), findings


def test_a_wrong_processing_job_argument_names_the_forecast_state(dev: Synthesized) -> None:
    template = copy.deepcopy(dev.raw("SageMaker"))
    _edit_definition(
        template, lambda part: part.replace('"S3UploadMode":"EndOfJob"', '"S3UploadMode":"Later"')
    )
    findings = template_findings("dev", {"SageMaker": template})
    assert any("state Score: sagemaker.CreateProcessingJob:" in f and "'Later'" in f for f in findings), (
        findings
    )


def test_a_wrong_enum_value_names_the_state_and_the_member(dev: Synthesized) -> None:
    template = copy.deepcopy(dev.raw("SageMaker"))
    _edit_definition(template, lambda part: part.replace('"SortOrder":"Descending"', '"SortOrder":"Down"'))
    findings = template_findings("dev", {"SageMaker": template})
    assert any(
        "DeploymentStateMachineD161A8DF state NewestApproved: sagemaker.ListModelPackages: SortOrder: 'Down'"
        in f
        for f in findings
    ), findings


def test_a_wrong_jsonpath_member_names_the_state(transient: Synthesized) -> None:
    template = copy.deepcopy(transient.raw("Emr"))
    _edit_definition(template, lambda part: part.replace('"ClusterId.$":', '"ClusterIdd.$":'))
    findings = template_findings("dev", {"Emr": template})
    assert any("state TerminateCluster: " in f and '"ClusterIdd"' in f for f in findings), findings


def _custom_resource(
    parameters: str, service: str = "QuickSight", action: str = "createGroup"
) -> dict[str, Any]:
    """A template holding one ``AwsCustomResource`` as CDK renders it (a JSON string with tokens)."""
    create = {
        "Fn::Join": [
            "",
            [
                f'{{"action":"{action}","service":"{service}","parameters":{{"AwsAccountId":"',
                {"Ref": "AWS::AccountId"},
                f'",{parameters}}},"physicalResourceId":{{"id":"g"}},"region":"us-east-1"}}',
            ],
        ]
    }
    return {
        "Resources": {"Group": {"Type": "Custom::AWS", "Properties": {"ServiceToken": "x", "Create": create}}}
    }


def test_a_custom_resource_call_is_checked_whatever_the_sdk_spelling() -> None:
    good = '"Namespace":"default","GroupName":"dsp-dev-authors"'
    for service, action in [("QuickSight", "createGroup"), ("@aws-sdk/client-quicksight", "CreateGroup")]:
        assert template_findings("dev", {"QuickSight": _custom_resource(good, service, action)}) == []
    findings = template_findings("dev", {"QuickSight": _custom_resource('"Namespace":"default","Group":"x"')})
    assert (
        'dev QuickSight Group Create: quicksight.CreateGroup: Unknown parameter in input: "Group"'
        in findings[1]
    )
    assert 'Missing required parameter in input: "GroupName"' in findings[0]


def test_a_wrong_boto3_call_names_the_file_line_and_parameter(tmp_path: Path) -> None:
    source = tmp_path / "handler.py"
    source.write_text(
        "import boto3\n"
        "\n"
        "def handler(event, context):\n"
        "    client = boto3.client('sagemaker')\n"
        "    client.describe_endpoint(EndpontName='x')\n"
        "    client.list_endpoints(SortOrder='Down')\n"
        "    client.get_paginator('list_endpoint')\n"
        "    boto3.client(event['service']).list_things()\n"
    )
    findings = code_findings(tmp_path, [source], {})
    assert any(
        f.startswith("handler.py:5: sagemaker.DescribeEndpoint") and '"EndpontName"' in f for f in findings
    )
    assert any(
        f.startswith("handler.py:5: ") and 'Missing required parameter in input: "EndpointName"' in f
        for f in findings
    )
    assert any(f.startswith("handler.py:6: ") and "SortOrder: 'Down' is not one of" in f for f in findings)
    assert any(f.startswith("handler.py:7: ") and "no such paginator" in f for f in findings)
    assert any(f.startswith("handler.py:8: cannot tell which service") for f in findings)


def test_clients_handed_over_by_name_keyword_or_factory_are_followed(tmp_path: Path) -> None:
    source = tmp_path / "sampler.py"
    source.write_text(
        "import boto3\n"
        "\n"
        "def sample(video, media_client, retry):\n"
        "    endpoint = retry(video.get_data_endpoint, StreamName='s', APIName='GET_IMAGE')\n"
        "    media = media_client(endpoint)\n"
        "    media.get_images(StreamName='s')\n"
        "\n"
        "def handler(event, context):\n"
        "    sample(video=boto3.client('kinesisvideo'), retry=None,\n"
        "           media_client=lambda u: boto3.client('kinesis-video-archived-media', endpoint_url=u))\n"
    )
    findings = code_findings(tmp_path, [source], {})
    assert any(
        f.startswith("sampler.py:4: kinesisvideo.GetDataEndpoint: APIName: 'GET_IMAGE'") for f in findings
    )
    assert any(
        f.startswith("sampler.py:6: kinesis-video-archived-media.GetImages") and "ImageSelectorType" in f
        for f in findings
    )


def test_an_unused_allow_list_entry_fails(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert code_findings(tmp_path, [tmp_path / "empty.py"], {"empty.py: nothing": "why"}) == [
        "allow-list entry 'empty.py: nothing' matches nothing: remove it"
    ]


def test_a_sample_satisfies_its_own_shape() -> None:
    shape = sdk_calls.model("emr").operation_model("RunJobFlow").input_shape
    assert sdk_calls.check(Call("probe", "emr", "RunJobFlow", sdk_calls.sample(shape))) == []
    assert json.dumps(sdk_calls.sample(shape)["Instances"], default=str)
