"""The frame sampler: JPEG frames from the platform's Kinesis Video streams into the frames bucket.

Each run reads, per stream, the window of ``window_minutes`` that ended :data:`LAG` before the
event's ``end`` (so fragments still being ingested are complete; consecutive scheduled runs still
tile time without gaps). It asks for the stream's ``GET_IMAGES`` data endpoint, then for one frame
per sampling interval (``GetImages`` by producer timestamp) in slices the API allows (at most 300
seconds and 100 frames each), each asked for from a little earlier (:data:`LOOKBACK`, whole
intervals) because a range read leaves out the fragment its start falls inside; frames outside the
slice are dropped, so every sample point is read once. Every frame goes to
``stream=<name>/date=<yyyy-mm-dd>/hour=<hh>/<epoch ms>.jpg`` with its sample time
(``TimeStamp``) in the metadata; keys come from that time, so a rerun writes the same objects.

No media is a clean no-op; a frame Kinesis Video cannot extract (``MEDIA_ERROR``, no content) is
counted, not retried. Throttling and connection errors are retried with exponential backoff. A
frame that cannot be written or a stream that cannot be read never loses the other frames and
streams, but then the run fails with a one-line summary, so it alarms and the asynchronous
retries (and, after them, the dead-letter queue) keep the event.

Event: ``{"streams": ["<stream>", ...], "end": "<ISO 8601 time>", "window_minutes": <n>}`` (the
schedule's rule passes its event time as ``end``). Environment: ``BUCKET``,
``SAMPLING_INTERVAL_MS``, ``METRICS_NAMESPACE``.

Each stream read also becomes two CloudWatch metrics, ``FramesWritten`` and ``FramesFailed``
(dimension ``Stream``; two custom metrics a camera keep the cost at ~0.60 USD a month), in the
embedded metric format: one JSON log line per stream, which CloudWatch Logs turns into metrics. A
run that is retried after a failure writes the same objects again and counts them again.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

SLICE = timedelta(seconds=300)
"""The longest range one GetImages call may cover."""
MAX_FRAMES = 100
"""The most frames one GetImages call returns."""
THROTTLING = frozenset(
    {
        "ClientLimitExceededException",
        "ThrottlingException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
    }
)
TRANSIENT = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
LAG = timedelta(minutes=2)
LOOKBACK = timedelta(seconds=5)
"""At least this much before each slice is asked for too: longer than a typical fragment."""
ATTEMPTS = 6
BASE_DELAY = 0.2
"""Seconds before the first retry; each retry waits up to twice as long (full jitter)."""


class BadEvent(ValueError):
    """The event is not ``{"streams": [...], "end": "<ISO time>", "window_minutes": <n>}``."""


class SamplingFailed(RuntimeError):
    """Some frames or streams could not be sampled; the message sums up what was and was not."""


@dataclass
class StreamResult:
    """What one stream's window gave: frames written, sample points without media, frames Kinesis
    Video could not extract, and frames that could not be written (the only failures)."""

    written: int = 0
    without_media: int = 0
    unreadable: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """A validated event: which streams, and the window ``[start, end)``."""

    streams: list[str]
    start: datetime
    end: datetime


def parse_event(event: Any) -> Request:
    """The event as a :class:`Request`; :class:`BadEvent` with one line saying what is wrong."""
    if not isinstance(event, dict):
        raise BadEvent(f"event must be a JSON object, got {type(event).__name__}")
    streams = event.get("streams")
    if not isinstance(streams, list) or not streams or not all(isinstance(s, str) and s for s in streams):
        raise BadEvent("event.streams must be a non-empty list of stream names")
    minutes = event.get("window_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
        raise BadEvent(f"event.window_minutes must be a whole number from 1 to 1440, got {minutes!r}")
    try:
        end = datetime.fromisoformat(str(event.get("end")).replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(
            f"event.end must be an ISO 8601 time such as 2026-11-25T03:00:00Z, got {event.get('end')!r}"
        ) from None
    if end.tzinfo is None:
        raise BadEvent(f"event.end must carry a time zone (Z or +hh:mm), got {event['end']!r}")
    end = end.astimezone(UTC) - LAG
    return Request(streams=streams, start=end - timedelta(minutes=minutes), end=end)


def pause(seconds: float) -> None:
    """Wait before a retry (its own function, so tests replace it without touching ``time``)."""
    time.sleep(seconds)


def with_backoff(call: Callable[..., Any], **arguments: Any) -> Any:
    """``call(**arguments)``, retried with exponential backoff and full jitter while throttled or
    while the connection fails."""
    for attempt in range(ATTEMPTS):
        try:
            return call(**arguments)
        except ClientError as error:
            if error.response["Error"]["Code"] not in THROTTLING or attempt == ATTEMPTS - 1:
                raise
        except TRANSIENT:
            if attempt == ATTEMPTS - 1:
                raise
        pause(random.uniform(0, BASE_DELAY * 2**attempt))
    raise AssertionError("unreachable")


def slices(start: datetime, end: datetime, interval_ms: int) -> Iterator[tuple[datetime, datetime, datetime]]:
    """``[start, end)`` cut into ``(ask from, keep from, keep until)`` slices on the sampling grid:
    each query starts whole intervals before the frames it keeps (at least :data:`LOOKBACK`), spans
    at most 300 seconds and 100 frames, and keeps a whole number of intervals."""
    interval = timedelta(milliseconds=interval_ms)
    lead = interval * math.ceil(LOOKBACK / interval)
    kept = min((SLICE - lead) // interval, MAX_FRAMES - lead // interval)
    step = interval * max(1, kept)
    while start < end:
        stop = min(start + step, end)
        yield start - lead, start, stop
        start = stop


def frame_key(stream: str, captured: datetime) -> str:
    """Where a frame captured at ``captured`` goes: partitioned by stream, date and hour."""
    captured = captured.astimezone(UTC)
    millis = int(captured.timestamp() * 1000)
    return f"stream={stream}/date={captured:%Y-%m-%d}/hour={captured:%H}/{millis}.jpg"


def sample_stream(
    stream: str,
    request: Request,
    *,
    video: Any,
    media_client: Callable[[str], Any],
    s3: Any,
    bucket: str,
    interval_ms: int,
) -> StreamResult:
    """Write the frames of ``stream`` in the request's window; raise only if the stream cannot be read."""
    endpoint = with_backoff(video.get_data_endpoint, StreamName=stream, APIName="GET_IMAGES")["DataEndpoint"]
    media = media_client(endpoint)
    result = StreamResult()
    for ask_from, keep_from, keep_until in slices(request.start, request.end, interval_ms):
        token: str | None = None
        while True:
            try:
                page = with_backoff(
                    media.get_images, **_images_request(stream, ask_from, keep_until, interval_ms, token)
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                break  # the stream exists (it has an endpoint): no fragments in this slice
            for image in page.get("Images", []):
                captured = image.get("TimeStamp")
                if isinstance(captured, datetime) and keep_from <= captured < keep_until:
                    _store(image, stream, result, s3=s3, bucket=bucket)
            token = page.get("NextToken")
            if not token:
                break
    return result


def _images_request(
    stream: str, start: datetime, end: datetime, interval_ms: int, token: str | None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": start,
        "EndTimestamp": end,
        "SamplingInterval": interval_ms,
        "Format": "JPEG",
        "MaxResults": MAX_FRAMES,
    }
    if token:
        request["NextToken"] = token
    return request


def _store(image: dict[str, Any], stream: str, result: StreamResult, *, s3: Any, bucket: str) -> None:
    """Write one frame, or count why it has none; never raise."""
    captured: datetime = image["TimeStamp"]
    if image.get("Error") == "NO_MEDIA":
        result.without_media += 1
        return
    try:
        body = base64.b64decode(image.get("ImageContent") or "", validate=True)
    except binascii.Error:
        body = b""
    if image.get("Error") or not body:
        result.unreadable += 1  # MEDIA_ERROR or no content: the same on every retry
        print(f"{stream} at {captured.isoformat()}: no image ({image.get('Error', 'no content')})")
        return
    try:
        with_backoff(
            s3.put_object,
            Bucket=bucket,
            Key=frame_key(stream, captured),
            Body=body,
            ContentType="image/jpeg",
            Metadata={
                "capture-timestamp": captured.astimezone(UTC).isoformat(timespec="milliseconds"),
                "stream": stream,
            },
        )
    except (ClientError, BotoCoreError) as error:
        result.failed.append(f"{stream} at {captured.isoformat()}: {error}")
        return
    result.written += 1


def run(
    request: Request, *, video: Any, media_client: Callable[[str], Any], s3: Any, environment: dict[str, str]
) -> dict[str, Any]:
    """Sample every stream of ``request``; the summary, or :class:`SamplingFailed` if anything failed."""
    summary: dict[str, Any] = {
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "streams": {},
    }
    problems: list[str] = []
    for stream in request.streams:
        try:
            result = sample_stream(
                stream,
                request,
                video=video,
                media_client=media_client,
                s3=s3,
                bucket=environment["BUCKET"],
                interval_ms=int(environment["SAMPLING_INTERVAL_MS"]),
            )
        except (ClientError, BotoCoreError) as error:
            problems.append(f"{stream}: {_describe(error)}")
            summary["streams"][stream] = {"error": problems[-1]}
            continue
        summary["streams"][stream] = {
            "written": result.written,
            "without_media": result.without_media,
            "unreadable": result.unreadable,
            "failed": len(result.failed),
        }
        print(json.dumps(metrics_record(environment["METRICS_NAMESPACE"], stream, result)))
        problems += result.failed
    print(json.dumps(summary))
    if problems:
        raise SamplingFailed(f"{len(problems)} problem(s), the rest was written; first: {problems[0]}")
    return summary


def metrics_record(namespace: str, stream: str, result: StreamResult) -> dict[str, Any]:
    """One stream's counts as a CloudWatch embedded-metric-format record (dimension ``Stream``)."""
    values = {"FramesWritten": result.written, "FramesFailed": len(result.failed)}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["Stream"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                }
            ],
        },
        "Stream": stream,
        **values,
    }


def _describe(error: Exception) -> str:
    """``Code: message`` of an AWS error, the text of any other."""
    if isinstance(error, ClientError):
        return f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"
    return str(error)


def handler(event: Any, _context: Any = None) -> dict[str, Any]:
    """Lambda entry point: sample the event's streams and window into the configured bucket."""
    request = parse_event(event)
    return run(
        request,
        video=boto3.client("kinesisvideo"),
        media_client=lambda endpoint: boto3.client("kinesis-video-archived-media", endpoint_url=endpoint),
        s3=boto3.client("s3"),
        environment=dict(os.environ),
    )
