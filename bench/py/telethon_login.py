"""Telethon 1.45 (with cryptg) logging in to the bench's test DC, for `cargo xtask bench`.

Usage: telethon_login.py < PLAN.json

The plan: pem (the DC's RSA public key, PKCS#1 PEM), port (DC `dc` on 127.0.0.1), dc, code,
phones (registered numbers, used in turn), count (logins), stored (true: every login reuses
one authorization key made beforehand, as a saved session would; false: a new key each time).

Each login is a new TelegramClient over ConnectionTcpAbridged (the transport our client
uses by default): connect (and the key exchange unless stored), send_code_request, sign_in.
The time from before connect() to sign_in's return is one latency; the client disconnects
after. Prints {"ms": [...], "cryptg": bool} on stdout.
"""
import asyncio
import json
import sys
import time

WANTED_VERSION = "1.45.0"

try:
    import telethon
    from telethon import TelegramClient
    from telethon.crypto import AuthKey
    from telethon.crypto import rsa as telethon_rsa
    from telethon.network import connection as telethon_connection
    from telethon.sessions import MemorySession
except ImportError as e:
    sys.exit(f"Telethon is not installed in {sys.executable} ({e})")

if telethon.__version__ != WANTED_VERSION:
    sys.exit(f"Telethon {telethon.__version__} is installed, the bench needs {WANTED_VERSION}")

try:
    import cryptg  # noqa: F401  (Telethon uses it for AES-IGE when it is importable)

    CRYPTG = True
except ImportError:
    CRYPTG = False


def client(plan, auth_key=None):
    session = MemorySession()
    session.set_dc(plan["dc"], "127.0.0.1", plan["port"])
    if auth_key is not None:
        session.auth_key = AuthKey(auth_key)
    return TelegramClient(
        session,
        611335,
        "d524b414d21f4d37f08684c1df41ac9c",
        connection=telethon_connection.ConnectionTcpAbridged,
        device_model="bench",
        system_version="loopback",
        app_version="0.1",
        lang_code="en",
        system_lang_code="en",
        timeout=20,
        request_retries=1,
        # Telethon keeps g^ab unpadded, so about one exchange in 256 fails its own check
        # against a server that pads the key (as MTProto says) and it runs a new one.
        connection_retries=2,
        retry_delay=0,
        auto_reconnect=False,
        receive_updates=False,
    )


async def login(plan, phone, auth_key):
    c = client(plan, auth_key)
    start = time.perf_counter()
    await c.connect()
    sent = await c.send_code_request(phone)
    user = await c.sign_in(phone, plan["code"], phone_code_hash=sent.phone_code_hash)
    elapsed = (time.perf_counter() - start) * 1e3
    if user is None or not user.is_self:
        raise RuntimeError(f"not signed in as {phone}: {user!r}")
    key = c.session.auth_key.key
    await c.disconnect()
    return elapsed, key


async def main():
    plan = json.load(sys.stdin)
    telethon_rsa._server_keys.clear()
    telethon_rsa.add_key(plan["pem"], old=False)
    phones = plan["phones"]
    key = None
    if plan["stored"]:
        _, key = await login(plan, phones[0], None)
    # Warm-up, as the Rust side does.
    for i in range(3):
        await login(plan, phones[i % len(phones)], key)
    ms = []
    for i in range(plan["count"]):
        elapsed, _ = await login(plan, phones[i % len(phones)], key)
        ms.append(elapsed)
    print(json.dumps({"ms": ms, "cryptg": CRYPTG}))


asyncio.run(main())
