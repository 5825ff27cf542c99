"""Methodologies, eligibility, fair ranking and nominations with evidence."""
