"""Telethon 1.45 (PyPI) as the app that scans a QR code: it logs in to the test DC, then
accepts the login token our client shows, with `functions.auth.AcceptLoginTokenRequest`.

Usage: telethon_accept_token.py < PLAN.json

The plan (one JSON object on stdin):
  pem       the DCs' RSA public key, PKCS#1 PEM (the only key Telethon is given)
  port      DC 2's port on 127.0.0.1 (the client starts there, as session DC 2)
  api_id, api_hash
  phone     the account to log in as (send_code_request, then sign_in with `code`)
  code      the login code
  url       the `tg://login?token=...` URL our client showed; Telethon decodes the token
            itself (base64url, padding restored)

Prints one JSON object per step on stdout ({"step", ...}): "sign_in" (the user), "token"
(the decoded length), "accept" (the authorization the server answered). Any exception ends
the script with status 1 and a traceback on stderr.
"""
import asyncio
import base64
import json
import sys
from urllib.parse import parse_qs, urlsplit

WANTED_VERSION = "1.45.0"


def fail(message):
    print(
        f"telethon_accept_token.py: {message}; run `cargo xtask py-setup`",
        file=sys.stderr,
        flush=True,
    )
    sys.exit(2)


try:
    import telethon
    from telethon import TelegramClient, functions
    from telethon.crypto import rsa as telethon_rsa
    from telethon.sessions import MemorySession
except ImportError as e:
    fail(f"Telethon is not installed in {sys.executable} ({e})")

if telethon.__version__ != WANTED_VERSION:
    fail(f"Telethon {telethon.__version__} is installed, the test needs {WANTED_VERSION}")


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


def token_of(url):
    """The token bytes of a tg://login?token=... URL (unpadded base64url)."""
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != ("tg", "login"):
        raise ValueError(f"not a tg://login URL: {url!r}")
    (encoded,) = parse_qs(parts.query, strict_parsing=True)["token"]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


async def main():
    plan = json.loads(sys.stdin.read())
    # Only our key: Telethon ships Telegram's keys in the same table.
    telethon_rsa._server_keys.clear()
    telethon_rsa.add_key(plan["pem"], old=False)
    session = MemorySession()
    session.set_dc(2, "127.0.0.1", plan["port"])
    client = TelegramClient(
        session,
        plan["api_id"],
        plan["api_hash"],
        device_model="telethon-accepts",
        timeout=20,
        request_retries=1,
        # About one Telethon key exchange in 256 fails its "invalid new nonce hash" check
        # (it keeps g^ab unpadded as the key); the next attempt is a new exchange.
        connection_retries=2,
        retry_delay=0,
        auto_reconnect=False,
    )
    await client.connect()
    try:
        await client.send_code_request(plan["phone"])
        user = await client.sign_in(plan["phone"], plan["code"])
        emit("sign_in", id=user.id, first_name=user.first_name, dc_id=client.session.dc_id)
        token = token_of(plan["url"])
        emit("token", length=len(token))
        accepted = await client(functions.auth.AcceptLoginTokenRequest(token=token))
        emit(
            "accept",
            type=type(accepted).__name__,
            hash=accepted.hash,
            api_id=accepted.api_id,
        )
    finally:
        await client.disconnect()


asyncio.run(asyncio.wait_for(main(), 60))
