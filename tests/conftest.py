"""Session fixtures: each environment's app is built and synthesized once; tests read the assembly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, cx_api
from aws_cdk.assertions import Template
from hypothesis import settings as hypothesis_settings

from app import Platform, create_app
from config.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]

hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci")
"""Property tests draw the same examples on every run (CI is stable, a failure reproduces) and keep
no example database (nothing written into the repo); no deadline, since a Spark-loaded machine is slow."""


@dataclass
class Synthesized:
    """One environment, built and synthesized once."""

    settings: Settings
    platform: Platform
    assembly: cx_api.CloudAssembly
    outdir: Path
    _templates: dict[str, Template] = field(default_factory=dict)

    def template(self, stack_id: str) -> Template:
        """The assertions ``Template`` of a stack, read from the assembly."""
        if stack_id not in self._templates:
            artifact = self.assembly.get_stack_artifact(stack_id)
            self._templates[stack_id] = Template.from_json(artifact.template)
        return self._templates[stack_id]

    def raw(self, stack_id: str) -> dict[str, Any]:
        """The template of a stack as plain JSON."""
        return json.loads((self.outdir / f"{stack_id}.template.json").read_text())

    def properties(self, stack_id: str, logical_id: str) -> dict[str, Any]:
        """The ``Properties`` of one resource of a stack."""
        return self.raw(stack_id)["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]

    def resources(self, stack_id: str, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical ID -> resource, for every resource of ``resource_type`` in the stack."""
        return {
            logical_id: resource
            for logical_id, resource in self.raw(stack_id)["Resources"].items()
            if resource["Type"] == resource_type
        }


def synthesize(settings: Settings, outdir: Path) -> Synthesized:
    """Build the app for ``settings`` and synthesize it into ``outdir``."""
    app, platform = create_app(settings, outdir=str(outdir))
    return Synthesized(settings, platform, app.synth(), outdir)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Synthesized]]:
    """Synthesize an environment on first use and hand out the same result afterwards."""
    cache: dict[str, Synthesized] = {}

    def get(environment: str) -> Synthesized:
        if environment not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{environment}")
            cache[environment] = synthesize(load_settings(environment), outdir)
        return cache[environment]

    yield get


@pytest.fixture(scope="session")
def dev(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("dev")


@pytest.fixture(scope="session")
def prod(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("prod")


@pytest.fixture(scope="session")
def transient(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """dev with the other engine of the scheduled feature run: transient EMR clusters."""
    settings = load_settings("dev")
    emr = settings.emr.model_copy(update={"feature_runs_on": "transient_cluster"})
    return synthesize(settings.model_copy(update={"emr": emr}), tmp_path_factory.mktemp("cdk-transient"))


OPTIONAL_SERVICES = ("emr", "sagemaker", "video", "quicksight", "pipeline", "budget")
"""What ``services_off`` switches off: every part the core (network, lake, alarms, Glue) runs without."""


@pytest.fixture(scope="session")
def services_off() -> tuple[App, Platform]:
    """dev with every optional service switched off, built (not synthesized) once for the tests that
    check what a switched-off service leaves out."""
    settings = load_settings("dev")
    off = {name: getattr(settings, name).model_copy(update={"enabled": False}) for name in OPTIONAL_SERVICES}
    return create_app(settings.model_copy(update=off))


@pytest.fixture(scope="session", params=["dev", "prod"])
def env(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    """Each shipped environment in turn."""
    return synth(request.param)


MOTO_REGION = "eu-west-1"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def moto(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on a free port with boto3 pointed at it, empty for each module; its URL."""
    import requests
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": MOTO_REGION,
    }.items():
        monkeypatch_module.setenv(name, value)
    yield url
    requests.post(f"{url}/moto-api/reset", timeout=10)  # moto's backends live in this process
    server.stop()


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials anywhere boto3 looks: environment, files, instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


SPARK_TESTS = "tests/workloads/"
"""Where every test that uses the Spark session lives; pytest-xdist runs them all on one worker."""
ELSEWHERE = tuple(
    f"tests/workloads/test_{name}.py"
    for name in (
        "forecast",
        "emr_certificates",
        "emr_security_groups",
        "endpoint_bootstrap",
        "frame_sampler",
        "raw_files",
        "sample_data",
        "studio_cleanup",
    )
)
"""Workload modules without Spark that run on whichever worker is free, each as one unit (their
module fixtures are built once), so the Spark worker does not end the run last."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Holds the Spark tests to :data:`SPARK_TESTS`, so the run starts one JVM, not one per worker."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()) and (
            not item.nodeid.startswith(SPARK_TESTS) or item.nodeid.split("::")[0] in ELSEWHERE
        ):
            raise pytest.UsageError(f"{item.nodeid} uses Spark: move it under {SPARK_TESTS}, not ELSEWHERE")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: `-p no:xdist` runs without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's scheduler: the tests under :data:`SPARK_TESTS` go to one worker as one unit
    (one Spark session and one demo run), every other test to whichever worker is free."""
    from xdist.scheduler import LoadScopeScheduling

    class SparkOnOneWorker(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::")[0]
            if module in ELSEWHERE:
                return module
            return SPARK_TESTS if nodeid.startswith(SPARK_TESTS) else nodeid

    return SparkOnOneWorker(config, log)
