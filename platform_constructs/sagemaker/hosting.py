"""How the forecast endpoint hosts a model: one description shared by the baseline (CloudFormation)
and by every deployment of the deploy state machine (SageMaker API calls), so both agree."""

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from config.settings import EndpointSettings
from platform_constructs.personal_data import PersonalDataStore

VARIANT = "AllTraffic"
"""The endpoint's one production variant; auto scaling targets it by this name."""
SERVING_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",  # inside the model: no download at start
    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
}
"""The scikit-learn container's serving variables: the handlers ship in the model under ``code/``."""
CONTENT_TYPES = ("application/json", "text/csv")
RESPONSE_TYPES = ("application/json", "text/csv")


@dataclass(frozen=True)
class Hosting:
    """Where and how models of the endpoint run. Serverless endpoints cannot join a VPC, isolate
    the container's network or capture data (SageMaker's limits), so those apply to instance
    endpoints: private subnets, network isolation, and ``data_capture_percent`` of requests and
    responses captured to ``captures`` (a bucket under a key of its own, which an instance
    endpoint must have). ``key`` encrypts the endpoint config's storage."""

    endpoint_name: str
    settings: EndpointSettings
    role: iam.IRole
    key: kms.IKey
    subnet_ids: list[str]
    security_group_ids: list[str]
    captures: PersonalDataStore | None

    @property
    def on_instances(self) -> bool:
        """True for an instance-based endpoint, False for serverless."""
        return self.settings.instances is not None

    @property
    def keys(self) -> list[kms.IKey]:
        """Every key an endpoint config names: the storage key, and the captures' on instances.
        Whoever creates a config or an endpoint from it gets :func:`grant_for_aws_resources` on
        each (the documentation names the storage key; the capture key is treated alike)."""
        return [self.key] + ([self.captures.key] if self.captures is not None else [])

    def variant(self, model_name: str) -> dict[str, Any]:
        """The production variant serving ``model_name`` (SageMaker API / CloudFormation shape)."""
        variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": model_name}
        if self.settings.serverless is not None:
            serverless = self.settings.serverless
            variant["ServerlessConfig"] = {
                "MemorySizeInMB": serverless.memory_mb,
                "MaxConcurrency": serverless.max_concurrency,
            }
        else:
            assert self.settings.instances is not None
            variant |= {
                "InstanceType": self.settings.instances.instance_type,
                "InitialInstanceCount": self.settings.instances.min_instances,
                "InitialVariantWeight": 1,
            }
        return variant

    def data_capture(self) -> dict[str, Any] | None:
        """Data capture of an instance endpoint, None for serverless."""
        if self.settings.instances is None:
            return None
        if self.captures is None:
            raise ValueError(
                f"{self.endpoint_name}: an instance endpoint captures data, and has no captures store"
            )
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.settings.instances.data_capture_percent,
            "DestinationS3Uri": self.captures.bucket.s3_url_for_object(),
            "KmsKeyId": self.captures.key.key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }

    def network(self) -> dict[str, Any]:
        """The model's network settings: VPC and isolation on instances, nothing for serverless."""
        if not self.on_instances:
            return {}
        return {
            "VpcConfig": {"Subnets": self.subnet_ids, "SecurityGroupIds": self.security_group_ids},
            "EnableNetworkIsolation": True,
        }

    def endpoint_config(self, model_name: str) -> dict[str, Any]:
        """``CreateEndpointConfig`` arguments (without the name) for ``model_name``."""
        config: dict[str, Any] = {
            "KmsKeyId": self.key.key_arn,
            "ProductionVariants": [self.variant(model_name)],
        }
        capture = self.data_capture()
        if capture is not None:
            config["DataCaptureConfig"] = capture
        return config
