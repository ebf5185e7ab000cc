"""Glue Data Catalog databases over the lake's zones."""

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct


class LakeCatalog(Construct):
    """One Glue database per lake zone, located at the zone bucket's root.

    Glue forces physical names: each database is ``<name_prefix>_<zone>`` with hyphens turned into
    underscores, so two copies of the platform can share an account. Databases are retained unless
    ``removal_policy`` is DESTROY. Exposes ``databases`` (zone -> ``CfnDatabase``) and
    ``database_names`` (zone -> name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        zones: Mapping[str, s3.IBucket],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name_prefix: prefix of the database names, e.g. ``dsp-dev``.
        :param zones: zone name -> the bucket holding that zone's data.
        :param removal_policy: RETAIN (default) or DESTROY.
        """
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.database_names = {zone: f"{name_prefix}_{zone}".replace("-", "_") for zone in zones}
        self.databases: dict[str, glue.CfnDatabase] = {}
        for zone, bucket in zones.items():
            database = glue.CfnDatabase(
                self,
                zone.capitalize(),
                catalog_id=account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=self.database_names[zone],
                    description=f"Tables of the {zone} zone of the data lake",
                    location_uri=bucket.s3_url_for_object(),
                ),
            )
            database.apply_removal_policy(removal_policy)
            self.databases[zone] = database
