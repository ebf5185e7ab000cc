"""The frame sampler against moto's S3 and Kinesis Video control plane on localhost, with GetImages
answered by botocore's Stubber in the shape the API documents (moto does not emulate GetImages)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from workloads.video import frame_sampler
from workloads.video.frame_sampler import BadEvent, SamplingFailed, parse_event, run

BUCKET = "frames"
STREAM, OTHER = "dsp-dev-store-001-entrance", "dsp-dev-store-002-entrance"
END = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
NAMESPACE = "Test/FrameSampler"
ENVIRONMENT = {
    "BUCKET": BUCKET,
    "SAMPLING_INTERVAL_MS": "60000",
    "METRICS_NAMESPACE": NAMESPACE,
}


@pytest.fixture(scope="module")
def aws(moto: str) -> dict[str, Any]:
    """The raw bucket and two streams on moto's server."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    video = boto3.client("kinesisvideo")
    for stream in (STREAM, OTHER):
        video.create_stream(StreamName=stream, DataRetentionInHours=24)
    return {"s3": s3, "video": video}


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    """An archived-media client whose GetImages answers are stubbed; no real waiting on backoff."""
    client = boto3.client(
        "kinesis-video-archived-media", region_name="eu-west-1", endpoint_url="https://media"
    )
    monkeypatch.setattr(frame_sampler, "pause", lambda _: None)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def clean(aws: dict[str, Any]) -> Iterator[Any]:
    yield aws["s3"]
    for item in aws["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", []):
        aws["s3"].delete_object(Bucket=BUCKET, Key=item["Key"])


def _frame(at: datetime, content: bytes | None = JPEG, error: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"TimeStamp": at}
    if content is not None:
        image["ImageContent"] = base64.b64encode(content).decode()
    if error is not None:
        image["Error"] = error
    return image


def _expect(
    stub: Stubber,
    images: list[dict[str, Any]],
    ask_from: datetime,
    until: datetime,
    *,
    stream: str = STREAM,
    token: str | None = None,
    next_token: str | None = None,
) -> None:
    """One GetImages call of ``stream`` for ``[ask_from, until]`` (page ``token``) answering ``images``."""
    request = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": ask_from,
        "EndTimestamp": until,
        "SamplingInterval": 60000,
        "Format": "JPEG",
        "MaxResults": 100,
    }
    if token:
        request["NextToken"] = token
    page: dict[str, Any] = {"Images": images}
    if next_token:
        page["NextToken"] = next_token
    stub.add_response("get_images", page, request)


def _run(
    aws: dict[str, Any], media: Any, streams: list[str], minutes: int = 4, s3: Any = None
) -> dict[str, Any]:
    event = {"streams": streams, "end": END.isoformat().replace("+00:00", "Z"), "window_minutes": minutes}
    endpoints: list[str] = []

    def media_client(endpoint: str) -> Any:
        endpoints.append(endpoint)
        return media

    summary = run(
        parse_event(event),
        video=aws["video"],
        media_client=media_client,
        s3=s3 or aws["s3"],
        environment=ENVIRONMENT,
    )
    assert len(endpoints) == len(streams) and all(
        e.startswith("http") for e in endpoints
    )  # from GetDataEndpoint
    return summary


def _metrics(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, int]]:
    """Stream -> counts, from the embedded-metric-format lines the run printed (checked for shape)."""
    counts = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("{"):
            continue  # a frame the run could not use, described
        record = json.loads(line)
        if "_aws" not in record:
            continue
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE and directive["Dimensions"] == [["Stream"]]
        names = [metric["Name"] for metric in directive["Metrics"]]
        assert all(metric["Unit"] == "Count" for metric in directive["Metrics"])
        counts[record["Stream"]] = {name: record[name] for name in names}
    return counts


def _keys(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


WINDOW_END = END - frame_sampler.LAG
"""The scheduled window ends two minutes before the event time, so in-flight fragments are complete."""
WINDOW_START = WINDOW_END - timedelta(minutes=4)
ASK_FROM = WINDOW_START - timedelta(minutes=1)
"""A 4-minute window at one frame a minute is one slice, asked for from one interval earlier."""


def test_frames_land_partitioned_with_their_capture_time(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = media
    kept = [WINDOW_START, WINDOW_START + timedelta(minutes=1, milliseconds=250)]
    lookback, next_slice = (
        _frame(ASK_FROM),
        _frame(WINDOW_END),
    )  # read only to reach the fragment; the next run's
    _expect(stub, [lookback, *[_frame(at) for at in kept], next_slice], ASK_FROM, WINDOW_END)
    summary = _run(aws, client, [STREAM])
    assert summary["streams"][STREAM] == {"written": 2, "without_media": 0, "unreadable": 0, "failed": 0}
    assert _metrics(capsys) == {STREAM: {"FramesWritten": 2, "FramesFailed": 0}}
    first = f"stream={STREAM}/date=2026-11-25/hour=02/{int(kept[0].timestamp() * 1000)}.jpg"
    assert _keys(clean)[0] == first and len(_keys(clean)) == 2
    stored = clean.get_object(Bucket=BUCKET, Key=_keys(clean)[1])
    assert stored["Body"].read() == JPEG and stored["ContentType"] == "image/jpeg"
    assert stored["Metadata"] == {"capture-timestamp": "2026-11-25T02:55:00.250+00:00", "stream": STREAM}


def test_a_window_without_media_is_a_clean_no_op(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    points = [ASK_FROM + timedelta(minutes=n) for n in range(6)]
    _expect(stub, [_frame(at, None, "NO_MEDIA") for at in points], ASK_FROM, WINDOW_END)
    summary = _run(aws, client, [STREAM])
    assert summary["streams"][STREAM] == {"written": 0, "without_media": 4, "unreadable": 0, "failed": 0}
    assert _keys(clean) == []


def test_a_slice_without_fragments_is_no_media_too(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    stub.add_client_error("get_images", "ResourceNotFoundException", "No fragments found in the range", 404)
    assert _run(aws, client, [STREAM])["streams"][STREAM]["written"] == 0


def test_pages_are_followed(aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]) -> None:
    client, stub = media
    _expect(stub, [_frame(WINDOW_START)], ASK_FROM, WINDOW_END, next_token="page-2")
    _expect(stub, [_frame(WINDOW_START + timedelta(minutes=1))], ASK_FROM, WINDOW_END, token="page-2")
    assert _run(aws, client, [STREAM])["streams"][STREAM]["written"] == 2


def test_long_windows_are_read_in_slices_on_the_sampling_grid(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = WINDOW_END - timedelta(minutes=12)
    for offset in (0, 4, 8):  # at one frame a minute, 4 kept minutes per call plus one asked before
        keep_from = start + timedelta(minutes=offset)
        _expect(stub, [_frame(keep_from)], keep_from - timedelta(minutes=1), keep_from + timedelta(minutes=4))
    assert _run(aws, client, [STREAM], minutes=12)["streams"][STREAM]["written"] == 3


def test_throttling_is_retried_with_growing_backoff(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stub = media
    waits: list[float] = []
    monkeypatch.setattr(frame_sampler.random, "uniform", lambda low, high: high)
    monkeypatch.setattr(frame_sampler, "pause", waits.append)
    for _ in range(2):
        stub.add_client_error("get_images", "ClientLimitExceededException", "Rate exceeded", 400)
    _expect(stub, [_frame(WINDOW_START)], ASK_FROM, WINDOW_END)
    assert _run(aws, client, [STREAM])["streams"][STREAM]["written"] == 1
    assert waits == [frame_sampler.BASE_DELAY, frame_sampler.BASE_DELAY * 2]


def test_a_dropped_connection_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frame_sampler, "pause", lambda _: None)
    outcomes: list[Any] = [EndpointConnectionError(endpoint_url="https://media"), {"Images": []}]

    def call(**_: Any) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert frame_sampler.with_backoff(call) == {"Images": []}


class FlakyS3:
    """moto's S3, except that S3 refuses to store the frame captured at ``refused``."""

    def __init__(self, s3: Any, refused: datetime) -> None:
        self._s3, self._refused = s3, str(int(refused.timestamp() * 1000))

    def put_object(self, **arguments: Any) -> Any:
        if arguments["Key"].endswith(f"/{self._refused}.jpg"):
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "We encountered an internal error"}},
                "PutObject",
            )
        return self._s3.put_object(**arguments)


def test_one_failing_frame_never_loses_the_others(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = media
    at = [WINDOW_START + timedelta(minutes=n) for n in range(4)]
    frames = [
        _frame(at[0]),
        _frame(at[1]),  # S3 refuses this one
        _frame(at[2], None, "MEDIA_ERROR"),  # cannot be extracted: counted, not retried
        _frame(at[3]),
    ]
    _expect(stub, frames, ASK_FROM, WINDOW_END)
    with pytest.raises(
        SamplingFailed, match=r"^1 problem\(s\), the rest was written; first: .*InternalError"
    ):
        _run(aws, client, [STREAM], s3=FlakyS3(aws["s3"], at[1]))
    assert len(_keys(clean)) == 2
    assert _metrics(capsys) == {STREAM: {"FramesWritten": 2, "FramesFailed": 1}}


def test_a_stream_that_does_not_exist_fails_the_run_but_not_the_others(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = media
    _expect(stub, [_frame(WINDOW_START)], ASK_FROM, WINDOW_END, stream=OTHER)
    with pytest.raises(SamplingFailed, match="no-such-camera: ResourceNotFoundException"):
        _run(aws, client, ["dsp-dev-no-such-camera", OTHER])
    assert [key.split("/")[0] for key in _keys(clean)] == [f"stream={OTHER}"]
    assert _metrics(capsys) == {OTHER: {"FramesWritten": 1, "FramesFailed": 0}}  # the error is the Lambda's


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "event must be a JSON object, got list"),
        ({"end": "2026-11-25T03:00:00Z", "window_minutes": 5}, "event.streams must be a non-empty list"),
        (
            {"streams": [], "end": "2026-11-25T03:00:00Z", "window_minutes": 5},
            "event.streams must be a non-empty",
        ),
        (
            {"streams": ["s"], "end": "2026-11-25T03:00:00Z", "window_minutes": 0},
            "window_minutes must be a whole",
        ),
        (
            {"streams": ["s"], "end": "2026-11-25T03:00:00Z", "window_minutes": True},
            "window_minutes must be a whole",
        ),
        ({"streams": ["s"], "end": "yesterday", "window_minutes": 5}, "event.end must be an ISO 8601 time"),
        ({"streams": ["s"], "end": "2026-11-25T03:00:00", "window_minutes": 5}, "must carry a time zone"),
    ],
)
def test_a_bad_event_is_rejected_with_one_clear_line(event: Any, message: str) -> None:
    with pytest.raises(BadEvent, match=message):
        frame_sampler.handler(event)


def test_the_schedules_event_shape_parses() -> None:
    request = parse_event({"streams": [STREAM], "end": "2026-11-25T03:00:00Z", "window_minutes": 15})
    assert (request.start, request.end) == (WINDOW_END - timedelta(minutes=15), WINDOW_END)


@pytest.mark.parametrize("interval_ms", [200, 1000, 5000, 7000, 60000])
def test_slices_tile_the_window_on_the_grid_within_the_api_limits(interval_ms: int) -> None:
    interval = timedelta(milliseconds=interval_ms)
    start, end = WINDOW_START, WINDOW_START + timedelta(minutes=15)
    pieces = list(frame_sampler.slices(start, end, interval_ms))
    assert pieces[0][1] == start and pieces[-1][2] == end
    for (_, _, previous_end), (_, keep_from, _) in itertools.pairwise(pieces):
        assert keep_from == previous_end  # no gap, no overlap of kept frames
    for ask_from, keep_from, keep_until in pieces:
        assert keep_from - ask_from >= frame_sampler.LOOKBACK and (
            keep_from - ask_from
        ) % interval == timedelta(0)
        assert (keep_from - start) % interval == timedelta(0)  # every slice keeps the run's sample grid
        assert keep_until - ask_from <= timedelta(seconds=300)
        assert (keep_until - ask_from) // interval <= 100
