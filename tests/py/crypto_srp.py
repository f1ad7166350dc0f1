"""SRP oracle: Telethon 1.45's `telethon.password.compute_check` (inputCheckPasswordSRP).

stdin JSON {"salt1", "salt2", "g", "p", "srp_b", "a", "password"} (hex except g and password);
`a` is injected by replacing the module's `os.urandom` for the duration of the call.
stdout: "A_hex M1_hex".
"""
import json
import sys

from telethon import password as tpw
from telethon.tl import types

req = json.loads(sys.stdin.read())
a = bytes.fromhex(req["a"])


class FixedRandom:
    """Stands in for the `os` module inside telethon.password: urandom returns `a`."""

    @staticmethod
    def urandom(n):
        assert n == len(a), n
        return a


algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
    salt1=bytes.fromhex(req["salt1"]),
    salt2=bytes.fromhex(req["salt2"]),
    g=req["g"],
    p=bytes.fromhex(req["p"]),
)
request = types.account.Password(
    new_algo=algo,
    new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
    secure_random=bytes(256),
    has_password=True,
    current_algo=algo,
    srp_B=bytes.fromhex(req["srp_b"]),
    srp_id=1,
)
real_os = tpw.os
tpw.os = FixedRandom
try:
    check = tpw.compute_check(request, req["password"])
finally:
    tpw.os = real_os
print(check.A.hex(), check.M1.hex())
