"""The frame sampler against moto's S3 and Kinesis Video control plane on localhost, with GetImages
answered by botocore's Stubber in the shape the API documents (moto does not emulate GetImages)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from workloads.video import frame_sampler
from workloads.video.frame_sampler import BadEvent, SamplingFailed, parse_event, run

BUCKET, PREFIX = "raw", "video/frames/"
STREAM, OTHER = "dsp-dev-store-001-entrance", "dsp-dev-store-002-entrance"
END = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
ENVIRONMENT = {"BUCKET": BUCKET, "PREFIX": PREFIX, "SAMPLING_INTERVAL_MS": "60000"}


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
    monkeypatch.setattr(frame_sampler.time, "sleep", lambda _: None)
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
    stub: Stubber, images: list[dict[str, Any]], start: datetime, end: datetime, stream: str = STREAM
) -> None:
    request = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": start,
        "EndTimestamp": end,
        "SamplingInterval": 60000,
        "Format": "JPEG",
        "MaxResults": 100,
    }
    stub.add_response("get_images", {"Images": images}, request)


def _run(aws: dict[str, Any], media: Any, streams: list[str], minutes: int = 5) -> dict[str, Any]:
    event = {"streams": streams, "end": END.isoformat().replace("+00:00", "Z"), "window_minutes": minutes}
    return run(
        parse_event(event),
        video=aws["video"],
        media_client=lambda _: media,
        s3=aws["s3"],
        environment=ENVIRONMENT,
    )


def _keys(s3: Any) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_frames_land_partitioned_with_their_capture_time(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = END - timedelta(minutes=5)
    captured = [start + timedelta(minutes=1, milliseconds=250), start + timedelta(minutes=2)]
    _expect(stub, [_frame(at) for at in captured], start, END)
    summary = _run(aws, client, [STREAM])
    assert summary["streams"][STREAM] == {"written": 2, "without_media": 0, "failed": 0}
    first = f"{PREFIX}stream={STREAM}/date=2026-11-25/hour=02/{int(captured[0].timestamp() * 1000)}.jpg"
    assert _keys(clean)[0] == first
    stored = clean.get_object(Bucket=BUCKET, Key=first)
    assert stored["Body"].read() == JPEG and stored["ContentType"] == "image/jpeg"
    assert stored["Metadata"] == {"capture-timestamp": "2026-11-25T02:56:00.250+00:00", "stream": STREAM}


def test_a_window_without_media_is_a_clean_no_op(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = END - timedelta(minutes=5)
    _expect(stub, [_frame(start + timedelta(minutes=n), None, "NO_MEDIA") for n in range(5)], start, END)
    summary = _run(aws, client, [STREAM])
    assert summary["streams"][STREAM] == {"written": 0, "without_media": 5, "failed": 0}
    assert _keys(clean) == []


def test_long_windows_are_read_in_slices_the_api_allows(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = END - timedelta(minutes=12)
    for offset in (0, 5, 10):  # 300 s slices; the last one is what is left
        slice_start = start + timedelta(minutes=offset)
        _expect(stub, [_frame(slice_start)], slice_start, min(slice_start + timedelta(minutes=5), END))
    assert _run(aws, client, [STREAM], minutes=12)["streams"][STREAM]["written"] == 3


def test_throttling_is_retried_with_growing_backoff(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stub = media
    waits: list[float] = []
    monkeypatch.setattr(frame_sampler.random, "uniform", lambda low, high: high)
    monkeypatch.setattr(frame_sampler.time, "sleep", waits.append)
    for _ in range(2):
        stub.add_client_error("get_images", "ClientLimitExceededException", "Rate exceeded", 400)
    start = END - timedelta(minutes=5)
    _expect(stub, [_frame(start)], start, END)
    assert _run(aws, client, [STREAM])["streams"][STREAM]["written"] == 1
    assert waits == [frame_sampler.BASE_DELAY, frame_sampler.BASE_DELAY * 2]


def test_one_failing_frame_never_loses_the_others(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = END - timedelta(minutes=5)
    frames = [
        _frame(start),
        {"TimeStamp": start + timedelta(minutes=1), "ImageContent": "not base64!"},
        _frame(start + timedelta(minutes=2), None, "MEDIA_ERROR"),
        _frame(start + timedelta(minutes=3)),
    ]
    _expect(stub, frames, start, END)
    with pytest.raises(SamplingFailed, match=r"^2 problem\(s\), the rest was written"):
        _run(aws, client, [STREAM])
    assert len(_keys(clean)) == 2


def test_a_stream_that_does_not_exist_fails_the_run_but_not_the_others(
    aws: dict[str, Any], clean: Any, media: tuple[Any, Stubber]
) -> None:
    client, stub = media
    start = END - timedelta(minutes=5)
    _expect(stub, [_frame(start)], start, END, stream=OTHER)
    with pytest.raises(SamplingFailed, match="no-such-camera: ResourceNotFoundException"):
        _run(aws, client, ["dsp-dev-no-such-camera", OTHER])
    assert [key.split("/")[2] for key in _keys(clean)] == [f"stream={OTHER}"]


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
    assert (request.start, request.end) == (END - timedelta(minutes=15), END)


def test_small_sampling_intervals_shrink_the_slices() -> None:
    pieces = list(frame_sampler.slices(END - timedelta(minutes=1), END, 200))
    assert [(b - a).total_seconds() for a, b in pieces] == [20.0, 20.0, 20.0]  # 100 frames at 200 ms each
