"""One place that turns "may this data be deleted?" into a removal policy, loudly when the answer is yes."""

from aws_cdk import Annotations, RemovalPolicy
from constructs import IConstruct


def data_removal_policy(scope: IConstruct, *, destroy: bool) -> RemovalPolicy:
    """RETAIN, or DESTROY with a warning annotation on ``scope`` so nobody deletes data by surprise."""
    if not destroy:
        return RemovalPolicy.RETAIN
    Annotations.of(scope).add_warning_v2(
        "platform:destroy-on-delete",
        "Data in this construct is DELETED when its stack is deleted (removal_policy: destroy).",
    )
    return RemovalPolicy.DESTROY
