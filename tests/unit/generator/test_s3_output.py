"""Uploads that stream: parts cut to size in a few reused buffers, uploaded
while the next are made; the object appears whole, with its metadata, or
not at all."""

import os

import pytest
from conftest import BUCKET
from superstore_common.source_format import HEADER
from superstore_generator import s3_output
from superstore_generator.s3_output import upload_csv

METADATA = {"rows": "3", "sales-sum": "1.0000", "profit-sum": "-0.5000"}
HEADER_LINE = (",".join(HEADER) + "\n").encode()
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's (and moto's) smallest part but the last


def lines(count: int, width: int = 1000) -> list[bytes]:
    """Chunks of different sizes, none a whole part."""
    return [os.urandom(width * (number % 7 + 1) // 2).hex().encode() + b"\n" for number in range(count)]


def test_parts_are_cut_to_size_and_reuse_their_buffers(monkeypatch):
    monkeypatch.setattr(s3_output, "PART_BYTES", 1000)
    chunks = lines(40)

    parts = []
    for part in s3_output._parts(chunks):
        parts.append((id(part), bytes(part)))  # copied: its buffer is written again later

    assert b"".join(content for _, content in parts) == b"".join(chunks)
    assert {len(content) for _, content in parts[:-1]} == {1000} and 0 < len(parts[-1][1]) <= 1000
    assert len({buffer for buffer, _ in parts[:-1]}) == s3_output.PARTS_IN_MEMORY


@pytest.fixture
def bucket(reference_uri) -> str:
    """Our test bucket: made, and emptied at the end, with the reference."""
    return BUCKET


def test_a_big_upload_goes_up_in_parts_with_its_metadata(s3, bucket, monkeypatch):
    monkeypatch.setattr(s3_output, "PART_BYTES", MIN_PART_BYTES)
    chunks = lines(9000)
    parts = -(-(len(HEADER_LINE) + sum(map(len, chunks))) // MIN_PART_BYTES)
    assert parts > 2 * s3_output.PARTS_IN_MEMORY  # every buffer is used twice

    upload_csv(bucket, "s3-output/big.csv", iter(chunks), METADATA)

    stored = s3.get_object(Bucket=bucket, Key="s3-output/big.csv", ChecksumMode="ENABLED")
    assert stored["Body"].read() == HEADER_LINE + b"".join(chunks)
    assert stored["Metadata"] == METADATA
    assert stored["ContentType"] == "text/csv; charset=utf-8"
    assert stored["ChecksumCRC32"].endswith(f"-{parts}")  # a composite checksum of the parts


def test_a_small_upload_is_a_single_put(s3, bucket):
    upload_csv(bucket, "s3-output/small.csv", iter([b"1,a\n", b"2,b\n"]), METADATA)

    stored = s3.get_object(Bucket=bucket, Key="s3-output/small.csv")
    assert stored["Body"].read() == HEADER_LINE + b"1,a\n2,b\n"
    assert stored["Metadata"] == METADATA


def test_a_failure_while_generating_leaves_no_object_and_no_upload(s3, bucket, monkeypatch):
    monkeypatch.setattr(s3_output, "PART_BYTES", MIN_PART_BYTES)

    def failing_chunks():
        yield from lines(6000)  # a few parts
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError, match="generator broke"):
        upload_csv(bucket, "s3-output/broken.csv", failing_chunks(), METADATA)

    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="s3-output/broken.csv")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket, Prefix="s3-output/broken.csv")
