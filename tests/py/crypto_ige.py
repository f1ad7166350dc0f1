"""AES-256-IGE oracle: Telethon 1.45's `telethon.crypto.AES` (backed by cryptg).

Usage: crypto_ige.py encrypt|decrypt
stdin: one case per line, "key_hex iv_hex data_hex"; stdout: one result hex per line.
"""
import sys

from telethon.crypto import aes as telethon_aes
from telethon.crypto import AES

# The differential test is against cryptg's C implementation: refuse to run without it.
if telethon_aes.cryptg is None:
    sys.exit("cryptg is not installed: Telethon would fall back to another AES")

mode = sys.argv[1]
for line in sys.stdin.read().split("\n"):
    if not line.strip():
        continue
    key, iv, data = (bytes.fromhex(part) for part in line.split(" "))
    if mode == "encrypt":
        out = AES.encrypt_ige(data, key, iv)
    elif mode == "decrypt":
        out = AES.decrypt_ige(data, key, iv)
    else:
        sys.exit("unknown mode " + mode)
    print(out.hex())
