"""The commercial AWS regions the platform supports, in one place: settings refuse any other
``region``, and the tests run cfn-lint over every template for each of them.

A region is here when every CloudFormation resource type the platform deploys (and
``AWS::EMRServerless::Application``) is in that region's resource schemas shipped with cfn-lint,
and the SageMaker scikit-learn image has a registry there (``config/sagemaker_image.py``). Left
out, with the types they lack (cfn-lint 1.58): ``us-west-1`` (Kinesis Video, QuickSight),
``eu-north-1`` and ``eu-south-1`` (Kinesis Video, Budgets), ``af-south-1``, ``ap-southeast-3`` and
``eu-central-2`` (also the IoT role alias), ``ap-east-1``, ``ap-northeast-3`` and ``ca-west-1``
(QuickSight, Budgets), ``eu-south-2``, ``il-central-1`` and ``me-central-1`` (Budgets), the China
and GovCloud partitions, and the newer regions, which lack the image as well.
"""

SUPPORTED_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-2",
)
"""Region codes, sorted."""
