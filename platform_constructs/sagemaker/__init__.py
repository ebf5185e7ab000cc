"""SageMaker: the framework image, the roles, training, the model registry and the endpoint."""
