"""Output people take away: tables written as CSV, JSON, JSON Lines, Parquet or XLSX.

Import from the modules (``govsocial.reports.tables``); this package loads nothing itself.
"""
