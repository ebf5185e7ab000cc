"""The AWS-managed scikit-learn image, resolved per region inside the template."""

from dataclasses import dataclass

from aws_cdk import Aws, CfnMapping, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from config import sagemaker_image

MAPPING_ID = "ScikitLearnImageRegistries"


@dataclass(frozen=True)
class FrameworkImage:
    """An image in AWS's registry account of the deploying region: ``uri`` for jobs and models,
    ``repository_arn`` for the pull permissions of the roles that run it."""

    uri: str
    repository_arn: str

    def grant_pull(self, role: iam.IRole) -> None:
        """Let ``role`` pull this image (the token action takes no resource)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[self.repository_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )


def scikit_learn_image(scope: Construct) -> FrameworkImage:
    """The scikit-learn image of ``config/sagemaker_image.py``: its registry account comes from a
    CloudFormation mapping keyed by region (one per stack), so an environment-agnostic template
    resolves it where it is deployed; a region the mapping lacks fails the deployment (and is a
    config error when the environment names its region)."""
    stack = Stack.of(scope)
    mapping = stack.node.try_find_child(MAPPING_ID)
    if not isinstance(mapping, CfnMapping):
        mapping = CfnMapping(
            stack,
            MAPPING_ID,
            mapping={region: {"Account": account} for region, account in sagemaker_image.REGISTRIES.items()},
        )
    account = mapping.find_in_map(Aws.REGION, "Account")
    repository = sagemaker_image.REPOSITORY
    return FrameworkImage(
        uri=f"{account}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{repository}:{sagemaker_image.TAG}",
        repository_arn=f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:{account}:repository/{repository}",
    )
