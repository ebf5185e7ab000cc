"""The Glue workflow that chains the ingest: schedule (or a manual start), crawler, ETL job."""

from aws_cdk import aws_glue as glue
from constructs import Construct


class IngestWorkflow(Construct):
    """A Glue workflow: a scheduled trigger (``schedule``, a Glue cron expression; None: on demand)
    starts ``crawler``; when the crawl succeeds a conditional trigger starts ``job``, whose own
    data-quality gate ends the chain. No manual step once scheduled. Exposes ``workflow``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        crawler: glue.CfnCrawler,
        job: glue.IJob,
        schedule: str | None,
    ) -> None:
        """
        :param crawler: the raw-zone crawler, first step.
        :param job: the ETL job, run after a successful crawl.
        :param schedule: ``cron(...)`` in UTC, or None to start the workflow by hand or API.
        """
        super().__init__(scope, construct_id)
        self.workflow = glue.Workflow(
            self, "Workflow", description="Raw uploads to curated data: crawl, then clean with a DQ gate"
        )
        start = [glue.Action.crawler(crawler)]
        if schedule is None:
            self.workflow.add_on_demand_trigger("Start", actions=start)
        else:
            self.workflow.add_scheduled_trigger(
                "Start",
                schedule=glue.TriggerSchedule.expression(schedule),
                start_on_creation=True,
                actions=start,
            )
        self.workflow.add_conditional_trigger(
            "AfterCrawl",
            start_on_creation=True,
            predicate=glue.Predicate(
                conditions=[glue.Condition.crawler(crawler, glue.CrawlerState.SUCCEEDED)]
            ),
            actions=[glue.Action.job(job)],
        )
