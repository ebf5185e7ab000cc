"""The replacement gate: each environment matches its committed baseline, and a change that would
delete or replace a stateful resource fails with the resource, the property and the way out."""

from __future__ import annotations

from scripts.replacement_gate import STATEFUL_TYPES, findings, read_baseline, snapshot
from scripts.templates import Templates, read_templates
from tests.conftest import Synthesized

LAKE, RAW_BUCKET = "dsp-dev-data-lake", "LakeRaw8A880B75"
VIDEO = "dsp-dev-video"


def test_every_environment_matches_its_committed_baseline(env: Synthesized) -> None:
    baseline = read_baseline(env.settings.environment)
    current = snapshot(read_templates(env.outdir))
    assert baseline, "no baseline: run `make baseline` and commit baseline/"
    assert findings(baseline, current) == []


def test_the_baseline_holds_every_kind_of_stateful_resource_with_its_create_only_values(
    dev: Synthesized,
) -> None:
    baselines = [read_baseline(environment) for environment in ("dev", "prod")]
    kinds = {
        resource["type"]
        for baseline in baselines
        for stack in baseline.values()
        for resource in stack.values()
    }
    assert kinds == STATEFUL_TYPES  # dev starts no EMR cluster, so only prod has a security configuration
    baseline = baselines[0]
    (stream,) = [r for r in baseline[VIDEO].values() if r["type"] == "AWS::KinesisVideo::Stream"]
    assert stream["create_only"] == {"/properties/Name": "dsp-dev-store-001-entrance"}


def _dev_templates(dev: Synthesized) -> Templates:
    """A fresh copy of dev's templates, read from the assembly, free to change."""
    return read_templates(dev.outdir)


def test_renaming_a_buckets_construct_id_fails_with_the_resource_and_the_way_out(dev: Synthesized) -> None:
    templates = _dev_templates(dev)
    resources = templates[LAKE]["Resources"]
    resources["LakeRawRenamed1234ABCD"] = resources.pop(RAW_BUCKET)  # what a new construct ID renders
    new, message = findings(read_baseline("dev"), snapshot(templates))
    assert new.startswith(f"{LAKE}: LakeRawRenamed1234ABCD (AWS::S3::Bucket) is NEW")
    assert message.startswith(f"{LAKE}: {RAW_BUCKET} (AWS::S3::Bucket) would be DELETED")
    assert "New AWS::S3::Bucket in the stack: LakeRawRenamed1234ABCD" in message
    assert f'override_logical_id("{RAW_BUCKET}")' in message and "make baseline" in message


def test_changing_a_create_only_property_fails_with_the_property_and_both_values(dev: Synthesized) -> None:
    templates = _dev_templates(dev)
    ((logical_id, stream),) = [
        (i, r) for i, r in templates[VIDEO]["Resources"].items() if r["Type"] == "AWS::KinesisVideo::Stream"
    ]
    stream["Properties"]["Name"] = "dsp-dev-store-001-door"
    (message,) = findings(read_baseline("dev"), snapshot(templates))
    assert message.startswith(f"{VIDEO}: {logical_id} (AWS::KinesisVideo::Stream) would be REPLACED")
    assert 'Name changes from "dsp-dev-store-001-entrance" to "dsp-dev-store-001-door"' in message


def test_a_removed_stack_deletes_its_stateful_resources(dev: Synthesized) -> None:
    templates = _dev_templates(dev)
    del templates[VIDEO]
    messages = findings(read_baseline("dev"), snapshot(templates))
    assert messages and all("DELETED with its stack" in m for m in messages)
    assert len(messages) == len(read_baseline("dev")[VIDEO])


def test_changes_that_keep_stateful_resources_pass(dev: Synthesized) -> None:
    templates = _dev_templates(dev)
    bucket = templates[LAKE]["Resources"][RAW_BUCKET]["Properties"]
    bucket["VersioningConfiguration"] = {"Status": "Suspended"}  # an update in place
    templates[LAKE]["Resources"]["NewTopic0000"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    assert findings(read_baseline("dev"), snapshot(templates)) == []


def test_a_new_place_for_data_must_be_recorded_before_it_passes(dev: Synthesized) -> None:
    """Moving data (frames out of raw) is deliberate: the new bucket enters the baseline first."""
    templates = _dev_templates(dev)
    templates[VIDEO]["Resources"]["NewBucket0000"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    (message,) = findings(read_baseline("dev"), snapshot(templates))
    assert (
        message.startswith(f"{VIDEO}: NewBucket0000 (AWS::S3::Bucket) is NEW") and "make baseline" in message
    )
