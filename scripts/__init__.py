"""Developer scripts run through the Makefile: synth summary and benchmark."""
