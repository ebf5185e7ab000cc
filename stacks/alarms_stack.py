"""AlarmsStack: where every failure of the platform is reported."""

from constructs import Construct

from config.settings import Settings
from platform_constructs.alarm_topic import AlarmTopic
from platform_constructs.removal import data_removal_policy
from stacks.base import PlatformStack


class AlarmsStack(PlatformStack):
    """The platform alarm topic (:class:`AlarmTopic`) with the ``alarms`` e-mail subscriptions.
    Service stacks route their failures to it; it comes before them so each can reach it from the
    day it lands. Exposes ``alarms`` (``.topic``, ``.key``)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix="alarms",
            description="Data science platform: alarm topic for every failure",
        )
        self.alarms = AlarmTopic(
            self,
            "Alarms",
            key_alias=f"alias/{settings.name_prefix}-alarms",
            emails=settings.alarms.emails,
            removal_policy=data_removal_policy(self, destroy=settings.destroy_on_delete),
        )
