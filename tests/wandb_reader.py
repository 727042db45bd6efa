"""Read an offline W&B run file (`run-*.wandb`) back into protobuf `Record`s, with no network.

wandb has no public reader for these files. The format is LevelDB's log: a 7-byte file header
(":W&B", magic 0xBEE1, version 0), then 32 KiB blocks of records, each with a 7-byte header
(CRC-32 of type byte + payload, little-endian payload length, type: full/first/middle/last);
a block tail shorter than a header is zero padding. Payloads are serialized `Record`s.
"""

import json
import struct
import zlib
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32 * 1024
FILE_HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def read_records(path: Path) -> list[wandb_internal_pb2.Record]:
    """Every record of the run file, checksums verified."""
    data = Path(path).read_bytes()
    if not data.startswith(FILE_HEADER):
        raise ValueError(f"{path}: not a W&B run file (header {data[:7]!r})")
    records, pending, offset = [], b"", len(FILE_HEADER)
    while offset + 7 <= len(data):
        left_in_block = BLOCK - offset % BLOCK
        if left_in_block < 7:
            offset += left_in_block
            continue
        checksum, length, kind = struct.unpack("<IHB", data[offset : offset + 7])
        payload = data[offset + 7 : offset + 7 + length]
        if kind == 0 and length == 0:
            offset += left_in_block
            continue
        if zlib.crc32(bytes([kind]) + payload) != checksum:
            raise ValueError(f"{path}: bad checksum at byte {offset}")
        offset += 7 + length
        pending = payload if kind in (FULL, FIRST) else pending + payload
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def history(path: Path) -> list[dict]:
    """The rows passed to `wandb.log`, values decoded from JSON."""
    return [
        {
            item.key or "/".join(item.nested_key): json.loads(item.value_json)
            for item in r.history.item
        }
        for r in read_records(path)
        if r.WhichOneof("record_type") == "history"
    ]


def config(path: Path) -> dict:
    """The run config (`log_hyperparams`), merged over all config records."""
    merged = {}
    for r in read_records(path):
        if r.WhichOneof("record_type") == "config":
            for item in r.config.update:
                merged[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return merged


def run_files(root: Path) -> list[Path]:
    """All offline run files under a directory."""
    return sorted(Path(root).rglob("run-*.wandb"))
