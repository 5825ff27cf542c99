"""Where posts come from: platform API clients and file importers, one sub-package each.

Everything leaving this package is typed: a :class:`~govsocial.sources.staging.Staged`
relation in the canonical columns, never raw dicts.
"""
