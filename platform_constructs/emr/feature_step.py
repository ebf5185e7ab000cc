"""The feature-engineering Spark step's code, shipped as assets, and how to submit it."""

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.python_modules import ROOT, modules_asset, workload_modules

SCRIPT = "workloads/emr/features_step.py"


class FeatureStep(Construct):
    """The entry script :mod:`workloads.emr.features_step` and a zip of the ``workloads`` modules
    it imports, as CDK assets; both engines (an EMR cluster step, an EMR Serverless job) run these
    same two objects. ``script_arguments`` are the script's arguments for a run over the lake's
    zones; ``arguments`` the whole ``spark-submit`` command line of a cluster step. Append
    ``--first-day`` (and ``--last-day``) to either. Exposes ``script``, ``modules``,
    ``script_arguments`` and ``arguments``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw: s3.IBucket,
        curated: s3.IBucket,
        analytics: s3.IBucket,
    ) -> None:
        """
        :param raw: zone with the store list.
        :param curated: zone with the transactions.
        :param analytics: zone the features go to.
        """
        super().__init__(scope, construct_id)
        self.script = s3_assets.Asset(self, "Script", path=str(ROOT / SCRIPT))
        self.modules = modules_asset(self, "Modules", modules=workload_modules(SCRIPT))
        self.script_arguments = [
            "--curated-url",
            curated.s3_url_for_object(),
            "--raw-url",
            raw.s3_url_for_object(),
            "--analytics-url",
            analytics.s3_url_for_object(),
        ]
        self.arguments = [
            "spark-submit",
            "--deploy-mode",
            "cluster",
            "--py-files",
            self.modules.s3_object_url,
            self.script.s3_object_url,
            *self.script_arguments,
        ]

    def grant_read(self, role: LakeAccessRole) -> None:
        """Let ``role`` read the script and the modules zip (those two objects only)."""
        for asset in (self.script, self.modules):
            role.read_asset(asset)
