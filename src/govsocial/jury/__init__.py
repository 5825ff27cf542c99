"""The jury stage: the web app's state (users, juries, ballots, the audit log) and the tally.

    store.py    the one SQLite file (WAL), its migrations, write transactions with their audit
    audit.py    the append-only, hash-chained audit log: append, verify, export
    users.py    accounts, argon2 hashes, sign-in with a throttle, who is acting
    juries.py   juries on a published run: panels, nominees, assignments, deadline
    ballots.py  drafts, recusals, submission, reopening, blind reading
    tally.py    the arithmetic: weighted criteria, standardised or Borda, Kendall's W, leniency
    closing.py  a jury's tally from its submitted ballots; closing: winners and champion

docs/jury.md says the rules, the formulas and their sources.
"""
