"""AES-256-IGE encryption speed of cryptg (the C extension Telethon uses), for comparison with
`cargo bench -p mtproto-crypto --bench ige`.

Usage: crypto_bench_cryptg.py [seconds_per_size]; prints "size_bytes MB/s" lines
(MB = 10^6 bytes, the unit `openssl speed` uses).
"""
import os
import sys
import time

import cryptg

budget = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
key = os.urandom(32)
iv = os.urandom(32)
for size in (1024, 16 * 1024, 1024 * 1024):
    data = os.urandom(size)
    cryptg.encrypt_ige(data, key, iv)  # warm up
    done = 0
    start = time.perf_counter()
    while True:
        cryptg.encrypt_ige(data, key, iv)
        done += size
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
    print("%d %.1f" % (size, done / elapsed / 1e6))
