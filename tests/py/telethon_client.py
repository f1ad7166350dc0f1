"""Telethon 1.45 (PyPI, layer 229) as a real client against our loopback `TestServer`.

Usage: telethon_client.py --port N --connection CLASS --api-id N --api-hash H --phone P
                          --code C --wrong-code W [--timeout SECONDS]
       stdin: the server's RSA public key, PKCS#1 PEM.

CLASS is one of Telethon's `ConnectionTcpFull`, `ConnectionTcpIntermediate`,
`ConnectionTcpAbridged`, `ConnectionTcpObfuscated`.

Trusts only that key (`telethon.crypto.rsa.add_key(pem, old=False)`, after dropping the
Telegram keys Telethon ships with), points an in-memory session at DC 2 = 127.0.0.1:N, and
drives the public client API with `receive_updates=False`, no retries and no reconnects, so
any failure surfaces as an exception (exit status 1, traceback on stderr). Prints one JSON
object per step on stdout; `bytes(obj).hex()` is Telethon re-serializing what it parsed, so
the caller can compare it with what the server sent. Set `TELETHON_CLIENT_LOG=DEBUG` to see
Telethon's own log on stderr.

Steps: connect (key exchange, `invokeWithLayer(initConnection(help.getConfig))`, and the
`users.getUsers([inputUserSelf])` that `connect` makes itself), `is_user_authorized`,
`help.getConfig`, `help.getNearestDc`, `send_code_request`, `sign_in` with the wrong code
(expects `PhoneCodeInvalidError`), the raw `auth.signIn` with the right code, `get_me`,
`updates.getState`, a call the server does not implement (`help.getCdnConfig`), disconnect.
"""
import argparse
import asyncio
import json
import logging
import os
import struct
import sys

WANTED_VERSION = "1.45.0"


def fail(message):
    print(
        f"telethon_client.py: {message}; run `cargo xtask py-setup`", file=sys.stderr, flush=True
    )
    sys.exit(2)


try:
    import telethon
    from telethon import TelegramClient, errors, functions, utils
    from telethon.crypto import rsa as telethon_rsa
    from telethon.network import connection as telethon_connection
    from telethon.sessions import MemorySession
    from telethon.tl.alltlobjects import LAYER
except ImportError as e:
    fail(f"Telethon is not installed in {sys.executable} ({e})")

if telethon.__version__ != WANTED_VERSION:
    fail(f"Telethon {telethon.__version__} is installed, the test needs {WANTED_VERSION}")

CONNECTIONS = (
    "ConnectionTcpFull",
    "ConnectionTcpIntermediate",
    "ConnectionTcpAbridged",
    "ConnectionTcpObfuscated",
)


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


def signed64(n):
    return struct.unpack("<q", struct.pack("<Q", n))[0]


def user_fields(user):
    return {
        "class": type(user).__name__,
        "id": user.id,
        "is_self": bool(user.is_self),
        "access_hash": user.access_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "phone": user.phone,
        "hex": bytes(user).hex(),
    }


def error_fields(error):
    # `message` is the server's text for errors Telethon does not know; a known error class
    # (`PhoneCodeInvalidError`) keeps only its code's generic name there (`BAD_REQUEST`).
    return {
        "error": type(error).__name__,
        "code": error.code,
        "message": error.message,
    }


async def run(args, pem):
    # Only our key: Telethon ships Telegram's keys in the same table.
    telethon_rsa._server_keys.clear()
    telethon_rsa.add_key(pem, old=False)

    session = MemorySession()
    session.set_dc(2, "127.0.0.1", args.port)
    client = TelegramClient(
        session,
        args.api_id,
        args.api_hash,
        connection=getattr(telethon_connection, args.connection),
        receive_updates=False,
        device_model="interop-test",
        system_version="loopback",
        app_version="0.1",
        lang_code="en",
        system_lang_code="en-US",
        timeout=20,
        request_retries=0,
        connection_retries=0,
        auto_reconnect=False,
    )

    await client.connect()
    sender = client._sender
    emit(
        "connect",
        layer=LAYER,
        connected=client.is_connected(),
        auth_key_id=signed64(sender.auth_key.key_id),
        salt=sender._state.salt,
        time_offset=sender._state.time_offset,
    )

    emit("is_user_authorized", authorized=await client.is_user_authorized())

    config = await client(functions.help.GetConfigRequest())
    emit(
        "get_config",
        this_dc=config.this_dc,
        dc_options=[
            [o.id, o.ip_address, o.port, bool(o.ipv6), bool(o.media_only)]
            for o in config.dc_options
        ],
        me_url_prefix=config.me_url_prefix,
        hex=bytes(config).hex(),
    )

    nearest = await client(functions.help.GetNearestDcRequest())
    emit(
        "get_nearest_dc",
        country=nearest.country,
        this_dc=nearest.this_dc,
        nearest_dc=nearest.nearest_dc,
        hex=bytes(nearest).hex(),
    )

    sent = await client.send_code_request(args.phone)
    emit(
        "send_code",
        type=type(sent.type).__name__,
        length=getattr(sent.type, "length", None),
        phone_code_hash=sent.phone_code_hash,
        timeout=sent.timeout,
        hex=bytes(sent).hex(),
    )

    try:
        await client.sign_in(args.phone, args.wrong_code)
    except errors.PhoneCodeInvalidError as e:
        emit("sign_in_wrong_code", **error_fields(e))
    else:
        raise AssertionError("sign_in with the wrong code did not raise PhoneCodeInvalidError")

    # The raw call: `client.sign_in` follows a successful `auth.signIn` with
    # `updates.getState` and `updates.getDifference` (see `_on_login`), and the server
    # cannot answer the latter (it is not in the bindings).
    authorization = await client(
        functions.auth.SignInRequest(
            utils.parse_phone(args.phone), sent.phone_code_hash, args.code
        )
    )
    emit(
        "sign_in",
        type=type(authorization).__name__,
        user=user_fields(authorization.user),
        hex=bytes(authorization).hex(),
    )

    me = await client.get_me()
    emit("get_me", user=user_fields(me))

    state = await client(functions.updates.GetStateRequest())
    emit(
        "get_state",
        pts=state.pts,
        qts=state.qts,
        date=int(state.date.timestamp()),
        seq=state.seq,
        unread_count=state.unread_count,
        hex=bytes(state).hex(),
    )

    try:
        await client(functions.help.GetCdnConfigRequest())
    except errors.RPCError as e:
        emit("unsupported_call", **error_fields(e))
    else:
        raise AssertionError("help.getCdnConfig got an answer")

    await client.disconnect()
    emit("disconnect", connected=client.is_connected())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connection", choices=CONNECTIONS, required=True)
    parser.add_argument("--api-id", type=int, required=True)
    parser.add_argument("--api-hash", required=True)
    parser.add_argument("--phone", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--wrong-code", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    pem = sys.stdin.read()
    # Telethon's log on stderr (shown by the test): warnings only, unless asked for more.
    logging.basicConfig(level=os.environ.get("TELETHON_CLIENT_LOG", "WARNING"), stream=sys.stderr)
    asyncio.run(asyncio.wait_for(run(args, pem), args.timeout))


if __name__ == "__main__":
    main()
