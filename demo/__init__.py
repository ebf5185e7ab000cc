"""The platform's data path on one machine: ``make demo`` (see :mod:`.pipeline` and :mod:`.report`)."""
