"""StudioStack: the data scientists' workspace, SageMaker Studio on the lake."""

from aws_cdk import Annotations, CfnOutput, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from config.settings import Settings
from platform_constructs.athena import AthenaWorkgroup
from platform_constructs.catalog import LakeCatalog
from platform_constructs.data_lake import DataLake
from platform_constructs.log_retention import RETENTION_BY_DAYS
from platform_constructs.network import PRIVATE_SUBNET_GROUP
from platform_constructs.python_modules import ROOT, entry_modules, stage_modules
from platform_constructs.removal import data_removal_policy
from platform_constructs.sagemaker.studio import StudioApps, StudioDomain
from platform_constructs.sagemaker.studio_roles import StudioRole, StudioWork
from stacks import outputs
from stacks.base import PlatformStack
from stacks.sagemaker_stack import SageMakerStack
from workloads.schema import CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_IMPORTS = ("notebooks/lake.py", "workloads/sagemaker/train.py", "workloads/sagemaker/contract.py")
"""The modules the starter notebooks import from the repository (a test holds this to their cells)."""
SANDBOX_PREFIX = "studio/sandbox/"
"""Where Studio users may write in the artifacts bucket."""
ROLES = {
    "data_scientist": ("Studio data scientists: query and read the lake, start training, invoke", False),
    "lead": ("Studio leads: what data scientists do, and approve or reject models", True),
}
"""Kind of user -> (role description, whether it approves models)."""
ROLE_IDS = {"data_scientist": "DataScientistRole", "lead": "LeadRole"}


def starter_files() -> list[str]:
    """What a user's space gets (paths relative to the repository, laid out as in it): the starter
    notebooks and every ``workloads`` module they import."""
    notebooks = [
        str(path.relative_to(ROOT))
        for path in sorted(NOTEBOOKS.iterdir())
        if path.suffix in (".ipynb", ".py", ".md")
    ]
    modules = {module for script in NOTEBOOK_IMPORTS for module in entry_modules(script)}
    return sorted({*notebooks, *(m for m in modules if m.startswith("workloads/"))})


class StudioStack(PlatformStack):
    """SageMaker Studio, configured by ``sagemaker.studio``: a domain (:class:`StudioDomain`) with a
    user profile and a private JupyterLab space per user, running as a data scientist or lead role
    (:class:`StudioRole`) that names every action on the lake, Athena, the training state machine,
    the registry and the endpoint. Apps run in the private subnets, ``VpcOnly`` where the network has
    interface endpoints (else SageMaker's internet access, with a synth warning); EFS and volumes
    are under the lake key (users' files are copies of lake data); idle JupyterLab apps stop.
    Exposes ``roles`` and ``studio``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        vpc: ec2.IVpc,
        lake: DataLake,
        catalog: LakeCatalog,
        athena: AthenaWorkgroup,
        sagemaker: SageMakerStack,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            suffix=outputs.STUDIO,
            description="Data science platform: SageMaker Studio, the data scientists' workspace",
        )
        config = settings.sagemaker.studio
        removal_policy = data_removal_policy(self, destroy=settings.destroy_on_delete)
        vpc_only = settings.network.interface_endpoints
        if not vpc_only:
            Annotations.of(self).add_warning_v2(
                "platform:studio-public-internet",
                "Studio apps use SageMaker's internet access here: the private subnets have no interface "
                "endpoints (set network.interface_endpoints: true for a VpcOnly domain).",
            )
        notebooks = s3_assets.Asset(self, "Notebooks", path=str(stage_modules(starter_files())))
        zones = lake.zones
        work = StudioWork(
            reads=[
                (zones[table.zone], f"{table.prefix}*")
                for table in (CURATED_TRANSACTIONS, QUARANTINE, STORE_DAILY_FEATURES)
            ],
            sandbox=(lake.artifacts, SANDBOX_PREFIX),
            athena=athena,
            databases=[catalog.database_names[zone] for zone in ("curated", "analytics")],
            training=sagemaker.training.state_machine,
            package_group=settings.forecast_name,
            endpoint=settings.forecast_name,
            notebooks=notebooks,
        )
        self.roles = {
            kind: StudioRole(self, ROLE_IDS[kind], description=text, work=work, approves=approves)
            for kind, (text, approves) in ROLES.items()
        }
        subnets = vpc.select_subnets(subnet_group_name=PRIVATE_SUBNET_GROUP).subnets
        self.studio = StudioDomain(
            self,
            "Studio",
            name=settings.name_prefix,
            auth=config.auth.upper(),
            vpc=vpc,
            subnets=subnets,
            vpc_only=vpc_only,
            key=lake.key,  # home folders hold copies of lake data: the same class, the same key
            roles=self.roles,
            default_role="data_scientist",
            users={user.name: user.role for user in config.users},
            apps=StudioApps(
                default_instance_type=config.default_instance_type,
                instance_types=config.allowed_instance_types,
                idle=Duration.minutes(config.idle_minutes),
                volume_gb=config.space_volume_gb,
            ),
            notebooks=notebooks,
            platform={
                "region": self.region,
                "workgroup": athena.name,
                "curated_database": catalog.database_names["curated"],
                "analytics_database": catalog.database_names["analytics"],
                "training_state_machine": sagemaker.training.state_machine.state_machine_arn,
                "package_group": settings.forecast_name,
                "endpoint": settings.forecast_name,
                "sandbox": lake.artifacts.s3_url_for_object(SANDBOX_PREFIX),
            },
            logs_key=logs_key,
            log_retention=RETENTION_BY_DAYS[settings.sagemaker.log_retention_days],
            removal_policy=removal_policy,
        )
        CfnOutput(self, outputs.STUDIO_DOMAIN, value=self.studio.domain_id, description="The Studio domain")
