"""The published read model of an award run: an immutable folder the reports and the web app
read, so that reading never needs the warehouse (nor its write lock).

:func:`govsocial.publish.build.publish_run` writes it; :class:`govsocial.publish.model.ReadModel`
reads it. docs/read-model.md describes every file.
"""
