"""RSA_PAD oracle: key generation with `cryptography`, raw RSA with the `rsa` package, and
RSA_PAD (core.telegram.org/mtproto/auth_key, step 4.1) written out here with hashlib and
Telethon's AES-IGE (cryptg).

gen    -> lines: n hex, e hex, d hex, Telethon's fingerprint (decimal), the PKCS#1 public PEM
          and the SPKI public PEM (each on one line, newlines written as "|")
unpad  stdin lines: n hex, d hex, then one block hex per line
       -> one data_with_padding hex (192 bytes) per block, or "BAD_HASH"
pad    stdin lines: n hex, e hex, then one data hex per line
       -> one RSA_PAD block hex (256 bytes) per item
"""
import hashlib
import os
import sys

import rsa
import rsa.core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa as crsa
from telethon.crypto import AES
from telethon.crypto import aes as telethon_aes
from telethon.crypto import rsa as telethon_rsa

if telethon_aes.cryptg is None:
    sys.exit("cryptg is not installed")

ZERO_IV = bytes(32)


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def gen():
    key = crsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key()
    nums = key.private_numbers()
    pkcs1 = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    spki = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = telethon_rsa._compute_fingerprint(rsa.PublicKey.load_pkcs1(pkcs1))
    print("%x" % nums.public_numbers.n)
    print("%x" % nums.public_numbers.e)
    print("%x" % nums.d)
    print(fingerprint)
    print(pkcs1.decode().strip().replace("\n", "|"))
    print(spki.decode().strip().replace("\n", "|"))


def unpad(lines):
    n, d = int(lines[0], 16), int(lines[1], 16)
    for block in lines[2:]:
        m = rsa.core.decrypt_int(int(block, 16), d, n).to_bytes(256, "big")
        temp_key_xor, aes_encrypted = m[:32], m[32:]
        temp_key = xor(temp_key_xor, hashlib.sha256(aes_encrypted).digest())
        data_with_hash = AES.decrypt_ige(aes_encrypted, temp_key, ZERO_IV)
        data_pad = data_with_hash[:192][::-1]
        if hashlib.sha256(temp_key + data_pad).digest() != data_with_hash[192:]:
            print("BAD_HASH")
        else:
            print(data_pad.hex())


def pad(lines):
    n, e = int(lines[0], 16), int(lines[1], 16)
    for data in lines[2:]:
        data = bytes.fromhex(data)
        data_pad = data + os.urandom(192 - len(data))
        while True:
            temp_key = os.urandom(32)
            data_with_hash = data_pad[::-1] + hashlib.sha256(temp_key + data_pad).digest()
            aes_encrypted = AES.encrypt_ige(data_with_hash, temp_key, ZERO_IV)
            temp_key_xor = xor(temp_key, hashlib.sha256(aes_encrypted).digest())
            m = int.from_bytes(temp_key_xor + aes_encrypted, "big")
            if m < n:
                break
        print(rsa.core.encrypt_int(m, e, n).to_bytes(256, "big").hex())


mode = sys.argv[1]
if mode == "gen":
    gen()
elif mode == "unpad":
    unpad([line for line in sys.stdin.read().split("\n") if line.strip()])
elif mode == "pad":
    pad([line for line in sys.stdin.read().split("\n") if line.strip()])
else:
    sys.exit("unknown mode " + mode)
