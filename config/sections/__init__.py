"""The sections of the settings model, one module per part of the platform.

``config.settings`` composes them into :class:`~config.settings.Settings`.
"""
