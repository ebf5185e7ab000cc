"""What every platform stack shares: naming, environment, tags and termination protection."""

from typing import Any

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from config.settings import Settings


class PlatformStack(Stack):
    """A stack named ``<prefix>-<environment>-<suffix>``, in the configured account and region (or
    environment-agnostic when they are not set), termination-protected when the settings say so.

    The platform tags go on every taggable resource in the template and on the stack itself, from
    where CloudFormation also puts them on resources CDK adds out of reach of ``Tags`` (custom
    resource providers).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, suffix: str, **kwargs: Any
    ) -> None:
        tags = settings.resource_tags
        env = (
            Environment(account=settings.account, region=settings.region)
            if settings.account is not None
            else None
        )
        super().__init__(
            scope,
            construct_id,
            stack_name=f"{settings.name_prefix}-{suffix}",
            env=env,
            termination_protection=settings.termination_protection,
            tags=tags,
            **kwargs,
        )
        for key, value in tags.items():
            Tags.of(self).add(key, value)
