"""Where Ibis expressions run: DuckDB on the warehouse file, or Apache Spark.

Between the store (which holds the DuckDB connection) and the metrics (which build the
expressions): :func:`govsocial.compute.backend.open_backend` gives a :class:`Backend` on
either engine, and the same expression runs unchanged on both. No metric lives here.
"""
