"""Sample retail data for every test, the demo and a first deployment: see :mod:`.generator`."""

from workloads.sample_data.generator import DIRTY_KINDS, Report, generate

__all__ = ["DIRTY_KINDS", "Report", "generate"]
