"""Read an offline W&B run file back: wandb 0.31 ships no Python reader for its `.wandb`
transaction log, so this small reader of its leveldb-log framing lives with the tests."""

from __future__ import annotations

import struct

BLOCK, HEADER = 32768, 7  # leveldb-log blocks; 7-byte file header and record headers


def read_wandb_records(path):
    """Protobuf `Record`s of an offline .wandb file (leveldb log format: FULL/FIRST/MIDDLE/LAST)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    pos, buf, records = HEADER, b"", []
    while pos + HEADER <= len(data):
        if BLOCK - pos % BLOCK < HEADER:  # a block tail too short for a header is padding
            pos += BLOCK - pos % BLOCK
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        if pos + HEADER + length > len(data):  # the writer is still appending this record
            break
        chunk, pos = data[pos + HEADER : pos + HEADER + length], pos + HEADER + length
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)
    return records


def read_finished_run(path, timeout_s: float = 60.0):
    """The records of an offline run once W&B's writer has flushed its end (an `exit` record):
    `wandb.finish()` returns when the service has the data, which can be before its writer
    process has appended the history rows to the file; reading earlier saw a file without them,
    or one whose last record was half-written (protobuf: "Wire format was corrupt"), so a read
    that meets a record still being written reads again."""
    import time

    from google.protobuf.message import DecodeError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            records = read_wandb_records(path)
        except DecodeError:  # a record caught mid-write
            records = []
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: no exit record after {timeout_s:.0f} s")
        time.sleep(0.2)
