"""AlarmsStack: where every failure of the platform is reported."""

from constructs import Construct

from config.settings import Settings
from platform_constructs.alarm_topic import AlarmTopic
from platform_constructs.failure_alerts import FailureAlerts, key_tampering
from platform_constructs.keys import logs_key
from platform_constructs.removal import data_removal_policy
from stacks.base import PlatformStack


class AlarmsStack(PlatformStack):
    """The platform alarm topic (:class:`AlarmTopic`) with the ``alarms`` e-mail subscriptions,
    and the operations key (``alias/<prefix>-<env>-operations``, rotating) that encrypts the topic
    and every log group of the platform: CloudWatch Logs of this account and region may use it.
    It comes first, so every stack can route its failures to the topic and encrypt its logs
    (one key instead of one per stack: each key costs 1 USD a month); the key disabled or scheduled
    for deletion notifies the topic. Exposes ``alarms`` (``.topic``, ``.key``), ``operations_key``
    and ``alerts``."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix="alarms",
            description="Data science platform: alarm topic for every failure, the operations key",
        )
        self.operations_key = logs_key(
            self,
            "OperationsKey",
            alias=f"alias/{settings.name_prefix}-operations",
            admins=settings.security.key_admins,
            description="Encrypts the platform's log groups and its alarm topic",
            removal_policy=data_removal_policy(self, destroy=settings.destroy_on_delete),
        )
        self.alarms = AlarmTopic(self, "Alarms", key=self.operations_key, emails=settings.alarms.emails)
        self.alerts = FailureAlerts(
            self,
            "Alerts",
            topic=self.alarms.topic,
            alerts={"OperationsKeyTampering": key_tampering([self.operations_key])},
        )
