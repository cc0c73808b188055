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
        chunk, pos = data[pos + HEADER : pos + HEADER + length], pos + HEADER + length
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)
    return records
