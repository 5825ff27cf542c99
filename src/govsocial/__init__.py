"""govsocial: monitor government social media and run evidence-based awards on it."""

__version__ = "0.1.0"
