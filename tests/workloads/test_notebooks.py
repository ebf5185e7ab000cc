"""The starter notebooks run end to end in a real Jupyter kernel (nbclient; ipykernel's python3 kernel
on this interpreter, in ``notebooks/``): ``explore_lake`` reads the session's demo output (``lake``'s
local mode), ``train_and_compare`` drives moto's server through a platform file and reads the demo's
features. A probe cell appended to each prints what the notebook computed, as JSON, and the tests
check it against the demo run; a broken cell fails the run."""

from __future__ import annotations

import importlib
import json
import os
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import nbformat
import pandas as pd
import pytest
import requests
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from demo.pipeline import Result
from tests.conftest import MOTO_REGION, ROOT
from tests.workloads.conftest import SAMPLE
from workloads.sagemaker import inference
from workloads.sagemaker.contract import METRIC, NAIVE_METRIC
from workloads.sagemaker.train import FEATURES
from workloads.schema import CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES, Table

NOTEBOOKS = ROOT / "notebooks"
GROUP = "dsp-dev-forecast"
VERSIONS = [
    {"training_job": "dsp-dev-forecast-20260313020000", METRIC: "0.231402", NAIVE_METRIC: "0.262010"},
    {"training_job": "dsp-dev-forecast-20260314020000", METRIC: "0.198765", NAIVE_METRIC: "0.262010"},
]
"""Two registered versions, oldest first, with the metadata the training state machine's Register writes."""
TRAINING = {
    "StartAt": "Register",
    "States": {
        "Register": {
            "Type": "Pass",
            "Result": {
                "ModelPackageArn": f"arn:aws:sagemaker:{MOTO_REGION}:123456789012:model-package/{GROUP}/3"
            },
            "End": True,
        }
    },
}
"""A stand-in for the training state machine moto can run: it ends as a manual-approval run does."""
PLATFORM = {
    "region": MOTO_REGION,
    "workgroup": "dsp-dev",
    "curated_database": "dsp_dev_curated",
    "analytics_database": "dsp_dev_analytics",
    "package_group": GROUP,
    "endpoint": "dsp-dev-forecast",
    "sandbox": "s3://dsp-dev-sandbox/users/data-scientist/",
}
"""The platform file's values but the training state machine's ARN, which moto makes."""


def execute(name: str, env: dict[str, str], probe: str = "", cells: slice = slice(None)) -> dict[str, Any]:
    """Run the ``cells`` of notebook ``name``, then ``probe``, in a new kernel with ``env`` added to the
    environment; the JSON the probe printed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells = [*notebook.cells[cells], nbformat.v4.new_code_cell(probe)]
    # No kernel directories: "python3" is ipykernel's own kernel on this interpreter, whatever is installed.
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    client = NotebookClient(notebook, timeout=60, km=kernel, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env={**os.environ, **env})
    printed = [output["text"] for output in notebook.cells[-1].outputs if output.get("name") == "stdout"]
    return json.loads("".join(printed)) if printed else {}


@pytest.fixture(scope="module")
def local(demo: Result, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """No platform file; the demo's zones."""
    home = tmp_path_factory.mktemp("home")
    return {"DSP_DEMO_DATA": str(demo.zones.root), "DSP_PLATFORM_FILE": str(home / ".dsp-platform.json")}


def newest_days(frame: pd.DataFrame, day: str, days: int) -> pd.DataFrame:
    """The rows of the newest ``days`` calendar days, counted from the newest ``day`` in ``frame``."""
    first = date.fromisoformat(frame[day].max()) - timedelta(days=days - 1)
    return frame[frame[day] >= first.isoformat()]


EXPLORE_PROBE = """
print(json.dumps({
    "mode": lake.mode(),
    "days": DAYS,
    "bars": [float(bar.get_height()) for bar in ax_revenue.patches],
    "stores": [label.get_text() for label in ax_revenue.get_xticklabels()],
    "reasons": {
        reason: [float(bar.get_height()) for bar in bars]
        for reason, bars in zip(by_reason.columns, ax_quarantine.containers, strict=True)
    },
    "ingest_days": list(by_reason.index),
}))
"""


def test_explore_lake_plots_each_stores_revenue_and_the_quarantine_reasons(
    demo: Result, local: dict[str, str]
) -> None:
    """One bar per store of the demo, as high as its revenue in the EMR step's features over the same
    days (the notebook sums the curated sale lines); a stacked bar per ingest day whose parts are the
    lines the Glue stage quarantined for each reason."""
    seen = execute("explore_lake.ipynb", local, "import json\n" + EXPLORE_PROBE)
    assert seen["mode"] == "local"
    revenue = newest_days(demo.features, "sale_date", seen["days"]).groupby("store_id")["revenue"].sum()
    assert seen["stores"] == sorted(revenue.index) and len(seen["stores"]) == SAMPLE["stores"]
    assert seen["bars"] == pytest.approx([float(value) for value in revenue], abs=0.005)

    quarantined = {
        day.isoformat(): {k: n for k, n in c.items() if k != "kept"} for day, c in demo.counts.items()
    }
    days = [day for day, reasons in sorted(quarantined.items()) if reasons]
    first = (date.fromisoformat(days[-1]) - timedelta(days=seen["days"] - 1)).isoformat()
    days = [day for day in days if day >= first]
    reasons = sorted({reason for day in days for reason in quarantined[day]})
    assert seen["ingest_days"] == days and len(days) > 1
    assert seen["reasons"] == {
        reason: [quarantined[day].get(reason, 0) for day in days] for reason in reasons
    }


def test_a_broken_cell_fails_the_notebooks_run(local: dict[str, str]) -> None:
    with pytest.raises(CellExecutionError, match="days must be a whole number of at least 1, got 0"):
        execute("explore_lake.ipynb", local, "lake.transactions(days=0)", cells=slice(0, 2))


@pytest.fixture(scope="module")
def endpoint_answer(demo: Result) -> dict[str, Any]:
    """What the demo's model answers, through the endpoint's handlers, for the features of the newest
    day: moto's endpoint gives it back to the notebook. Leaves the model loaded for ``input_fn``."""
    model = inference.model_fn(str(demo.zones.model))
    newest = demo.features[demo.features["sale_date"] == demo.features["sale_date"].max()]
    body = json.dumps({"instances": json.loads(newest[list(FEATURES)].to_json(orient="records"))})
    answer, _ = inference.output_fn(inference.predict_fn(inference.input_fn(body, inference.JSON), model), "")
    return {"stores": newest["store_id"].tolist(), **json.loads(answer)}


@pytest.fixture(scope="module")
def platform(
    moto: str,
    local: dict[str, str],
    endpoint_answer: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """A platform file naming moto's training state machine, package group (two versions) and endpoint
    (its answer queued), and the demo's zones for the lake reads; the notebook's environment."""
    requests.post(
        f"{moto}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=5
    )
    requests.post(
        f"{moto}/moto-api/static/sagemaker/endpoint-results",
        json={
            "region": MOTO_REGION,
            "results": [{"Body": json.dumps(endpoint_answer), "ContentType": "application/json"}],
        },
        timeout=5,
    )
    role = boto3.client("iam").create_role(RoleName="training", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = boto3.client("stepfunctions").create_state_machine(
        name="dsp-dev-training", definition=json.dumps(TRAINING), roleArn=role
    )["stateMachineArn"]
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    for metadata in VERSIONS:
        sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved",
            CustomerMetadataProperties=metadata,
            InferenceSpecification={
                "Containers": [
                    {"Image": "sklearn", "ModelDataUrl": f"s3://artifacts/{metadata['training_job']}.tar.gz"}
                ],
                "SupportedContentTypes": ["application/json", "text/csv"],
                "SupportedResponseMIMETypes": ["application/json", "text/csv"],
            },
        )
    path = tmp_path_factory.mktemp("studio") / ".dsp-platform.json"
    path.write_text(json.dumps({**PLATFORM, "training_state_machine": machine}))
    return {**local, "DSP_PLATFORM_FILE": str(path), "DSP_POLL_SECONDS": "0", "MACHINE": machine}


TRAIN_PROBE = """
print(json.dumps({
    "execution": execution["executionArn"],
    "status": status,
    "versions": json.loads(
        versions[["version", "training_job", "wape", "naive_wape"]].to_json(orient="records")
    ),
    "best": int(best["version"]),
    "request": request,
    "stores": forecast["store_id"].tolist(),
    "forecasts": forecast["forecast"].tolist(),
}))
"""


def test_train_and_compare_trains_lists_the_versions_and_forecasts_each_row(
    platform: dict[str, str], endpoint_answer: dict[str, Any]
) -> None:
    """The run started on the platform's state machine and followed to its end; both versions, newest
    first, with the WAPEs they carry; a request the model's handlers accept, of one row per store of the
    newest day, and one forecast per row."""
    seen = execute("train_and_compare.ipynb", platform, TRAIN_PROBE)
    machine = platform["MACHINE"]
    assert seen["execution"].startswith(machine.replace(":stateMachine:", ":execution:") + ":notebook-")
    assert seen["status"] == "SUCCEEDED"
    assert seen["versions"] == [
        {
            "version": number,
            "training_job": metadata["training_job"],
            "wape": float(metadata[METRIC]),
            "naive_wape": float(metadata[NAIVE_METRIC]),
        }
        for number, metadata in reversed(list(enumerate(VERSIONS, start=1)))
    ]
    assert seen["best"] == 2
    rows = inference.input_fn(seen["request"], inference.JSON)
    assert isinstance(rows, pd.DataFrame) and len(rows) == SAMPLE["stores"]
    assert seen["stores"] == endpoint_answer["stores"] and len(seen["forecasts"]) == SAMPLE["stores"]
    assert seen["forecasts"] == endpoint_answer["predictions"]


@pytest.fixture(scope="module")
def lake() -> ModuleType:
    """``notebooks/lake.py``, imported as the notebooks import it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(NOTEBOOKS))
        return importlib.import_module("lake")


@pytest.mark.parametrize(
    ("reader", "table"),
    [
        ("transactions", CURATED_TRANSACTIONS),
        ("daily_features", STORE_DAILY_FEATURES),
        ("quarantine_reasons", QUARANTINE),
    ],
)
def test_in_aws_the_readers_query_athena_and_return_what_the_local_mode_returns(
    lake: ModuleType,
    local: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reader: str,
    table: Table,
) -> None:
    """With a platform file and no demo folder, a reader sends its SQL to the platform's workgroup and
    the table's database through awswrangler (without CTAS); given the rows as Athena's CSV results
    carry them (decimals as Decimal, naive UTC times, untyped), it returns the local mode's frame."""
    for name, value in local.items():
        monkeypatch.setenv(name, value)
    expected = getattr(lake, reader)()
    calls: list[tuple[str, dict[str, Any]]] = []

    def read_sql_query(sql: str, **arguments: Any) -> pd.DataFrame:
        calls.append((sql, arguments))
        rows = expected.astype(object)
        for column in table.columns:
            if column.name not in rows:
                continue
            if column.type.startswith("decimal"):
                rows[column.name] = [Decimal(f"{value:.2f}") for value in expected[column.name]]
            elif column.type == "timestamp":
                rows[column.name] = expected[column.name].dt.tz_localize(None).astype(object)
        return rows

    monkeypatch.setitem(
        sys.modules, "awswrangler", SimpleNamespace(athena=SimpleNamespace(read_sql_query=read_sql_query))
    )
    path = tmp_path / ".dsp-platform.json"
    path.write_text(json.dumps({**PLATFORM, "training_state_machine": "arn:aws:states:::stateMachine:x"}))
    monkeypatch.setenv("DSP_PLATFORM_FILE", str(path))
    monkeypatch.delenv("DSP_DEMO_DATA")
    assert lake.mode() == "aws"
    pd.testing.assert_frame_equal(getattr(lake, reader)(), expected)
    ((sql, arguments),) = calls
    if table is STORE_DAILY_FEATURES:  # sold days only: the forecast row has no revenue yet
        assert expected["revenue"].notna().all() and "WHERE revenue IS NOT NULL" in sql
    session = arguments.pop("boto3_session")
    database = {"curated": "dsp_dev_curated", "analytics": "dsp_dev_analytics"}[table.zone]
    assert arguments == {"database": database, "workgroup": "dsp-dev", "ctas_approach": False}
    assert session.region_name == MOTO_REGION and f" FROM {table.name} " in sql


def test_a_platform_file_lacking_a_value_or_missing_is_one_clear_error(
    lake: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".dsp-platform.json"
    monkeypatch.setenv("DSP_PLATFORM_FILE", str(path))
    monkeypatch.delenv("DSP_DEMO_DATA", raising=False)
    with pytest.raises(
        FileNotFoundError, match=f"no platform file {path}: run in Studio or set DSP_PLATFORM_FILE"
    ):
        lake.Platform.load()
    assert lake.mode() == "local"
    path.write_text(json.dumps({**PLATFORM, "endpoint": 7, "extra": "ignored"}))
    with pytest.raises(ValueError, match=f"{path}: no text value for training_state_machine, endpoint$"):
        lake.Platform.load()
    assert lake.mode() == "aws"
