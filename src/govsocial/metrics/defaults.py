"""The metric stage's choices a methodology can make, named without importing Ibis (the
methodology is read when the command line starts)."""

INTERACTIONS_VERSIONS = (1, 2)  # govsocial.metrics.interactions.DEFINITIONS (a test checks)
MAX_FOLLOWER_GAP_DAYS = 90  # see govsocial.metrics.facts
