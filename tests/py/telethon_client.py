"""Telethon 1.45 (PyPI, layer 229) logging in to the test DC with its own high-level API.

Usage: telethon_client.py < PLAN.json

The plan (one JSON object on stdin):
  pem         the DCs' RSA public key, PKCS#1 PEM (the only key Telethon is given)
  port        DC 2's port on 127.0.0.1 (every client starts there, as session DC 2)
  connection  ConnectionTcpFull | ConnectionTcpIntermediate | ConnectionTcpAbridged |
              ConnectionTcpObfuscated
  api_id, api_hash, code, wrong_code
  flows       a list of {"flow": NAME, ...parameters}, run in order, each with new clients:
    registered  {phone}: send_code_request, sign_in with the wrong code (expects
                PhoneCodeInvalidError), sign_in with the code, get_me, log_out
    signup      {phone, first_name, last_name}: sign_in with the code (expects
                PhoneNumberUnoccupiedError), Telethon's sign_up (1.45 refuses it with a
                ValueError before any request), the raw auth.SignUpRequest with the hash
                Telethon kept, get_me, log_out
    start_2fa   {phone, password}: client.start(phone, code_callback, password), get_me,
                log_out
    wrong_2fa   {phone, password, wrong_password}: send_code_request, sign_in with the code
                (expects SessionPasswordNeededError), sign_in with the wrong password
                (expects PasswordHashInvalidError), with the right one, get_me, log_out
    migrate     {phone}: like registered without the wrong code, for a number homed on
                another DC: Telethon follows PHONE_MIGRATE_X by itself
    qr          {phone}: a second client logs in as `phone` (following a migration if it
                must); the first calls qr_login(), waits, and the second accepts the token
                with auth.AcceptLoginTokenRequest; wait() returns the user (importing the
                token on the user's DC when it is homed elsewhere), get_me, log_out both

Every login ends with `log_out()` and then a new client that reuses the logged-out
authorization key (same DC) asks `is_user_authorized()` and `get_me()`: the server must no
longer know the key as logged in.

Prints one JSON object per step on stdout ({"flow", "step", ...}); any unexpected exception
ends the script with status 1 and a traceback on stderr. Set TELETHON_CLIENT_LOG=DEBUG for
Telethon's own log on stderr.
"""
import asyncio
import contextlib
import io
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
    from telethon.crypto import AuthKey
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


class Expected(Exception):
    """An expected error did not happen."""


def emit(flow, step, **fields):
    print(json.dumps({"flow": flow, "step": step, **fields}, sort_keys=True), flush=True)


def signed64(n):
    return struct.unpack("<q", struct.pack("<Q", n))[0]


def user_fields(user):
    if user is None:
        return None
    return {
        "class": type(user).__name__,
        "id": user.id,
        "is_self": bool(user.is_self),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
    }


def error_fields(error):
    return {"error": type(error).__name__, "code": getattr(error, "code", None)}


async def expect_error(awaitable, cls):
    try:
        await awaitable
    except cls as e:
        return error_fields(e)
    raise Expected(f"expected {cls.__name__}")


class Runner:
    def __init__(self, plan):
        self.plan = plan
        self.port = plan["port"]
        self.connection = getattr(telethon_connection, plan["connection"])

    def client(self, dc_id=2, port=None, auth_key=None):
        session = MemorySession()
        session.set_dc(dc_id, "127.0.0.1", port or self.port)
        if auth_key is not None:
            session.auth_key = AuthKey(auth_key)
        return TelegramClient(
            session,
            self.plan["api_id"],
            self.plan["api_hash"],
            connection=self.connection,
            device_model="interop-test",
            system_version="loopback",
            app_version="0.1",
            lang_code="en",
            system_lang_code="en-US",
            timeout=20,
            # One retry: Telethon repeats a call after following a *_MIGRATE_X error.
            request_retries=1,
            # Telethon keeps g^ab unpadded as its auth key, so about one key exchange in 256
            # (g^ab < 2^2040) ends in its "invalid new nonce hash" check against a server
            # that pads the key to 256 bytes as MTProto says; Telethon's answer is a new
            # exchange on the next attempt (its default allows 5).
            connection_retries=2,
            retry_delay=0,
            auto_reconnect=False,
        )

    @staticmethod
    def where(client):
        """The DC, address and authorization key the client uses now."""
        return {
            "dc_id": client.session.dc_id,
            "port": client.session.port,
            "auth_key_id": signed64(client._sender.auth_key.key_id),
        }

    async def finish(self, flow, client):
        """get_me, log_out, then the logged-out key asks again from a new client."""
        me = await client.get_me()
        where = self.where(client)
        key = client._sender.auth_key.key
        emit(flow, "get_me", user=user_fields(me), **where)
        authorized = await client.is_user_authorized()
        logged_out = await client.log_out()
        emit(
            flow,
            "log_out",
            authorized_before=authorized,
            result=logged_out,
            session_dropped=client.session is None,
            connected=client.is_connected(),
        )
        again = self.client(where["dc_id"], where["port"], key)
        await again.connect()
        emit(
            flow,
            "after_log_out",
            same_key=signed64(again._sender.auth_key.key_id) == where["auth_key_id"],
            authorized=await again.is_user_authorized(),
            get_me=user_fields(await again.get_me()),
        )
        await again.disconnect()

    async def login(self, flow, client, phone):
        """send_code_request + sign_in with the code, for a registered number without 2FA."""
        sent = await client.send_code_request(phone)
        emit(flow, "send_code", type=type(sent.type).__name__, **self.where(client))
        user = await client.sign_in(phone, self.plan["code"])
        emit(flow, "sign_in", user=user_fields(user), **self.where(client))
        return user

    async def registered(self, flow, p):
        client = self.client()
        await client.connect()
        emit(flow, "connect", layer=LAYER, authorized=await client.is_user_authorized())
        sent = await client.send_code_request(p["phone"])
        emit(
            flow,
            "send_code",
            type=type(sent.type).__name__,
            length=getattr(sent.type, "length", None),
            **self.where(client),
        )
        wrong = client.sign_in(p["phone"], self.plan["wrong_code"])
        emit(flow, "wrong_code", **await expect_error(wrong, errors.PhoneCodeInvalidError))
        user = await client.sign_in(p["phone"], self.plan["code"])
        emit(flow, "sign_in", user=user_fields(user), **self.where(client))
        await self.finish(flow, client)

    async def signup(self, flow, p):
        client = self.client()
        await client.connect()
        sent = await client.send_code_request(p["phone"])
        emit(flow, "send_code", type=type(sent.type).__name__, **self.where(client))
        unoccupied = client.sign_in(p["phone"], self.plan["code"])
        emit(
            flow,
            "sign_in",
            **await expect_error(unoccupied, errors.PhoneNumberUnoccupiedError),
        )
        # Telethon 1.45's sign_up refuses to run (third-party sign-up is disabled there).
        try:
            await client.sign_up(self.plan["code"], p["first_name"], p["last_name"])
        except ValueError as e:
            emit(flow, "telethon_sign_up", error=type(e).__name__, message=str(e))
        else:
            raise Expected("Telethon 1.45's sign_up is expected to raise ValueError")
        authorization = await client(
            functions.auth.SignUpRequest(
                utils.parse_phone(p["phone"]),
                client._phone_code_hash[utils.parse_phone(p["phone"])],
                p["first_name"],
                p["last_name"],
            )
        )
        emit(
            flow,
            "sign_up",
            type=type(authorization).__name__,
            user=user_fields(authorization.user),
            **self.where(client),
        )
        await self.finish(flow, client)

    async def start_2fa(self, flow, p):
        client = self.client()
        codes = []

        def code_callback():
            codes.append(self.plan["code"])
            return self.plan["code"]

        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            started = await client.start(
                phone=p["phone"], code_callback=code_callback, password=p["password"]
            )
        emit(
            flow,
            "start",
            same_client=started is client,
            code_asked=len(codes),
            printed=printed.getvalue().strip(),
            **self.where(client),
        )
        await self.finish(flow, client)

    async def wrong_2fa(self, flow, p):
        client = self.client()
        await client.connect()
        await client.send_code_request(p["phone"])
        needed = client.sign_in(p["phone"], self.plan["code"])
        emit(flow, "sign_in", **await expect_error(needed, errors.SessionPasswordNeededError))
        wrong = client.sign_in(password=p["wrong_password"])
        emit(flow, "wrong_password", **await expect_error(wrong, errors.PasswordHashInvalidError))
        user = await client.sign_in(password=p["password"])
        emit(flow, "password", user=user_fields(user), **self.where(client))
        await self.finish(flow, client)

    async def migrate(self, flow, p):
        client = self.client()
        await client.connect()
        emit(flow, "connect", **self.where(client))
        await self.login(flow, client, p["phone"])
        await self.finish(flow, client)

    async def qr(self, flow, p):
        waiting = self.client()
        await waiting.connect()
        qr = await waiting.qr_login()
        start = self.where(waiting)
        emit(flow, "qr_login", url_prefix=qr.url.split("=")[0], token_len=len(qr.token), **start)
        wait = asyncio.ensure_future(qr.wait(timeout=20))
        # Let wait() register its update handler before the token is accepted.
        for _ in range(3):
            await asyncio.sleep(0)

        accepting = self.client()
        await accepting.connect()
        await self.login(flow, accepting, p["phone"])
        accepted = await accepting(functions.auth.AcceptLoginTokenRequest(qr.token))
        emit(flow, "accept", type=type(accepted).__name__, **self.where(accepting))

        user = await wait
        emit(flow, "wait", user=user_fields(user), **self.where(waiting))
        await self.finish(flow, waiting)
        await self.finish(flow + "/accepting", accepting)

    async def run(self):
        # Only our key: Telethon ships Telegram's keys in the same table.
        telethon_rsa._server_keys.clear()
        telethon_rsa.add_key(self.plan["pem"], old=False)
        for p in self.plan["flows"]:
            name = p["flow"]
            await getattr(self, name.split("@")[0])(name, p)
            emit(name, "done")


def main():
    plan = json.loads(sys.stdin.read())
    if plan["connection"] not in CONNECTIONS:
        fail(f"unknown connection {plan['connection']!r}")
    # Telethon's log on stderr (shown by the test): warnings only, unless asked for more.
    logging.basicConfig(
        level=os.environ.get("TELETHON_CLIENT_LOG", "WARNING"),
        stream=sys.stderr,
        format="%(relativeCreated)7.0fms %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(asyncio.wait_for(Runner(plan).run(), plan.get("timeout", 80)))


if __name__ == "__main__":
    main()
