"""``dsp`` end to end against moto's server: a dev environment whose stacks carry the outputs the
synthesized templates declare; botocore's Stubber where moto has no API (QuickSight ingestions,
a model's 4xx answer)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber

from config.settings import load_settings
from ops import cli, commands
from ops.platform import Deployed
from stacks import outputs
from tests.conftest import MOTO_REGION, Synthesized
from workloads.sagemaker.contract import days_needed

CAMERA = "store-001-entrance"
STREAM = f"dsp-dev-{CAMERA}"
DOMAIN = "d-abcdef123456"
FRAMES = [
    "date=2026-03-05/hour=23/1772751600000.jpg",
    "date=2026-03-06/hour=09/1772787600000.jpg",
    "date=2026-03-06/hour=10/1772791200000.jpg",
]
FORECASTS = [
    "forecast_date=2026-03-16/model-1.parquet",
    "forecast_date=2026-03-17/model-1.parquet",
    "forecast_date=2026-03-17/model-2.parquet",
    "forecast_date=2026-03-18/_SUCCESS",  # a folder without a forecast file yet
]
SKIPPED = "skipped: not enough history (9 sale days, need 15); job dsp-dev-forecast-1"
PIPELINE = {
    "StartAt": "Crawl",
    "States": {
        "Crawl": {"Type": "Pass", "Next": "DataQuality"},
        "DataQuality": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.date", "StringEquals": "2026-03-07", "Next": "RunFailed"},
                {"Variable": "$.date", "StringEquals": "2026-03-08", "Next": "TrainingSkipped"},
            ],
            "Default": "Clean",
        },
        "Clean": {"Type": "Pass", "Next": "Done"},
        "TrainingSkipped": {
            "Type": "Pass",
            "Result": {"date": "2026-03-08", "note": SKIPPED},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "RunFailed": {"Type": "Fail", "Error": "Clean", "Cause": "Step Clean failed for 2026-03-07: DQ"},
    },
}
"""A stand-in for the pipeline moto can run: its data-quality gate fails on 2026-03-07, and on
2026-03-08 training is skipped for too little history (the run succeeds with a note)."""


def _template(values: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {"Marker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {key: {"Value": value} for key, value in values.items()},
        }
    )


@pytest.fixture(scope="module")
def platform(moto: str) -> dict[str, str]:
    """The dev environment's resources in moto, and its stacks (all but QuickSight) with their outputs."""
    requests.post(
        f"{moto}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=5
    )
    role = boto3.client("iam").create_role(RoleName="platform", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    s3 = boto3.client("s3")
    for bucket in ("raw", "frames", "analytics"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION})
    for key in FORECASTS:
        s3.put_object(Bucket="analytics", Key=f"store_forecasts/{key}", Body=b"PAR1")
    for key in FRAMES:
        s3.put_object(Bucket="frames", Key=f"stream={STREAM}/{key}", Body=b"\xff\xd8jpeg")
    sfn = boto3.client("stepfunctions")
    machines = {
        name: sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
        for name, definition in {
            "pipeline": PIPELINE,
            "features": {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}},
            "training": {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}},
        }.items()
    }
    sfn.start_execution(stateMachineArn=machines["training"], name="nightly")
    glue = boto3.client("glue")
    glue.create_job(
        Name="dsp-dev-etl", Role=role, Command={"Name": "glueetl", "ScriptLocation": "s3://a/b.py"}
    )
    glue.start_job_run(JobName="dsp-dev-etl")
    glue.create_crawler(Name="dsp-dev-raw", Role=role, Targets={"S3Targets": [{"Path": "s3://raw/"}]})
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn=role, PrimaryContainer={"Image": "sklearn"})
    sagemaker.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="dsp-dev-forecast", EndpointConfigName="c")
    serverless = boto3.client("emr-serverless")
    application = serverless.create_application(
        name="dsp-dev-features", releaseLabel="emr-7.10.0", type="SPARK", clientToken="t"
    )["applicationId"]
    serverless.start_job_run(
        applicationId=application,
        clientToken="t",
        executionRoleArn=role,
        name="features-2026-03-16",
        jobDriver={"sparkSubmit": {"entryPoint": "s3://code/features_step.py"}},
    )
    values = {
        outputs.RAW_BUCKET: "raw",
        outputs.ETL_JOB: "dsp-dev-etl",
        outputs.CRAWLER: "dsp-dev-raw",
        outputs.FEATURE_RUNS: machines["features"],
        outputs.FEATURE_APPLICATION: application,
        outputs.TRAINING: machines["training"],
        outputs.ENDPOINT: "dsp-dev-forecast",
        outputs.FORECASTS: "s3://analytics/store_forecasts/",
        outputs.STREAMS: STREAM,
        outputs.FRAMES: "s3://frames/",
        outputs.RUNS: machines["pipeline"],
        outputs.STUDIO_DOMAIN: DOMAIN,
    }
    cloudformation = boto3.client("cloudformation")
    for suffix, keys in outputs.READ_BY_DSP.items():
        if suffix != outputs.QUICKSIGHT:
            body = _template({key: values[key] for key in keys})
            cloudformation.create_stack(StackName=f"dsp-dev-{suffix}", TemplateBody=body)
    return values


def dsp(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """Run ``dsp`` with ``arguments``: its exit code, stdout and stderr."""
    try:
        code = cli.main(list(arguments))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_output_dsp_reads_is_in_each_environments_templates(env: Synthesized) -> None:
    by_name = {stack.stack_name: stack.template for stack in env.assembly.stacks}
    for suffix, keys in outputs.READ_BY_DSP.items():
        template = by_name[f"{env.settings.name_prefix}-{suffix}"]
        assert set(keys) <= set(template.get("Outputs", {})), suffix
        assert all(template["Outputs"][key]["Value"] for key in keys)
    frames = by_name[f"{env.settings.name_prefix}-video"]["Outputs"][outputs.FRAMES]["Value"]
    assert frames == {"Fn::Join": ["", ["s3://", {"Ref": "Frames73E3B82F"}, "/"]]}  # the frames bucket


def test_upload_generates_the_sample_into_the_raw_zone(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "upload", "--stores", "2", "--days", "2", "--start", "2026-03-06")
    keys = {item["Key"] for item in boto3.client("s3").list_objects_v2(Bucket="raw")["Contents"]}
    assert code == 0 and out.startswith("uploaded ") and out.splitlines()[0].endswith(" to s3://raw/")
    assert {"stores/stores.csv", "transactions_csv/ingest_date=2026-03-06/S001_2026-03-06.csv"} <= keys
    assert "transactions_json/ingest_date=2026-03-07/S002_2026-03-07.jsonl" in keys
    assert "_report.json" not in keys


def test_upload_by_default_has_the_days_a_first_run_trains_on_and_says_which_to_run(
    platform: dict[str, str], capsys: Any
) -> None:
    code, out, _ = dsp(capsys, "upload", "--stores", "1")
    settings = load_settings("dev")
    days = days_needed(settings.sagemaker.training.hyperparameters.validation_days)
    first = date(2026, 3, 2)
    last = first + timedelta(days=days - 1)
    assert code == 0 and out.splitlines()[1:] == [
        f"ingest days {first} .. {last} ({days}); run them end to end with:",
        f"  dsp --env dev run --date {last} --follow",
    ]


def test_a_run_that_skipped_training_succeeds_with_its_note(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "run", "--date", "2026-03-08", "--follow", "--interval", "0")
    assert code == 0 and out.splitlines()[-2].startswith("SUCCEEDED: dsp-2026-03-08-")
    assert out.splitlines()[-1] == f"  {SKIPPED}"


def test_a_run_is_followed_step_by_step_to_its_end(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "run", "--date", "2026-03-06", "--follow", "--interval", "0")
    steps = [line.split()[-1] for line in out.splitlines() if line.startswith("  ")]
    assert code == 0 and steps == ["Crawl", "DataQuality", "Clean", "Done"]
    assert out.splitlines()[0].startswith("started dsp-2026-03-06-")
    assert out.splitlines()[-1].startswith("SUCCEEDED: dsp-2026-03-06-")


def test_a_failed_run_ends_with_its_cause_and_exit_1(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "run", "--date", "2026-03-07", "--follow", "--interval", "0")
    assert code == 1 and out.splitlines()[-2].startswith("FAILED: dsp-2026-03-07-")
    assert out.splitlines()[-1] == "  Clean: Step Clean failed for 2026-03-07: DQ"


def test_status_shows_the_last_run_of_each_service(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "status")
    lines = {line[:18].strip(): line[18:].strip() for line in out.splitlines()}
    assert code == 0 and list(lines) == list(commands.STATUS)
    # the runs of the tests above; moto's start times tie within a second, so any of them is the newest
    assert re.fullmatch(r"(SUCCEEDED|FAILED)  dsp-2026-03-0[67]-\S+  started .+, ended .+", lines["pipeline"])
    assert lines["glue job"].split()[:2] in (["RUNNING", "dsp-dev-etl"], ["SUCCEEDED", "dsp-dev-etl"])
    assert lines["glue crawler"] == "READY  dsp-dev-raw: never crawled"
    assert lines["emr feature run"] == "no runs yet"
    assert re.fullmatch(r"[A-Z]+  features-2026-03-16 created .+ UTC.*", lines["emr feature job"])
    assert lines["sagemaker training"].startswith("SUCCEEDED  nightly  started ")
    assert lines["sagemaker endpoint"].startswith("InService  dsp-dev-forecast since ")
    # the newest day, and its newest version (a retrained model scored it again)
    assert re.fullmatch(
        r"newest forecast 2026-03-17 by model version 2, written \d{4}-\d\d-\d\d .+ UTC",
        lines["sagemaker forecast"],
    )
    assert lines["video frames"].startswith(f"{STREAM}: newest frame ")
    assert lines["quicksight refresh"] == "off (no stack dsp-dev-quicksight)"


def test_a_transient_engine_has_no_feature_job_and_says_so(capsys: Any) -> None:
    deployed = _offline(emr={outputs.FEATURE_RUNS: "arn:aws:states:eu-west-1:1:stateMachine:f"})
    assert commands._feature_job(deployed) == (
        "no EMR Serverless application (the feature run uses a transient cluster)"
    )


def test_a_failed_feature_job_shows_its_state_and_details(capsys: Any) -> None:
    deployed = _offline(emr={outputs.FEATURE_APPLICATION: "00app"})
    serverless = deployed.client("emr-serverless")
    at = [datetime(2026, 3, 16, hour, tzinfo=UTC) for hour in (2, 3)]
    run = {
        "applicationId": "00app",
        "arn": "arn:aws:emr-serverless:eu-west-1:1:/applications/00app/jobruns/j",
        "createdBy": "arn:aws:iam::1:role/r",
        "executionRole": "arn:aws:iam::1:role/r",
        "releaseLabel": "emr-7.10.0",
        "updatedAt": at[1],
    }
    newest = {**run, "id": "j2", "name": "features-2026-03-16", "createdAt": at[1], "state": "FAILED",
              "stateDetails": "Job failed, ExitCode: 2"}  # fmt: skip
    older = {**run, "id": "j1", "name": "features-2026-03-15", "createdAt": at[0], "state": "SUCCESS",
             "stateDetails": "Job run completed"}  # fmt: skip
    with Stubber(serverless) as stub:
        stub.add_response(
            "list_job_runs", {"jobRuns": [older, newest]}, {"applicationId": "00app", "maxResults": 50}
        )
        line = commands._feature_job(deployed)
    assert line == "FAILED  features-2026-03-16 created 2026-03-16 03:00:00 UTC: Job failed, ExitCode: 2"


def test_invoke_prints_the_endpoints_answer(
    platform: dict[str, str], moto: str, tmp_path: Path, capsys: Any
) -> None:
    answer = {"Body": '{"predictions": [1234.5]}', "ContentType": "application/json"}
    requests.post(
        f"{moto}/moto-api/static/sagemaker/endpoint-results",
        json={"region": MOTO_REGION, "results": [answer]},
        timeout=5,
    )
    payload = tmp_path / "rows.json"
    payload.write_text(json.dumps({"instances": [{"day_of_week": 6}]}))
    assert dsp(capsys, "invoke", str(payload)) == (0, '{"predictions": [1234.5]}\n', "")


def test_studio_prints_a_short_lived_url_for_a_configured_user(
    platform: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """prod names Studio users (dev none); moto has no presigned Studio URLs: botocore's Stubber
    answers for SageMaker."""
    boto3.client("cloudformation").create_stack(
        StackName="dsp-prod-studio", TemplateBody=_template({outputs.STUDIO_DOMAIN: DOMAIN})
    )
    client = boto3.client("sagemaker", region_name=MOTO_REGION)
    opened = Deployed.client
    monkeypatch.setattr(
        Deployed,
        "client",
        lambda self, service, region=None: (
            client if service == "sagemaker" else opened(self, service, region)
        ),
    )
    url = f"https://{DOMAIN}.studio.{MOTO_REGION}.sagemaker.aws/auth?token=t"
    with Stubber(client) as stub:
        stub.add_response(
            "create_presigned_domain_url",
            {"AuthorizedUrl": url},
            {
                "DomainId": DOMAIN,
                "UserProfileName": "lead",
                "ExpiresInSeconds": commands.STUDIO_URL_SECONDS,
                "SessionExpirationDurationInSeconds": commands.STUDIO_SESSION_SECONDS,
                "LandingUri": "studio::",
            },
        )
        assert dsp(capsys, "studio", "--env", "prod", "--user", "lead") == (
            0,
            f"{url}\n",
            "open it within 60 s; the session lasts 8 h\n",
        )
    code, _, err = dsp(capsys, "studio", "--env", "prod", "--user", "mallory")
    assert (code, err) == (
        2,
        "dsp: no Studio user 'mallory'; sagemaker.studio.users are data-scientist, lead\n",
    )


@pytest.mark.parametrize(
    ("name", "body", "extra", "message"),
    [
        ("rows.json", "{not json", [], "dsp: the payload is not JSON: Expecting property name"),
        (
            "rows.json",
            '{"rows": []}',
            [],
            'dsp: the JSON payload must be {"instances": [...]} or a list of rows',
        ),
        ("rows.csv", "  \n", [], "dsp: the payload is empty"),
        ("rows.txt", "6,true", [], "dsp: cannot tell whether"),
        (
            "rows.txt",
            "6,true\n\n7,false",
            ["--content-type", "csv"],
            "dsp: the CSV payload has an empty line",
        ),
    ],
)
def test_a_bad_payload_is_refused_before_calling_aws(
    tmp_path: Path, capsys: Any, name: str, body: str, extra: list[str], message: str
) -> None:
    payload = tmp_path / name
    payload.write_text(body)
    code, out, err = dsp(capsys, "invoke", str(payload), *extra)
    assert (code, out) == (2, "") and err.startswith(message) and err.count("\n") == 1


def test_a_missing_payload_file_is_bad_input(tmp_path: Path, capsys: Any) -> None:
    code, _, err = dsp(capsys, "invoke", str(tmp_path / "none.json"))
    assert (
        code == 2
        and err == f"dsp: cannot read the payload: No such file or directory: {tmp_path / 'none.json'}\n"
    )


def test_frames_lists_a_cameras_newest_frames_first(platform: dict[str, str], capsys: Any) -> None:
    code, out, _ = dsp(capsys, "frames", "--camera", CAMERA, "--limit", "2")
    keys = [line.split()[-1] for line in out.splitlines()[1:]]
    assert code == 0 and out.splitlines()[0] == f"{STREAM}: 2 newest frames"
    assert keys == [f"s3://frames/stream={STREAM}/{key}" for key in reversed(FRAMES[1:])]
    code, _, err = dsp(capsys, "frames", "--camera", "back-door")
    assert code == 2 and err == f"dsp: no camera 'back-door'; the streams are {STREAM}\n"


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["run", "--date", "2026-02-30"], 2, "argument --date: '2026-02-30' is not a date (yyyy-mm-dd)"),
        (["run", "--date", "20260306"], 2, "argument --date: '20260306' is not a date (yyyy-mm-dd)"),
        (
            ["--env", "qa", "status"],
            2,
            "dsp: config error: env: unknown environment 'qa'; allowed: dev, prod",
        ),
        (
            ["--env", "prod", "run"],
            1,
            "dsp: stack dsp-prod-pipeline is not deployed in this account and region",
        ),
        (["upload", "--from", "/nonexistent"], 2, "dsp: no folder /nonexistent"),
        (["upload", "--stores", "0"], 2, "dsp: need 1-999 stores"),
    ],
)
def test_bad_input_and_missing_stacks_are_one_line(
    platform: dict[str, str], capsys: Any, arguments: list[str], code: int, message: str
) -> None:
    exit_code, _, err = dsp(capsys, *arguments)
    assert exit_code == code and message in err and "Traceback" not in err
    assert err.count("\n") == 1 or err.startswith("usage:")


def test_missing_credentials_are_one_line(
    platform: dict[str, str], no_credentials: None, capsys: Any
) -> None:
    code, out, err = dsp(capsys, "status")
    assert (code, out) == (1, "") and err.startswith("dsp: no AWS credentials: set AWS_PROFILE")


def _offline(**stack_outputs: dict[str, str]) -> Deployed:
    """An environment whose stacks are given (the rest not deployed) and whose clients get stubbed."""
    deployed = Deployed(
        "dsp-dev", boto3.Session(region_name=MOTO_REGION, aws_access_key_id="a", aws_secret_access_key="b")
    )
    deployed._outputs = {suffix: stack_outputs.get(suffix) for suffix in outputs.READ_BY_DSP}
    return deployed


def test_quicksight_status_is_each_datasets_last_ingestion(capsys: Any) -> None:
    deployed = _offline(quicksight={outputs.DATASETS: "dsp-dev-daily,dsp-dev-sales"})
    sts, quicksight = deployed.client("sts"), deployed.client("quicksight")
    with Stubber(sts) as sts_stub, Stubber(quicksight) as stub:
        sts_stub.add_response("get_caller_identity", {"Account": "123456789012"})
        at = [datetime(2026, 3, 6, hour, tzinfo=UTC) for hour in (2, 3)]
        ingestion = {"Arn": "arn", "CreatedTime": at[0], "IngestionStatus": "COMPLETED"}
        stub.add_response(
            "list_ingestions",
            {
                "Ingestions": [
                    {**ingestion, "IngestionId": "b", "CreatedTime": at[1]},
                    {**ingestion, "IngestionId": "a"},
                ]
            },
            {"DataSetId": "dsp-dev-daily", "AwsAccountId": "123456789012"},
        )
        failed = {
            **ingestion,
            "IngestionId": "c",
            "IngestionStatus": "FAILED",
            "ErrorInfo": {"Message": "no rows"},
        }
        stub.add_response(
            "list_ingestions",
            {"Ingestions": [failed]},
            {"DataSetId": "dsp-dev-sales", "AwsAccountId": "123456789012"},
        )
        assert commands.status(deployed) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.split(None, 2)[2] == (
        "dsp-dev-daily: COMPLETED 2026-03-06 03:00:00 UTC; "
        "dsp-dev-sales: FAILED 2026-03-06 02:00:00 UTC (no rows)"
    )


def test_a_request_the_model_refuses_is_one_line_with_its_status(tmp_path: Path) -> None:
    deployed = _offline(sagemaker={outputs.ENDPOINT: "dsp-dev-forecast"})
    runtime = deployed.client("sagemaker-runtime")
    payload = tmp_path / "rows.csv"
    payload.write_text("6,true,false,1100,1500.5,1210\n")
    with Stubber(runtime) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ModelError",
            service_message="Received client error (400)",
            http_status_code=424,
            modeled_fields={
                "OriginalStatusCode": 400,
                "OriginalMessage": '{"error": "row 0 has 6 values, expected 7"}',
            },
        )
        with pytest.raises(
            commands.OpsError, match=r"^the endpoint refused the request \(400\): \{\"error\""
        ):
            commands.invoke(deployed, str(payload), None)
