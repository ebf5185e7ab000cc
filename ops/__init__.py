"""``dsp``: operate a deployed environment from the command line (boto3), see :mod:`.cli`."""
