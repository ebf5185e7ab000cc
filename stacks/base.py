"""What every platform stack shares: naming, environment, tags and termination protection."""

from typing import Any

from aws_cdk import Duration, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.settings import Settings
from platform_constructs.data_lake import DataLake
from platform_constructs.personal_data import PersonalDataStore


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


def personal_data_store(
    scope: Construct,
    data_class: str,
    *,
    settings: Settings,
    key: kms.Key,
    lake: DataLake,
    removal_policy: RemovalPolicy,
) -> PersonalDataStore:
    """The store of ``data_class`` (``frames`` or ``captures``) under ``key``, as the settings say:
    its readers from ``security.personal_data_readers``, its retention from
    ``lake.personal_data_retention_days``, its access logs and housekeeping from ``lake``."""
    return PersonalDataStore(
        scope,
        data_class.capitalize(),
        data_class=data_class,
        key=key,
        readers=getattr(settings.security.personal_data_readers, data_class),
        retention=Duration.days(settings.personal_data_retention_days),
        access_logs=lake.access_logs,
        housekeeping=lake.housekeeping,
        removal_policy=removal_policy,
    )
