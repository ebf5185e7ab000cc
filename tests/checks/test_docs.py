"""The generated docs match their sources: the architecture diagram and the idle cost tables (the
templates; in docs/ and in the README), the configuration page (the settings model and files)."""

from __future__ import annotations

from config.settings import available_environments, load_settings
from scripts.configuration import configuration_doc
from scripts.cost import idle_cost
from scripts.docs import (
    ARCHITECTURE,
    BEGIN,
    CONFIGURATION,
    COST,
    README,
    architecture_doc,
    cost_section,
    readme,
    with_section,
)
from scripts.templates import read_dependencies, read_templates
from tests.conftest import Synthesized

STALE = "stale: run `make docs` and commit docs/"


def test_architecture_diagram_is_up_to_date(dev: Synthesized) -> None:
    expected = architecture_doc(read_templates(dev.outdir), read_dependencies(dev.outdir))
    assert ARCHITECTURE.read_text() == expected, STALE


def test_idle_cost_tables_are_up_to_date(dev: Synthesized, prod: Synthesized) -> None:
    estimates = {env.settings.environment: idle_cost(read_templates(env.outdir)) for env in (dev, prod)}
    text = COST.read_text()
    assert BEGIN in text
    assert with_section(text, cost_section(estimates)) == text, STALE


def test_the_readme_shows_the_current_diagram_and_idle_totals(dev: Synthesized, prod: Synthesized) -> None:
    estimates = {env.settings.environment: idle_cost(read_templates(env.outdir)) for env in (dev, prod)}
    text = README.read_text()
    expected = readme(text, read_templates(dev.outdir), read_dependencies(dev.outdir), estimates)
    assert expected == text, STALE
    assert (
        "```mermaid\nflowchart LR" in text and f"- **dev**: {estimates['dev'].total:.2f} USD a month" in text
    )


def test_the_configuration_page_is_up_to_date_and_lists_every_key() -> None:
    environments = {environment: load_settings(environment) for environment in available_environments()}
    page = configuration_doc(environments)
    assert CONFIGURATION.read_text() == page, STALE
    # every key of the model has a row with a description, and each environment's column
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    keys = {row.split("`")[1] for row in rows}
    assert {
        "prefix",
        "sagemaker.training.max_wape",
        "sagemaker.forecast.drift_factor",
        "video.sampler.schedule",
    } <= keys
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 5 + len(environments) and cells[4], row
    assert "| `sagemaker.training.max_wape` | float | > 0, <= 1 |  |" in page
    assert "| `0.35` | `0.25` |" in page  # dev, then prod


def test_the_diagram_shows_every_stack_and_what_flows_between_them(dev: Synthesized) -> None:
    diagram = architecture_doc(read_templates(dev.outdir), read_dependencies(dev.outdir))
    for stack in dev.assembly.stacks:
        assert f"<b>{stack.stack_name}</b>" in diagram
    assert 'dsp_dev_data_lake -- "KMS key, S3 bucket" --> dsp_dev_glue' in diagram
    assert 'dsp_dev_glue -- "Glue crawler, Glue job" --> dsp_dev_pipeline' in diagram
    assert "5 x S3 bucket" in diagram and "Kinesis Video stream" in diagram
