"""Helpers every layer may use: atomic file writes, the torch device, logging, runtime knobs, workers."""
