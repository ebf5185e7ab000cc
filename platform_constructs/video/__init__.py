"""Kinesis Video: the camera streams, device and viewer access, and the frame sampler."""
