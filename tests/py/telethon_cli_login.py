"""Telethon 1.45 logs in to a running `test-dc` program, the way a person's script would.

Usage: telethon_cli_login.py --host H --port N --dc ID --public-key FILE --phone P --code C
                             [--password PW] [--mtproxy-secret HEX] [--timeout SECONDS]

Trusts only the PKCS#1 public key in FILE (what `test-dc --public-key-out` wrote), starts a
fresh in-memory session on DC ID at H:N and goes through Telethon's public API:
`send_code_request` (following PHONE_MIGRATE to the number's home DC, whose address
Telethon takes from `help.getConfig`), `sign_in` with the code, then, if the server answers
SESSION_PASSWORD_NEEDED, `sign_in(password=...)` (SRP), then `get_me`. With
`--mtproxy-secret`, H:N is an MTProxy with that secret and Telethon connects through it
(`ConnectionTcpMTProxyRandomizedIntermediate` for `dd` secrets, else
`ConnectionTcpMTProxyIntermediate`). Prints one JSON object
on stdout: the user `get_me` returned and the DC the session ended on. Any failure is an
exception (exit status 1, traceback on stderr); a missing package exits with status 2. Set
`TELETHON_CLIENT_LOG=DEBUG` to see Telethon's own log on stderr.
"""
import argparse
import asyncio
import json
import logging
import os
import sys

WANTED_VERSION = "1.45.0"

try:
    import telethon
    from telethon import TelegramClient, errors
    from telethon.crypto import rsa as telethon_rsa
    from telethon.network import connection as telethon_connection
    from telethon.sessions import MemorySession
except ImportError as e:
    print(
        f"telethon_cli_login.py: Telethon is not installed in {sys.executable} ({e}); "
        "run `cargo xtask py-setup`",
        file=sys.stderr,
    )
    sys.exit(2)

if telethon.__version__ != WANTED_VERSION:
    print(
        f"telethon_cli_login.py: Telethon {telethon.__version__} is installed, "
        f"the test needs {WANTED_VERSION}",
        file=sys.stderr,
    )
    sys.exit(2)


async def login(args, pem):
    # Only the test DC's key: Telethon ships Telegram's keys in the same table.
    telethon_rsa._server_keys.clear()
    telethon_rsa.add_key(pem, old=False)

    session = MemorySession()
    session.set_dc(args.dc, args.host, args.port)
    proxy = {}
    if args.mtproxy_secret:
        randomized = args.mtproxy_secret.lower().startswith("dd")
        proxy = {
            "connection": getattr(
                telethon_connection,
                "ConnectionTcpMTProxyRandomizedIntermediate"
                if randomized
                else "ConnectionTcpMTProxyIntermediate",
            ),
            "proxy": (args.host, args.port, args.mtproxy_secret),
        }
    client = TelegramClient(
        session,
        **proxy,
        api_id=1,
        api_hash="0123456789abcdef0123456789abcdef",
        receive_updates=False,
        device_model="test-dc-cli",
        system_version="loopback",
        app_version="0.1",
        timeout=20,
        # One retry: the attempt after a PHONE_MIGRATE_X, on the home DC.
        request_retries=1,
        # Telethon keeps the DH result g^ab without its leading zero bytes, so about one key
        # exchange in 256 ends in "invalid new nonce hash", whatever the server; it then starts
        # a new exchange on the same connection, as it does by default.
        connection_retries=2,
        auto_reconnect=False,
    )
    await client.connect()
    try:
        await client.send_code_request(args.phone)
        password_needed = False
        try:
            await client.sign_in(args.phone, args.code)
        except errors.SessionPasswordNeededError:
            if args.password is None:
                raise
            password_needed = True
            await client.sign_in(password=args.password)
        me = await client.get_me()
        return {
            "id": me.id,
            "phone": me.phone,
            "first_name": me.first_name,
            "last_name": me.last_name,
            "is_self": bool(me.is_self),
            "dc": client.session.dc_id,
            "password_needed": password_needed,
            "authorized": await client.is_user_authorized(),
        }
    finally:
        await client.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dc", type=int, required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--password")
    parser.add_argument("--mtproxy-secret")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    level = os.environ.get("TELETHON_CLIENT_LOG")
    if level:
        logging.basicConfig(level=level, stream=sys.stderr)
    with open(args.public_key) as f:
        pem = f.read()
    result = asyncio.run(asyncio.wait_for(login(args, pem), args.timeout))
    print(json.dumps(result, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
