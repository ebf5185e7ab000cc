"""The floor of the benchmark: an empty CDK app (no stacks), synthesized as `cdk init` would.

With the argument ``bare`` it also skips CDK's built-in CloudFormation validation, as app.py does:
that is the cost of starting jsii and the CDK alone.
"""

import sys

from aws_cdk import App

App(builtin_cloud_formation_validation=sys.argv[1:] != ["bare"]).synth()
