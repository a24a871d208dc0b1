"""Rejected rows of one source object: counted, the first one kept for the
error message, all of them written to a CSV file for inspection in S3."""

import csv
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from superstore_loader.columns import SOURCE_COLUMNS


@dataclass(frozen=True)
class Reject:
    line: int
    column: str
    reason: str
    fields: Sequence[str]


def printable(text: str) -> str:
    """Show bytes that could not be decoded (kept as surrogates) as \\x.. escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Rejects:
    def __init__(self) -> None:
        self.header: Sequence[str] = [c.source for c in SOURCE_COLUMNS]  # replaced by the file's own header
        self.first: Reject | None = None
        self.rows = 0
        self._last_line = 0

    def __bool__(self) -> bool:
        return self.first is not None

    def add_file(self, line: int, reason: str) -> None:
        """The object as a whole is refused (not CSV text, no rows): no row to count."""
        self.whole_file = True
        self.add(Reject(line, "", reason, []), counts=False)

    whole_file = False

    def add(self, reject: Reject, counts: bool = True) -> None:
        if self.first is None:
            # On disk, not in memory: a wholly wrong file rejects every row.
            self._file = tempfile.TemporaryFile()
            self._text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
            self._csv = csv.writer(self._text)
            self._csv.writerow(["line", "column", "reason", *map(printable, self.header)])
            self.first = reject
        if counts and reject.line != self._last_line:  # a bad header can be rejected for several reasons
            self.rows += 1
            self._last_line = reject.line
        self._csv.writerow(
            [reject.line, printable(reject.column), printable(reject.reason), *map(printable, reject.fields)]
        )

    def upload(self, s3, bucket: str, key: str) -> None:
        self._text.flush()
        self._file.seek(0)
        s3.upload_fileobj(self._file, bucket, key, ExtraArgs={"ContentType": "text/csv; charset=utf-8"})

    def close(self) -> None:
        if self:
            self._text.close()

    def message(self, source_uri: str, rejects_uri: str) -> str:
        first = self.first
        where = f'line {first.line}, column "{printable(first.column)}"' if first.column else f"line {first.line}"
        rows = "file rejected" if self.whole_file else f"{self.rows} row{'s' if self.rows != 1 else ''} rejected"
        return f"{source_uri} {where}: {printable(first.reason)} ({rows}, see {rejects_uri})"
