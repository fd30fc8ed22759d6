"""Text files of the workflow's helpers, plain or gzip/bgzip (sniffed from the first bytes)."""

import gzip


def open_text(path):
    """The file at `path` as text lines, decompressed when it is gzip or bgzip."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, "rt", encoding="utf-8", errors="replace", newline="")
