"""Metrics as Ibis expressions over the warehouse."""
