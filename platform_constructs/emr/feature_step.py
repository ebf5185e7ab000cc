"""The feature-engineering Spark step's code, shipped as assets, and how to submit it."""

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from platform_constructs.lake_access import LakeAccessRole
from platform_constructs.python_modules import ROOT, modules_asset, workload_modules

SCRIPT = "workloads/emr/features_step.py"


class FeatureStep(Construct):
    """The entry script :mod:`workloads.emr.features_step` and a zip of the ``workloads`` modules
    it imports, as CDK assets that ``instance_role`` may read (those two objects only).
    ``arguments`` are the ``spark-submit`` arguments of a run over the lake's zones; append
    ``--first-day`` (and ``--last-day``). Exposes ``script``, ``modules`` and ``arguments``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw: s3.IBucket,
        curated: s3.IBucket,
        analytics: s3.IBucket,
        instance_role: LakeAccessRole,
    ) -> None:
        """
        :param raw: zone with the store list.
        :param curated: zone with the transactions.
        :param analytics: zone the features go to.
        :param instance_role: the cluster nodes' role.
        """
        super().__init__(scope, construct_id)
        self.script = s3_assets.Asset(self, "Script", path=str(ROOT / SCRIPT))
        self.modules = modules_asset(self, "Modules", modules=workload_modules(SCRIPT))
        for asset in (self.script, self.modules):
            instance_role.read_asset(asset)
        self.arguments = [
            "spark-submit",
            "--deploy-mode",
            "cluster",
            "--py-files",
            self.modules.s3_object_url,
            self.script.s3_object_url,
            "--curated-url",
            curated.s3_url_for_object(),
            "--raw-url",
            raw.s3_url_for_object(),
            "--analytics-url",
            analytics.s3_url_for_object(),
        ]
