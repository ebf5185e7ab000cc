"""CDK assets of the repository's workload code: an entry script's ``workloads`` imports, zipped,
or chosen files as the ``.tar.gz`` SageMaker's containers unpack."""

import ast
import atexit
import functools
import gzip
import io
import shutil
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

ROOT = Path(__file__).resolve().parents[1]


def workload_modules(script: str) -> tuple[str, ...]:
    """Every file of the ``workloads`` package that ``script`` (a path relative to the repository
    root) imports, directly or through other such files, with their packages' ``__init__.py``:
    what must ship beside the script. Sorted; read from the source, nothing is imported."""
    found: set[str] = set()
    queue = [script]
    while queue:
        for candidate in _imported_files(queue.pop()):
            if candidate not in found:
                found.add(candidate)
                queue.append(candidate)
    return tuple(sorted(found))


@functools.cache
def _imported_files(path: str) -> tuple[str, ...]:
    """The files of the ``workloads`` package that the file at ``path`` imports directly (with their
    packages' ``__init__.py``); each file is parsed once per synth, however many scripts import it."""
    files: list[str] = []
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if not (
            isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "workloads"
        ):
            continue
        for name in (node.module, *(f"{node.module}.{alias.name}" for alias in node.names)):
            parts = name.split(".")
            candidates = [f"{'/'.join(parts[:n])}/__init__.py" for n in range(1, len(parts) + 1)]
            candidates.append(f"{'/'.join(parts)}.py")
            files += (candidate for candidate in candidates if (ROOT / candidate).is_file())
    return tuple(files)


def entry_modules(script: str) -> tuple[str, ...]:
    """``script`` (a path relative to the repository root), the ``__init__.py`` of its packages and
    :func:`workload_modules`: what a function needs to import ``script`` as a module."""
    parts = script.split("/")[:-1]
    packages = {f"{'/'.join(parts[:n])}/__init__.py" for n in range(1, len(parts) + 1)}
    return tuple(sorted({script, *packages, *workload_modules(script)}))


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


def tarball_asset(scope: Construct, construct_id: str, *, files: Mapping[str, Path]) -> s3_assets.Asset:
    """A ``.tar.gz`` asset holding ``files`` (name in the archive -> file). Owners, modes and times
    are fixed and the gzip header carries no time or name, so the same files give the same bytes
    and asset hash on every machine and every synth."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    staging = Path(tempfile.mkdtemp(prefix="tarball-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    path = staging / f"{construct_id.lower()}.tar.gz"
    with path.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed:
        packed.write(archive.getvalue())
    return s3_assets.Asset(scope, construct_id, path=str(path))
