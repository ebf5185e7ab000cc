"""The end-to-end pipeline: one day's data from the raw zone to a refreshed dashboard."""

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from platform_constructs.dead_letters import alarmed_dead_letters
from platform_constructs.nag import acknowledge_own_policy, acknowledge_wildcards
from platform_constructs.state_machines import (
    DAY_MILLIS,
    PICTURE,
    PollStates,
    days_after,
    logged_state_machine,
    own_role,
    poll_until,
    valid_day,
)

POLL = Duration.seconds(60)
POLLS = 60
"""The most status checks of one crawl or one ingestion (an hour at one a minute)."""
GLUE_API = ("Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException")
"""Transient errors of Glue API calls (aws-sdk integration)."""
GLUE_JOB = ("Glue.AWSGlueException", "Glue.ConcurrentRunsExceededException")
"""Transient errors of the optimized Glue job integration (starting the run)."""
NESTED = ("StepFunctions.ExecutionLimitExceededException", "StepFunctions.AWSStepFunctionsException")
"""Transient errors of starting a nested execution."""
QUICKSIGHT_API = ("QuickSight.ThrottlingException", "QuickSight.InternalFailureException")


@dataclass(frozen=True)
class PipelineSteps:
    """What the pipeline runs, each None when its service is off: the raw crawler's name, the ETL
    job's name (its data-quality gate fails the job), the EMR feature run, the forecast training
    and the Forecast step's state machines, the QuickSight dataset IDs to re-import, and each
    step's time limit.
    ``feature_days``: how many days, up to the run's date, the feature run recomputes (what
    training needs, so a first run over a fresh upload can train)."""

    crawler: str | None
    etl_job: str | None
    features: sfn.IStateMachine | None
    training: sfn.IStateMachine | None
    forecast: sfn.IStateMachine | None
    datasets: Sequence[str]
    timeouts: dict[str, Duration]
    feature_days: int


class PlatformPipeline(Construct):
    """A standard state machine that runs one day end to end, skipping the services that are off: ``Crawl``
    (start the raw crawler, poll until it is ready again), ``Clean`` (the Glue ETL job; a failed data-
    quality gate fails it and so stops the run), ``Features`` (the EMR feature run for the
    ``feature_days`` up to the date: the date must have transactions, earlier days without any are
    skipped), ``Train`` (training, gate and deploy; when training found too little history,
    ``TrainingSkipped`` and the run goes on, else ``Trained``), ``Forecast`` (the approved model scores
    the day after the date, the forecast row the Features step wrote, into ``store_forecasts``; with no
    approved model yet it forecasts nothing and the run goes on), ``Refresh`` (a SPICE ingestion per
    dataset, polled until complete). Input ``{"date": "yyyy-mm-dd"}``; without it, yesterday at
    ``utc_offset``. ``Done`` outputs ``{"date", "note"}``: the note says why training or the forecast was
    skipped, empty otherwise. Every step retries throttling and transient errors with backoff, has a time
    limit, and on failure ends the run in ``RunFailed`` with the step, the date and the cause. A rerun of
    a date is safe (the steps overwrite what the day produced). With ``schedule``, an EventBridge
    Scheduler schedule in ``time_zone`` starts it; a start it cannot make lands in a dead-letter queue
    that alarms on ``alarm_topic``. Logs (all events, encrypted) and X-Ray tracing are on. Exposes
    ``state_machine`` and ``schedule`` (or None)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        steps: PipelineSteps,
        utc_offset: str,
        schedule: str | None,
        time_zone: str,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param steps: what to run.
        :param utc_offset: ``+hhmm``: the fixed offset that decides "yesterday".
        :param schedule: a ``cron()`` or ``rate()`` expression, or None (started by hand).
        :param time_zone: the IANA time zone of ``schedule``.
        :param alarm_topic: where a start the schedule could not make is reported.
        :param logs_key: encrypts the state machine's log group.
        :param log_retention: how long its logs are kept.
        :param removal_policy: of the log group; default RETAIN.
        """
        super().__init__(scope, construct_id)
        self._steps = steps
        stack = Stack.of(self)
        failed = sfn.Fail.jsonata(
            self,
            "RunFailed",
            error="{% $failed_step %}",
            cause="{% 'Step ' & $failed_step & ' failed for ' & $date & ': ' & "
            "($exists($states.input.Cause) ? $states.input.Cause : $string($states.input)) %}",
        )
        self._failed = failed
        run_date = sfn.Pass.jsonata(
            self,
            "RunDate",
            assign={
                "date": "{% $string($exists($states.input.date) ? $states.input.date : "
                f"$fromMillis($toMillis($states.context.Execution.StartTime) - {DAY_MILLIS}, "
                f"'{PICTURE}', '{utc_offset}')) %}}",
                "run_id": "{% $replace($states.context.Execution.Name, /[^A-Za-z0-9_-]/, '_') %}",
                "note": "",
            },
        )
        bad_date = sfn.Fail.jsonata(
            self,
            "BadDate",
            error="BadInput",
            cause="{% 'date must be yyyy-mm-dd, got ' & $string($date) %}",
        )
        check = sfn.Choice.jsonata(self, "DateIsValid")
        chain = sfn.Chain.start(run_date).next(check)
        body: list[sfn.IChainable] = []
        if steps.crawler is not None:
            body.append(self._crawl(steps.crawler))
        if steps.etl_job is not None:
            body.append(self._clean(steps.etl_job))
        if steps.features is not None:
            first_day = f"{{% {days_after('date', 1 - steps.feature_days)} %}}"
            body.append(
                self._nested("Features", steps.features, {"first_day": first_day, "last_day": "{% $date %}"})
            )
        if steps.training is not None:
            body.append(self._train(steps.training))
        if steps.forecast is not None:
            body.append(self._forecast(steps.forecast))
        for dataset in steps.datasets:
            body.append(self._refresh(dataset))
        succeed = sfn.Succeed.jsonata(self, "Done", outputs={"date": "{% $date %}", "note": "{% $note %}"})
        first: sfn.IChainable = succeed
        if body:
            first = body[0]
            current = sfn.Chain.start(body[0])
            for step in body[1:]:
                current = current.next(step)
            current.next(succeed)
        check.when(valid_day("date"), first)
        check.otherwise(bad_date)

        self.state_machine = logged_state_machine(
            self,
            definition=chain,
            timeout=self._run_limit(),
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
            jsonata=True,
        )
        self._acknowledge(stack)
        self.schedule: scheduler.Schedule | None = None
        if schedule is not None:
            starter = iam.Role(
                self,
                "ScheduleRole",
                assumed_by=iam.ServicePrincipal(
                    "scheduler.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                ),
                description="Starts the pipeline on its schedule",
            )
            self.schedule = scheduler.Schedule(
                self,
                "Schedule",
                description="Runs yesterday's data end to end",
                schedule=scheduler.ScheduleExpression.expression(schedule, TimeZone.of(time_zone)),
                target=scheduler_targets.StepFunctionsStartExecution(
                    self.state_machine,
                    input=scheduler.ScheduleTargetInput.from_object({}),
                    role=starter,
                    dead_letter_queue=alarmed_dead_letters(
                        self,
                        "ScheduleDeadLetters",
                        topic=alarm_topic,
                        description="Pipeline: the schedule could not start a run (see its dead letters)",
                    )[0],
                ),
            )
            acknowledge_own_policy(starter, "The schedule's own role: it may start this state machine only.")

    def _run_limit(self) -> Duration:
        """The run's own limit: every step's limit and poll budget, plus half an hour, so a step
        always times out (into ``RunFailed``) before the run does."""
        steps = self._steps
        minutes = sum(
            steps.timeouts[step].to_minutes()
            for step, present in (
                ("Clean", steps.etl_job),
                ("Features", steps.features),
                ("Train", steps.training),
                ("Forecast", steps.forecast),
            )
            if present is not None
        )
        polled = (steps.crawler is not None) + len(steps.datasets)
        return Duration.minutes(minutes + polled * POLLS * POLL.to_minutes() + 30)

    def _guard(self, task: sfn.TaskStateBase | sfn.CustomState, step: str, transient: Sequence[str]) -> None:
        """Retry the ``transient`` errors (throttling, service-side failures) with backoff; on
        anything else end the run in ``RunFailed`` naming ``step``."""
        task.add_retry(errors=list(transient), interval=Duration.seconds(10), max_attempts=4, backoff_rate=2)
        task.add_catch(self._failed, assign={"failed_step": step}, outputs="{% $states.errorOutput %}")

    def _crawl(self, crawler: str) -> sfn.IChainable:
        """Start the crawler (one already running is fine) and poll until it is ready again."""
        stack = Stack.of(self)
        arn = stack.format_arn(service="glue", resource="crawler", resource_name=crawler)
        start = tasks.CallAwsService.jsonata(
            self,
            "Crawl",
            service="glue",
            action="startCrawler",
            iam_resources=[arn],
            parameters={"Name": crawler},
            assign={"polls": 0},
        )
        status = tasks.CallAwsService.jsonata(
            self,
            "CrawlerState",
            service="glue",
            action="getCrawler",
            iam_resources=[arn],
            parameters={"Name": crawler},
            task_timeout=sfn.Timeout.duration(Duration.minutes(1)),
            assign={"polls": "{% $polls + 1 %}"},
        )
        self._guard(status, "Crawl", GLUE_API)
        ready = "$states.input.Crawler.State = 'READY'"
        chain = self._poll(
            start,
            status,
            step="Crawl",
            names=PollStates("WaitForCrawler", "CrawlerReady", "Crawled", "CrawlFailed", "CrawlTooSlow"),
            done=f"{ready} and $not($states.input.Crawler.LastCrawl.Status = 'FAILED')",
            failed=ready,
            cause="$exists($states.input.Crawler.LastCrawl.ErrorMessage) ? "
            "$states.input.Crawler.LastCrawl.ErrorMessage : 'the last crawl failed'",
            too_slow=f"the crawler was not ready again after {POLLS} checks a minute apart",
            busy=["Glue.CrawlerRunningException"],
        )
        self._guard(start, "Crawl", GLUE_API)
        return chain

    def _clean(self, job: str) -> sfn.IChainable:
        task = tasks.GlueStartJobRun.jsonata(
            self,
            "Clean",
            glue_job_name=job,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            # Glue stops the run at the job's own limit; CDK passes this as the run's Timeout.
            task_timeout=sfn.Timeout.duration(self._steps.timeouts["CleanRun"]),
        )
        self._guard(task, "Clean", GLUE_JOB)
        return task

    def _nested(
        self,
        step: str,
        machine: sfn.IStateMachine,
        payload: dict[str, str],
        assign: dict[str, str] | None = None,
    ) -> sfn.TaskStateBase:
        task = tasks.StepFunctionsStartExecution.jsonata(
            self,
            step,
            state_machine=machine,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            input=sfn.TaskInput.from_object(payload),
            associate_with_parent=True,
            task_timeout=sfn.Timeout.duration(self._steps.timeouts[step]),
            assign=assign,
        )
        self._guard(task, step, NESTED)
        return task

    def _train(self, machine: sfn.IStateMachine) -> sfn.IChainable:
        """The training run, then ``TrainingSkipped`` when it trained nothing for too little history
        (its output's ``note`` becomes the run's), else ``Trained``."""
        output = "$states.result.Output"
        train = self._nested(
            "Train",
            machine,
            {},
            assign={
                "note": f"{{% $exists({output}.note) and {output}.trained = false ? {output}.note : '' %}}"
            },
        )
        skipped = sfn.Pass.jsonata(
            self, "TrainingSkipped", comment="Not enough history yet: no model this run"
        )
        trained = sfn.Pass.jsonata(self, "Trained")
        outcome = sfn.Choice.jsonata(self, "TrainingOutcome")
        outcome.when(sfn.Condition.jsonata("{% $note != '' %}"), skipped).otherwise(trained)
        train.next(outcome)
        return sfn.Chain.custom(train, [skipped, trained], train)

    def _forecast(self, machine: sfn.IStateMachine) -> sfn.IChainable:
        """The Forecast step for the day after the run's date; a note when it forecast nothing."""
        output = "$states.result.Output"
        return self._nested(
            "Forecast",
            machine,
            {
                "day": f"{{% {days_after('date', 1)} %}}",
                "run_id": "{% $run_id %}",
            },
            assign={
                "note": f"{{% $exists({output}.note) ? ($note = '' ? {output}.note : $note & '; ' & "
                f"{output}.note) : $note %}}"
            },
        )

    def _refresh(self, dataset: str) -> sfn.IChainable:
        """Start a SPICE ingestion of ``dataset`` and poll until it completes."""
        stack = Stack.of(self)
        arn = stack.format_arn(service="quicksight", resource="dataset", resource_name=dataset)
        suffix = dataset.title().replace("-", "")
        ingestion_id = {
            "AwsAccountId": Aws.ACCOUNT_ID,
            "DataSetId": dataset,
            "IngestionId": "{% $substring($date & '-' & $run_id, 0, 128) %}",
        }
        start = tasks.CallAwsService.jsonata(
            self,
            f"Refresh{suffix}",
            service="quicksight",
            action="createIngestion",
            iam_resources=[f"{arn}/ingestion/*"],
            parameters=ingestion_id,
            assign={"polls": 0},
        )
        self._guard(start, "Refresh", QUICKSIGHT_API)
        status = tasks.CallAwsService.jsonata(
            self,
            f"{suffix}Ingestion",
            service="quicksight",
            action="describeIngestion",
            iam_resources=[f"{arn}/ingestion/*"],
            parameters=ingestion_id,
            assign={"polls": "{% $polls + 1 %}"},
        )
        self._guard(status, "Refresh", QUICKSIGHT_API)
        ingestion = "$states.input.Ingestion"
        return self._poll(
            start,
            status,
            step="Refresh",
            names=PollStates(
                f"WaitFor{suffix}",
                f"{suffix}Complete",
                f"{suffix}Refreshed",
                f"{suffix}IngestionFailed",
                f"{suffix}TooSlow",
            ),
            done=f"{ingestion}.IngestionStatus = 'COMPLETED'",
            failed=f"{ingestion}.IngestionStatus in ['FAILED', 'CANCELLED']",
            cause=f"$exists({ingestion}.ErrorInfo) ? $string({ingestion}.ErrorInfo) : "
            f"{ingestion}.IngestionStatus",
            too_slow=f"ingestion not complete after {POLLS} checks a minute apart",
        )

    def _poll(
        self,
        start: sfn.TaskStateBase,
        status: sfn.TaskStateBase,
        *,
        step: str,
        names: PollStates,
        done: str,
        failed: str,
        cause: str,
        too_slow: str,
        busy: Sequence[str] = (),
    ) -> sfn.IChainable:
        """:func:`poll_until` a minute apart, at most :data:`POLLS` checks; a failed or too slow
        poll fails the run in ``step``."""

        def end(state: str, message: str) -> sfn.IChainable:
            return sfn.Pass.jsonata(
                self, state, assign={"failed_step": step}, outputs={"Cause": message}
            ).next(self._failed)

        return poll_until(
            self,
            start,
            status,
            names=names,
            done=done,
            failed=failed,
            cause=cause,
            too_slow=too_slow,
            polls=POLLS,
            interval=POLL,
            end=end,
            busy=busy,
        )

    def _acknowledge(self, stack: Stack) -> None:
        role = own_role(self.state_machine)
        resources: list[str] = ["*"]
        for dataset in self._steps.datasets:
            arn = stack.format_arn(service="quicksight", resource="dataset", resource_name=dataset)
            resources.append(f"{arn}/ingestion/*")
        for machine in (self._steps.features, self._steps.training, self._steps.forecast):
            if machine is not None:
                name = stack.split_arn(machine.state_machine_arn, ArnFormat.COLON_RESOURCE_NAME).resource_name
                resources.append(
                    stack.format_arn(
                        service="states",
                        resource="execution",
                        resource_name=f"{name}*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                )
        acknowledge_wildcards(
            role,
            reason="Ingestions and nested executions are named at run time under the platform's datasets "
            "and state machines; X-Ray and the log delivery actions take no resource.",
            resources=resources,
        )
        acknowledge_own_policy(role, "The pipeline's own role: its steps' jobs, machines and datasets only.")
