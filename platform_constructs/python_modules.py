"""A CDK asset holding chosen Python modules of the repository, with their package folders."""

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

ROOT = Path(__file__).resolve().parents[1]


def stage_modules(modules: Sequence[str]) -> Path:
    """A temporary folder holding ``modules`` (paths relative to the repository root, e.g.
    ``workloads/schema.py``) laid out as in the repository, so ``import workloads.schema`` works
    from it; removed when the process ends. An asset of it hashes only the files' paths and contents."""
    staging = Path(tempfile.mkdtemp(prefix="modules-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    for module in modules:
        target = staging / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / module, target)
    return staging


def modules_asset(scope: Construct, construct_id: str, *, modules: Sequence[str]) -> s3_assets.Asset:
    """A zip asset of :func:`stage_modules` (Glue's ``--extra-py-files``)."""
    return s3_assets.Asset(scope, construct_id, path=str(stage_modules(modules)))
