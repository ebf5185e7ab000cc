"""PipelineStack: the steps in order, their guards, skipped services, the schedule, failures alarm."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app import create_app
from config.settings import load_settings
from ops import cli
from ops.commands import INGEST_DAY
from tests.conftest import ROOT, Synthesized
from tests.unit.expressions import evaluate
from tests.workloads.forecast_features import store_daily_features
from workloads.sagemaker import train
from workloads.sagemaker.contract import days_needed
from workloads.sample_data import generate

STACK = "Pipeline"
MACHINE = "PipelineStateMachine1814BD05"
STEPS = ["Crawl", "Clean", "Features", "Train", "Forecast", "Refresh"]
TRANSIENT = {
    "Glue.ThrottlingException",
    "Glue.OperationTimeoutException",
    "Glue.InternalServiceException",
    "Glue.AWSGlueException",
    "Glue.ConcurrentRunsExceededException",
    "StepFunctions.ExecutionLimitExceededException",
    "StepFunctions.AWSStepFunctionsException",
    "QuickSight.ThrottlingException",
    "QuickSight.InternalFailureException",
}
"""The throttling and service-side errors the integrations raise, written out here."""


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))  # type: ignore[no-any-return]


def _transitions(state: dict[str, Any]) -> set[str]:
    """Every state ``state`` may go to: Next, each choice, Default, each catch."""
    targets = {state.get("Next"), state.get("Default")}
    targets |= {choice["Next"] for choice in state.get("Choices", [])}
    targets |= {catch["Next"] for catch in state.get("Catch", [])}
    return {target for target in targets if target}


@dataclass(frozen=True)
class Walkthrough:
    """The documented first run: the commands it types, what they print, the states ``--follow`` lists."""

    commands: list[str]
    printed: list[str]
    states: list[str]


def _walkthrough() -> Walkthrough:
    """The transcript under docs/pipeline.md's "A first run" heading."""
    section = (ROOT / "docs" / "pipeline.md").read_text().split("## A first run", 1)[1].split("\n#", 1)[0]
    block = section.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    entered = [re.fullmatch(r"  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC  (\w+)", line) for line in block]
    return Walkthrough(
        commands=[line[2:] for line in block if line.startswith("$ ")],
        printed=[
            line
            for line, state in zip(block, entered, strict=True)
            if not line.startswith("$ ") and not state
        ],
        states=[state[1] for state in entered if state],
    )


def _main_path(states: dict[str, Any], start: str) -> list[str]:
    """State names from ``start`` along Next and the first matching branch of each choice."""
    path, name = [], start
    while name and name not in path:
        path.append(name)
        state = states[name]
        name = state.get("Next") or (state.get("Choices") or [{}])[0].get("Next")
    return path


def test_a_run_goes_crawl_clean_features_train_forecast_refresh(env: Synthesized) -> None:
    definition = _definition(env.raw(STACK))
    states = definition["States"]
    path = _main_path(states, definition["StartAt"])
    assert path[:3] == ["RunDate", "DateIsValid", "Crawl"]
    tasks = [
        name for name in path if states[name]["Type"] == "Task" and not name.endswith(("State", "Ingestion"))
    ]
    assert tasks[:5] == ["Crawl", "Clean", "Features", "Train", "Forecast"]
    assert [t for t in tasks if t.startswith("Refresh")] == [
        f"Refresh{d.title().replace('-', '')}"
        for d in (
            f"{env.settings.name_prefix}-transactions",
            f"{env.settings.name_prefix}-store-daily-features",
            f"{env.settings.name_prefix}-forecasts-vs-actuals",
            f"{env.settings.name_prefix}-forecast-accuracy",
        )
    ]
    assert path[-1] == "Done"
    assert states["Clean"]["Resource"].endswith(
        ":states:::glue:startJobRun.sync"
    )  # its DQ gate fails the job
    for nested in ("Features", "Train", "Forecast"):
        assert states[nested]["Resource"].endswith(":states:::states:startExecution.sync:2")
    forecast = states["Forecast"]["Arguments"]["Input"]
    assert evaluate(forecast["day"], date="2026-03-31") == "2026-04-01"  # the forecast row's day
    assert evaluate(forecast["run_id"], run_id="dsp-run") == "dsp-run"
    scoring = f"{env.settings.forecast_name}-scoring"
    assert scoring in json.dumps(states["Forecast"]["Arguments"]["StateMachineArn"])
    features = states["Features"]["Arguments"]["Input"]
    window = days_needed(env.settings.sagemaker.training.hyperparameters.validation_days)
    assert (
        evaluate(features["first_day"], date="2026-03-31"),
        evaluate(features["last_day"], date="2026-03-31"),
    ) == (
        (date(2026, 3, 31) - timedelta(days=window - 1)).isoformat(),
        "2026-03-31",
    )  # the days training needs, up to the run's date
    assert "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" in features  # linked to the run in the console


def test_the_run_date_defaults_to_yesterday_and_is_checked(env: Synthesized) -> None:
    states = _definition(env.raw(STACK))["States"]
    date = states["RunDate"]["Assign"]["date"]
    assert "$states.input.date" in date and "- 86400000" in date and env.settings.pipeline.utc_offset in date
    assert states[states["DateIsValid"]["Default"]]["Type"] == "Fail"


def test_every_task_retries_transient_errors_and_ends_a_failure_in_run_failed(env: Synthesized) -> None:
    states = _definition(env.raw(STACK))["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        (retry,) = task["Retry"]
        assert retry["BackoffRate"] >= 2 and retry["MaxAttempts"] >= 3, name
        assert set(retry["ErrorEquals"]) <= TRANSIENT, name  # named errors only: no rerun of a real failure
        catch = task["Catch"][-1]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "RunFailed", name
        assert catch["Assign"]["failed_step"] in STEPS, name
    assert tasks["Clean"]["Arguments"]["Timeout"] == env.settings.glue.timeout_minutes  # the job's own limit
    for nested in ("Features", "Train"):
        assert tasks[nested]["TimeoutSeconds"] > 0
        assert not [
            r for r in tasks[nested]["Retry"] if "States.Timeout" in r["ErrorEquals"]
        ]  # no rerun of hours
    failed = states["RunFailed"]
    assert failed["Type"] == "Fail" and "$failed_step" in failed["Cause"] and "$date" in failed["Cause"]


def test_polls_are_counted_on_every_way_into_the_loop(env: Synthesized) -> None:
    states = _definition(env.raw(STACK))["States"]
    assert states["Crawl"]["Assign"] == {"polls": 0}
    (running,) = [c for c in states["Crawl"]["Catch"] if c["ErrorEquals"] == ["Glue.CrawlerRunningException"]]
    assert running["Next"] == "WaitForCrawler" and running["Assign"] == {"polls": 0}  # already crawling
    assert states["CrawlerState"]["Assign"] == {"polls": "{% $polls + 1 %}"}
    choices = states["CrawlerReady"]["Choices"]
    assert "$polls >=" in choices[-1]["Condition"]  # the limit only after ready and failed


def test_failed_runs_reach_the_alarm_topic(env: Synthesized) -> None:
    (rule,) = env.resources(STACK, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": MACHINE}]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert "AlarmsTopic" in json.dumps(rule["Properties"]["Targets"])


def test_schedule_per_environment(env: Synthesized) -> None:
    schedules = list(env.resources(STACK, "AWS::Scheduler::Schedule").values())
    config = env.settings.pipeline
    if config.schedule is None:
        assert schedules == []
        return
    (schedule,) = schedules
    props = schedule["Properties"]
    assert (props["ScheduleExpression"], props["ScheduleExpressionTimezone"]) == (
        config.schedule,
        config.timezone,
    )
    assert props["Target"]["Arn"] == {"Ref": MACHINE}
    (queue,) = env.resources(STACK, "AWS::SQS::Queue")  # a start it cannot make is kept, and alarms
    assert props["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}


def test_logged_traced_and_time_limited(env: Synthesized) -> None:
    props = env.properties(STACK, MACHINE)
    assert (
        props["TracingConfiguration"] == {"Enabled": True} and props["LoggingConfiguration"]["Level"] == "ALL"
    )
    definition = _definition(env.raw(STACK))
    states = definition["States"]
    steps = [states["Clean"]["Arguments"]["Timeout"] * 60] + [
        states[n]["TimeoutSeconds"] for n in ("Features", "Train")
    ]
    polls = 3 * 60 * 60  # the crawl and two ingestions, an hour of checks each
    assert definition["TimeoutSeconds"] > sum(steps) + polls  # a step always times out first, into RunFailed


def test_services_switched_off_are_not_in_the_definition(tmp_path: Path) -> None:
    settings = load_settings("dev")
    off = {
        name: getattr(settings, name).model_copy(update={"enabled": False}) for name in ("emr", "quicksight")
    }
    app, _ = create_app(settings.model_copy(update=off), outdir=str(tmp_path))
    app.synth()
    states = _definition(json.loads((tmp_path / "Pipeline.template.json").read_text()))["States"]
    assert {"Crawl", "Clean", "Train"} <= set(states)
    assert "Features" not in states and not [name for name in states if name.startswith("Refresh")]
    assert "Forecast" not in states  # nothing writes the forecast row it would score
    assert _main_path(states, "Train")[-1] == "Done"


def test_the_documented_first_run_meets_every_steps_precondition(dev: Synthesized, tmp_path: Path) -> None:
    """The documented first run in dev, to the letter: ``dsp upload`` (its default sample), then ``dsp run``
    for the date it prints. Every state the transcript passes through is in the template and follows
    the one before; the Features step's range is uploaded and its last day is the run's date; the
    days it computes satisfy train.py's own history rule with dev's held-out days."""
    walkthrough = _walkthrough()
    upload, run = walkthrough.commands
    assert upload == ".venv/bin/dsp --env dev upload"
    arguments = cli.parser().parse_args(upload.split()[1:])
    assert arguments.env == "dev"
    sizes = cli.sample_sizes(arguments, dev.settings)
    report = generate(tmp_path, **sizes)
    uploaded = sorted({match[1] for file in report.files if (match := re.search(INGEST_DAY, file))})
    run_date = uploaded[-1]
    assert f"ingest days {uploaded[0]} .. {run_date} ({len(uploaded)}); run them end to end with:" in (
        walkthrough.printed
    )
    assert run == f".venv/bin/dsp --env dev run --date {run_date} --follow"

    definition = _definition(dev.raw(STACK))
    states = definition["States"]
    assert walkthrough.states[0] == definition["StartAt"] and walkthrough.states[-1] == "Done"
    for before, after in itertools.pairwise(walkthrough.states):
        assert after in _transitions(states[before]), (before, after)

    context = {"input": {"date": run_date}, "context": {"Execution": {"StartTime": "2026-12-01T00:00:00Z"}}}
    date_ = evaluate(states["RunDate"]["Assign"]["date"], states=context)
    assert date_ == run_date and evaluate(states["DateIsValid"]["Choices"][0]["Condition"], date=date_)
    features = states["Features"]["Arguments"]["Input"]
    first, last = (
        date.fromisoformat(evaluate(features[key], date=date_)) for key in ("first_day", "last_day")
    )
    computed = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    assert computed[-1] == run_date and set(computed) <= set(uploaded)  # the run's date must have sales
    # ... and the engine behind Features reaches AWS: EMR Serverless outside the VPC, or private
    # subnets with a route out (interface endpoints or NAT) for whatever runs in them
    network = dev.settings.network
    outside = [
        application
        for application in dev.resources("Emr", "AWS::EMRServerless::Application").values()
        if "NetworkConfiguration" not in application["Properties"]
    ]
    assert outside or network.interface_endpoints or network.nat_gateways

    validation_days = dev.settings.sagemaker.training.hyperparameters.validation_days
    lake = store_daily_features(
        stores=sizes["stores"], days=len(uploaded), start=date.fromisoformat(uploaded[0])
    )
    written = lake[lake["sale_date"].isin(computed)]  # a first run writes the features of its range
    assert train.history_shortfall(written, validation_days) is None

    note = states["Train"]["Assign"]["note"]
    assert evaluate(note, states={"result": {"Output": {"ModelPackageArn": "arn"}}}) == ""
    assert walkthrough.states[walkthrough.states.index("TrainingOutcome") + 1] == "Trained"


def test_a_run_with_too_little_history_still_refreshes_and_succeeds_with_a_note(dev: Synthesized) -> None:
    states = _definition(dev.raw(STACK))["States"]
    skipped = {"trained": False, "note": "skipped: not enough history (9 sale days, need 15)"}
    note = evaluate(states["Train"]["Assign"]["note"], states={"result": {"Output": skipped}})
    assert note == skipped["note"] and states["RunDate"]["Assign"]["note"] == ""
    (when,) = states["TrainingOutcome"]["Choices"]
    assert evaluate(when["Condition"], note=note) and not evaluate(when["Condition"], note="")
    assert states[when["Next"]]["Next"] == "Forecast"  # the approved model, if any, still forecasts
    assert states["Forecast"]["Next"].startswith("Refresh")  # and the dashboard still refreshes
    assert states["Done"]["Output"] == {"date": "{% $date %}", "note": "{% $note %}"}


def test_a_forecast_that_found_no_approved_model_adds_its_note(dev: Synthesized) -> None:
    note = _definition(dev.raw(STACK))["States"]["Forecast"]["Assign"]["note"]
    skipped = {"result": {"Output": {"forecast": False, "note": "forecast skipped: no approved model"}}}
    forecast = {"result": {"Output": {"forecast": True, "day": "2026-03-17", "model_version": 1}}}
    assert evaluate(note, states=forecast, note="") == ""
    assert evaluate(note, states=skipped, note="") == "forecast skipped: no approved model"
    assert (
        evaluate(note, states=skipped, note="skipped: not enough history")
        == "skipped: not enough history; forecast skipped: no approved model"
    )


def test_optional_stacks_do_not_hold_the_pipeline_back(env: Synthesized) -> None:
    """EMR, SageMaker and QuickSight are addressed by name: one that fails to deploy blocks no other."""
    # the manifest, not the artifacts' ``dependencies`` (jsii would then type the session's stacks as
    # plain artifacts)
    manifest = json.loads((env.outdir / "manifest.json").read_text())
    assert not set(manifest["artifacts"][STACK]["dependencies"]) & {"Emr", "SageMaker", "QuickSight"}
    read: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Fn::GetStackOutput" in value:
                read.add(value["Fn::GetStackOutput"]["StackName"])
            assert "Fn::ImportValue" not in value
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(env.raw(STACK))
    prefix = env.settings.name_prefix
    assert read <= {f"{prefix}-alarms", f"{prefix}-glue"}  # the alarm topic and key; the first two steps
