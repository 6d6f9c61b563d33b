"""The bucket of a site: the same number ship computes and HAProxy computes.

HAProxy computes it with the converters `crc32(1),mod(100)`: the CRC-32 of the key (the
one zlib computes), passed through HAProxy's avalanche function `full_hash`, modulo 100.
A site is on Kubernetes when its bucket is below the percentage, so raising the
percentage from 20 to 25 moves exactly the sites of buckets 20 to 24, and no site moves
back and forth. Tests hold this function to a real HAProxy.
"""

from __future__ import annotations

import zlib

BUCKETS = 100
HAPROXY_CONVERTERS = "crc32(1),mod(100)"
_MASK = 0xFFFFFFFF


def full_hash(a: int) -> int:
    """HAProxy's `full_hash` (Bob Jenkins' 32-bit integer avalanche, then a multiply by a
    large prime), which `crc32(1)` applies to the checksum."""
    a = ((a + 0x7ED55D16) + (a << 12)) & _MASK
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & _MASK
    a = ((a + 0x165667B1) + (a << 5)) & _MASK
    a = ((a + 0xD3A2646C) ^ (a << 9)) & _MASK
    a = ((a + 0xFD7046C5) + (a << 3)) & _MASK
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & _MASK
    return (a * 3221225473) & _MASK


def bucket(key: str) -> int:
    """The bucket (0-99) of a site id or request key, as HAProxy's `crc32(1),mod(100)`."""
    return full_hash(zlib.crc32(key.encode("utf-8"))) % BUCKETS


def in_split(key: str, percent: int) -> bool:
    """Whether the split (without pins, blocks or drains) sends `key` to Kubernetes."""
    return bucket(key) < percent
