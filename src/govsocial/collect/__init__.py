"""Collection runs: which accounts, their cursors, the re-reading schedule, quotas, resume.

``collect.runs.collect`` walks every registered account in scope through its platform's
live-API client (``sources/<platform>/client.py``) and loads each response through the same
path as ``govsocial import`` (``store.ingest.load_file``), committing each page with its
cursor (``store.collecting``). docs/collect.md says how to use it.
"""
