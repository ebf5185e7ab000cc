"""What ``dsp`` does to a deployed environment, one function per command; each prints its result
and returns the exit code. Resources come from the stacks' outputs (:class:`ops.platform.Deployed`)."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from config.settings import Settings
from ops.platform import Deployed, OpsError, aws, aws_message
from stacks import outputs
from workloads.sample_data import generate


class BadInput(OpsError):
    """A date, payload or file ``dsp`` refuses before calling AWS (exit code 2)."""


MEDIA_TYPES = {".json": "application/json", ".csv": "text/csv"}
INGEST_DAY = re.compile(r"/ingest_date=(\d{4}-\d{2}-\d{2})/")
SUCCEEDED = "SUCCEEDED"


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if moment else "-"


def _every(pages: Any, field: str) -> list[Any]:
    """Every item of ``field`` over a paginator's pages."""
    return [item for page in pages for item in page.get(field, [])]


def upload(deployed: Deployed, source: Path | None, sizes: dict[str, Any], *, env: str) -> int:
    """Upload ``source`` (a raw-zone layout; default: freshly generated sample data of ``sizes``)
    to the raw zone, keeping every file's path as its key; print the ingest days uploaded and the
    ``dsp run`` of the last one (the run that cleans them all and trains on them in ``env``)."""
    bucket = deployed.output(outputs.DATA_LAKE, outputs.RAW_BUCKET)
    if source is not None and not source.is_dir():
        raise BadInput(f"no folder {source}")
    with tempfile.TemporaryDirectory(prefix="dsp-upload-") as scratch:
        root = source or Path(scratch)
        if source is None:
            try:
                generate(root, **sizes)
            except ValueError as error:
                raise BadInput(str(error)) from error
        files = [path for path in sorted(root.rglob("*")) if path.is_file() and path.name != "_report.json"]
        if not files:
            raise BadInput(f"no files under {root}")
        s3 = deployed.client("s3")
        for path in files:
            key = path.relative_to(root).as_posix()
            aws(s3.upload_file, str(path), bucket, key)
        size = sum(path.stat().st_size for path in files)
        days = sorted({match[1] for path in files if (match := INGEST_DAY.search(path.as_posix()))})
    print(f"uploaded {len(files)} files ({size:,} bytes) to s3://{bucket}/")
    if days:
        print(f"ingest days {days[0]} .. {days[-1]} ({len(days)}); run them end to end with:")
        print(f"  dsp --env {env} run --date {days[-1]} --follow")
    return 0


def start_run(
    deployed: Deployed,
    day: date | None,
    *,
    follow: bool,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start the pipeline for ``day`` (None: the state machine's "yesterday"); with ``follow``, print
    each step as it starts and end with the run's status (exit 1 unless it succeeded)."""
    machine = deployed.output(outputs.PIPELINE, outputs.RUNS)
    sfn = deployed.client("stepfunctions")
    name = f"dsp-{day or 'yesterday'}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    payload = json.dumps({"date": day.isoformat()} if day else {})
    started = aws(sfn.start_execution, stateMachineArn=machine, name=name, input=payload)
    print(f"started {name}: {started['executionArn']}")
    return follow_run(sfn, started["executionArn"], interval, sleep) if follow else 0


def follow_run(sfn: Any, execution: str, interval: float, sleep: Callable[[float], None]) -> int:
    """Print each state the execution enters until it ends; 0 when it succeeded."""
    seen = 0
    while True:
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
        events = aws(_every, pages, "events")
        for event in events[seen:]:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                print(f"  {_when(event['timestamp'])}  {entered['name']}")
        seen = len(events)
        described = aws(sfn.describe_execution, executionArn=execution)
        if described["status"] != "RUNNING":
            break
        sleep(interval)
    status = described["status"]
    print(f"{status}: {described['name']}")
    if status != SUCCEEDED:
        print(f"  {described.get('error', '')}: {described.get('cause', '')}")
        return 1
    note = json.loads(described.get("output") or "{}")
    if isinstance(note, dict) and note.get("note"):
        print(f"  {note['note']}")
    return 0


def _last_execution(deployed: Deployed, suffix: str, key: str) -> str:
    machine = deployed.output(suffix, key)
    runs = aws(deployed.client("stepfunctions").list_executions, stateMachineArn=machine, maxResults=20)
    if not runs["executions"]:
        return "no runs yet"
    run = max(runs["executions"], key=lambda execution: execution["startDate"])
    ended = _when(run.get("stopDate"))
    return f"{run['status']}  {run['name']}  started {_when(run['startDate'])}, ended {ended}"


def _feature_job(deployed: Deployed) -> str:
    """The newest job run of the EMR Serverless application (the serverless engine's)."""
    application = (deployed.outputs(outputs.EMR) or {}).get(outputs.FEATURE_APPLICATION)
    if application is None:
        return "no EMR Serverless application (the feature run uses a transient cluster)"
    found = aws(deployed.client("emr-serverless").list_job_runs, applicationId=application, maxResults=50)
    if not found["jobRuns"]:
        return f"{application}: no job runs yet"
    run = max(found["jobRuns"], key=lambda job: job["createdAt"])
    detail = f": {run['stateDetails']}" if run.get("stateDetails") else ""
    return f"{run['state']}  {run.get('name', run['id'])} created {_when(run['createdAt'])}{detail}"


def _glue_job(deployed: Deployed) -> str:
    job = deployed.output(outputs.GLUE, outputs.ETL_JOB)
    runs = aws(deployed.client("glue").get_job_runs, JobName=job, MaxResults=1)["JobRuns"]
    if not runs:
        return f"{job}: no runs yet"
    run = runs[0]
    error = f": {run['ErrorMessage']}" if run.get("ErrorMessage") else ""
    return f"{run['JobRunState']}  {job} started {_when(run.get('StartedOn'))}{error}"


def _crawler(deployed: Deployed) -> str:
    name = deployed.output(outputs.GLUE, outputs.CRAWLER)
    crawler = aws(deployed.client("glue").get_crawler, Name=name)["Crawler"]
    last = crawler.get("LastCrawl")
    if not last:
        return f"{crawler['State']}  {name}: never crawled"
    error = f": {last['ErrorMessage']}" if last.get("ErrorMessage") else ""
    return f"{last['Status']}  {name} started {_when(last.get('StartTime'))}{error} (now {crawler['State']})"


def _endpoint(deployed: Deployed) -> str:
    name = deployed.output(outputs.SAGEMAKER, outputs.ENDPOINT)
    endpoint = aws(deployed.client("sagemaker").describe_endpoint, EndpointName=name)
    reason = f": {endpoint['FailureReason']}" if endpoint.get("FailureReason") else ""
    return f"{endpoint['EndpointStatus']}  {name} since {_when(endpoint.get('LastModifiedTime'))}{reason}"


FORECAST_FILE = re.compile(r"/forecast_date=(\d{4}-\d{2}-\d{2})/model-(\d+)\.parquet$")
"""A file of ``store_forecasts``: the day forecast and the model version that made it."""


def _forecasts(deployed: Deployed) -> str:
    """The newest day in ``store_forecasts``, the newest model version that forecast it, and when."""
    bucket, _, prefix = (
        deployed.output(outputs.SAGEMAKER, outputs.FORECASTS).removeprefix("s3://").partition("/")
    )
    s3 = deployed.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
    days = sorted(entry["Prefix"] for entry in aws(_every, pages, "CommonPrefixes"))
    for day in reversed(days):  # the newest day with a forecast file
        files = aws(s3.list_objects_v2, Bucket=bucket, Prefix=day).get("Contents", [])
        found = [(int(match[2]), item) for item in files if (match := FORECAST_FILE.search(item["Key"]))]
        if found:
            version, newest = max(found, key=lambda pair: pair[0])
            written = _when(newest["LastModified"])
            return f"newest forecast {day[-11:-1]} by model version {version}, written {written}"
    return "no forecasts yet"


def _frames_location(deployed: Deployed) -> tuple[str, str]:
    url = deployed.output(outputs.VIDEO, outputs.FRAMES)
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix


def newest_frames(deployed: Deployed, stream: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` frames of ``stream``, newest first: keys sort by date, hour and time."""
    bucket, prefix = _frames_location(deployed)
    s3 = deployed.client("s3")
    folder = f"{prefix}stream={stream}/"
    found: list[dict[str, Any]] = []
    days = aws(s3.list_objects_v2, Bucket=bucket, Prefix=folder, Delimiter="/").get("CommonPrefixes", [])
    for day in sorted((entry["Prefix"] for entry in days), reverse=True):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=day)
        found += sorted(
            aws(_every, pages, "Contents"),
            key=lambda item: item["Key"],
            reverse=True,
        )
        if len(found) >= limit:
            break
    return found[:limit]


def _streams(deployed: Deployed) -> list[str]:
    return deployed.output(outputs.VIDEO, outputs.STREAMS).split(",")


def _video(deployed: Deployed) -> str:
    parts = []
    for stream in _streams(deployed):
        frames = newest_frames(deployed, stream, 1)
        newest = f"newest frame {_when(frames[0]['LastModified'])}" if frames else "no frames yet"
        parts.append(f"{stream}: {newest}")
    return "; ".join(parts)


def _quicksight(deployed: Deployed) -> str:
    account = aws(deployed.client("sts").get_caller_identity)["Account"]
    quicksight = deployed.client("quicksight")
    parts = []
    for dataset in deployed.output(outputs.QUICKSIGHT, outputs.DATASETS).split(","):
        found = aws(quicksight.list_ingestions, DataSetId=dataset, AwsAccountId=account)
        ingestions = sorted(found["Ingestions"], key=lambda ingestion: ingestion["CreatedTime"])
        if not ingestions:
            parts.append(f"{dataset}: no ingestions yet")
            continue
        last = ingestions[-1]
        error = f" ({last['ErrorInfo'].get('Message', '')})" if last.get("ErrorInfo") else ""
        parts.append(f"{dataset}: {last['IngestionStatus']} {_when(last['CreatedTime'])}{error}")
    return "; ".join(parts)


STATUS: dict[str, tuple[str, Callable[[Deployed], str]]] = {
    "pipeline": (outputs.PIPELINE, lambda d: _last_execution(d, outputs.PIPELINE, outputs.RUNS)),
    "glue job": (outputs.GLUE, _glue_job),
    "glue crawler": (outputs.GLUE, _crawler),
    "emr feature run": (outputs.EMR, lambda d: _last_execution(d, outputs.EMR, outputs.FEATURE_RUNS)),
    "emr feature job": (outputs.EMR, _feature_job),
    "sagemaker training": (
        outputs.SAGEMAKER,
        lambda d: _last_execution(d, outputs.SAGEMAKER, outputs.TRAINING),
    ),
    "sagemaker endpoint": (outputs.SAGEMAKER, _endpoint),
    "sagemaker forecast": (outputs.SAGEMAKER, _forecasts),
    "video frames": (outputs.VIDEO, _video),
    "quicksight refresh": (outputs.QUICKSIGHT, _quicksight),
}
"""What ``dsp status`` shows per service: the stack it needs and how to read the last run."""


def status(deployed: Deployed) -> int:
    """The last run of each service; a service whose stack is not deployed shows as off."""
    width = max(map(len, STATUS))
    for label, (suffix, read) in STATUS.items():
        deployed_stack = deployed.outputs(suffix) is not None
        line = read(deployed) if deployed_stack else f"off (no stack {deployed.stack_name(suffix)})"
        print(f"{label:<{width}}  {line}")
    return 0


def _payload(path: str, content_type: str | None) -> tuple[bytes, str]:
    """The request body and its media type, checked: JSON that parses, CSV with rows."""
    if path == "-":
        body = sys.stdin.buffer.read()
    else:
        try:
            body = Path(path).read_bytes()
        except OSError as error:
            raise BadInput(f"cannot read the payload: {error.strerror}: {path}") from error
    media = (
        MEDIA_TYPES.get(f".{content_type}") if content_type else MEDIA_TYPES.get(Path(path).suffix.lower())
    )
    if media is None:
        raise BadInput(f"cannot tell whether {path} is JSON or CSV: pass --content-type json or csv")
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise BadInput("the payload is empty")
    if media == MEDIA_TYPES[".json"]:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadInput(f"the payload is not JSON: {error}") from error
        if not (isinstance(document, list) or (isinstance(document, dict) and "instances" in document)):
            raise BadInput('the JSON payload must be {"instances": [...]} or a list of rows')
    elif any(len(row) == 0 for row in csv.reader(io.StringIO(text.strip()))):
        raise BadInput("the CSV payload has an empty line")
    return body, media


def invoke(deployed: Deployed, path: str, content_type: str | None) -> int:
    """Send a JSON or CSV payload to the forecast endpoint and print its answer."""
    body, media = _payload(path, content_type)
    endpoint = deployed.output(outputs.SAGEMAKER, outputs.ENDPOINT)
    runtime = deployed.client("sagemaker-runtime")
    try:
        response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=media, Accept=media, Body=body)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ModelError":
            raise OpsError(aws_message(error)) from error
        status = error.response.get("OriginalStatusCode", "4xx")
        answer = error.response.get("OriginalMessage", "")
        raise OpsError(f"the endpoint refused the request ({status}): {answer}") from error
    print(response["Body"].read().decode("utf-8").rstrip())
    return 0


def frames(deployed: Deployed, camera: str | None, limit: int) -> int:
    """List the newest ``limit`` sampled frames of one camera (its name or its stream's) or of all."""
    streams = _streams(deployed)
    if camera is not None:
        stream = camera if camera in streams else f"{deployed.name_prefix}-{camera}"
        if stream not in streams:
            raise BadInput(f"no camera {camera!r}; the streams are {', '.join(streams)}")
        streams = [stream]
    bucket, _ = _frames_location(deployed)
    for stream in streams:
        found = newest_frames(deployed, stream, limit)
        print(f"{stream}: {len(found)} newest frames" if found else f"{stream}: no frames yet")
        for item in found:
            print(f"  {_when(item['LastModified'])}  {item['Size']:>9,} B  s3://{bucket}/{item['Key']}")
    return 0


STUDIO_URL_SECONDS = 60
"""How long the URL ``studio`` prints opens Studio (SageMaker allows 5 to 300 seconds)."""
STUDIO_SESSION_SECONDS = 8 * 3600
"""How long the Studio session it opens lasts (SageMaker allows 1800 to 43200 seconds)."""


def studio(deployed: Deployed, settings: Settings, user: str) -> int:
    """Print a presigned URL that opens ``user``'s Studio, valid :data:`STUDIO_URL_SECONDS`; the
    caller's own IAM identity needs ``sagemaker:CreatePresignedDomainUrl`` on that user profile."""
    users = [profile.name for profile in settings.sagemaker.studio.users]
    if user not in users:
        raise BadInput(f"no Studio user {user!r}; sagemaker.studio.users are {', '.join(users) or 'none'}")
    domain = deployed.output(outputs.STUDIO, outputs.STUDIO_DOMAIN)
    url = aws(
        deployed.client("sagemaker").create_presigned_domain_url,
        DomainId=domain,
        UserProfileName=user,
        ExpiresInSeconds=STUDIO_URL_SECONDS,
        SessionExpirationDurationInSeconds=STUDIO_SESSION_SECONDS,
        LandingUri="studio::",
    )["AuthorizedUrl"]
    print(url)
    hours = STUDIO_SESSION_SECONDS // 3600
    print(f"open it within {STUDIO_URL_SECONDS} s; the session lasts {hours} h", file=sys.stderr)
    return 0
