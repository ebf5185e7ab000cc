"""PipelineStack: the steps in order, their guards, skipped services, the schedule, failures alarm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app import create_app
from config.settings import load_settings
from tests.conftest import Synthesized

STACK = "Pipeline"
MACHINE = "PipelineStateMachine1814BD05"
STEPS = ["Crawl", "Clean", "Features", "Train", "Refresh"]
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


def _main_path(states: dict[str, Any], start: str) -> list[str]:
    """State names from ``start`` along Next and the first matching branch of each choice."""
    path, name = [], start
    while name and name not in path:
        path.append(name)
        state = states[name]
        name = state.get("Next") or (state.get("Choices") or [{}])[0].get("Next")
    return path


def test_a_run_goes_crawl_clean_features_train_refresh(env: Synthesized) -> None:
    definition = _definition(env.raw(STACK))
    states = definition["States"]
    path = _main_path(states, definition["StartAt"])
    assert path[:3] == ["RunDate", "DateIsValid", "Crawl"]
    tasks = [
        name for name in path if states[name]["Type"] == "Task" and not name.endswith(("State", "Ingestion"))
    ]
    assert tasks[:4] == ["Crawl", "Clean", "Features", "Train"]
    assert [t for t in tasks if t.startswith("Refresh")] == [
        f"Refresh{d.title().replace('-', '')}"
        for d in (
            f"{env.settings.name_prefix}-transactions",
            f"{env.settings.name_prefix}-store-daily-features",
        )
    ]
    assert path[-1] == "Done"
    assert states["Clean"]["Resource"].endswith(
        ":states:::glue:startJobRun.sync"
    )  # its DQ gate fails the job
    for nested in ("Features", "Train"):
        assert states[nested]["Resource"].endswith(":states:::states:startExecution.sync:2")
    features = states["Features"]["Arguments"]["Input"]
    assert (features["first_day"], features["last_day"]) == ("{% $date %}", "{% $date %}")
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
    assert _main_path(states, "Train")[-1] == "Done"
