"""The rows' source read a slice at a time, and converted a few slices ahead in threads.

Every writer reads its ``RecordBatchReader`` through :func:`slices`, so memory stays bounded
whatever the number of rows and a batch's text stays under Arrow's 2 GB string limit. An error
of the source (a query failing mid-way, a file it reads going away) travels through the writers
as a :class:`SourceFailure`, so that it is not taken for a failure to write.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

SLICE_ROWS = 16_384  # rows converted at a time: bounded memory, Arrow's 2 GB string limit


class SourceFailure(Exception):
    """An error of the rows' source (not of writing), passed through the writers as it is."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def slices(reader: pa.RecordBatchReader, rows: int = SLICE_ROWS) -> Iterator[pa.RecordBatch]:
    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except OSError as exc:  # so that it is not taken for a failure to write
            raise SourceFailure(exc) from exc
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


def converted(
    reader: pa.RecordBatchReader, convert: Callable[[pa.RecordBatch], pa.Array]
) -> Iterator[tuple[pa.RecordBatch, pa.Array]]:
    """Each slice of rows with its text, in order. Slices are converted in threads (Arrow's
    kernels release the GIL) while the caller writes the ones before: a few in flight."""
    workers = min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        pending: collections.deque[tuple[pa.RecordBatch, Any]] = collections.deque()
        try:
            for batch in slices(reader):
                if batch.num_rows == 0:
                    continue
                pending.append((batch, pool.submit(convert, batch)))
                if len(pending) > workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()
