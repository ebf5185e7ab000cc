"""Kinesis Video workloads: the frame sampler that writes camera frames into the raw zone."""
