"""The contract between the stacks and the ops command line (``dsp``): each stack's name suffix and
the outputs ``dsp`` finds the deployed platform by. The stacks create their outputs under these
keys, ``dsp`` reads them from CloudFormation, and a test holds both to the synthesized templates.
Plain Python: the command line imports it without CDK."""

DATA_LAKE = "data-lake"
GLUE = "glue"
EMR = "emr"
SAGEMAKER = "sagemaker"
VIDEO = "video"
QUICKSIGHT = "quicksight"
PIPELINE = "pipeline"
STUDIO = "studio"

RAW_BUCKET = "RawBucket"
"""Data lake: the raw zone's bucket name."""
ETL_JOB = "EtlJob"
"""Glue: the ETL job's name."""
CRAWLER = "Crawler"
"""Glue: the raw crawler's name."""
FEATURE_RUNS = "TransientStateMachine"
"""EMR: the feature run's state machine ARN (either engine; the key predates EMR Serverless)."""
FEATURE_APPLICATION = "FeatureApplication"
"""EMR: the EMR Serverless application that runs the feature jobs (serverless engine only)."""
TRAINING = "TrainingStateMachine"
"""SageMaker: the training state machine ARN."""
FORECAST_RUNS = "ForecastStateMachine"
"""SageMaker: the Forecast step's state machine ARN."""
FORECASTS = "ForecastsUrl"
"""SageMaker: the ``s3://`` URL of the ``store_forecasts`` table."""
ENDPOINT = "EndpointName"
"""SageMaker: the forecast endpoint's name."""
STREAMS = "StreamNames"
"""Video: the camera streams' names, comma-separated."""
FRAMES = "FramesUrl"
"""Video: ``s3://<frames bucket>/`` where sampled frames land."""
DATASETS = "DataSets"
"""QuickSight: the SPICE dataset IDs, comma-separated."""
RUNS = "StateMachine"
"""Pipeline: the end-to-end state machine ARN."""
STUDIO_DOMAIN = "DomainId"
"""Studio: the SageMaker Studio domain's ID."""

READ_BY_DSP = {
    DATA_LAKE: (RAW_BUCKET,),
    GLUE: (ETL_JOB, CRAWLER),
    EMR: (FEATURE_RUNS, FEATURE_APPLICATION),
    SAGEMAKER: (TRAINING, ENDPOINT, FORECASTS),
    VIDEO: (STREAMS, FRAMES),
    QUICKSIGHT: (DATASETS,),
    PIPELINE: (RUNS,),
    STUDIO: (STUDIO_DOMAIN,),
}
"""Stack suffix -> the output keys ``dsp`` reads from that stack."""

BUDGET_TAGS = ("project", "environment")
"""The platform tags the budget filters on (Observability): each must be an active cost-allocation
tag, which ``dsp doctor`` checks."""
