"""Telethon 1.45 (PyPI) on the two ends of a session move: it signs in to the test DC and
keeps its session in a `.session` file and a StringSession (for our client to import), and
it starts from the StringSession and `.session` file our client exported. It also makes
the malformed `.session` files the import must refuse, and unpacks our Pyrogram string with
the `struct` layout Pyrogram uses.

Usage: telethon_session_move.py < PLAN.json

The plan (one JSON object on stdin):
  pem, port       the DCs' RSA public key (PKCS#1 PEM) and DC 2's port on 127.0.0.1 (only
                  the flows that connect use them)
  api_id, api_hash
  flows           a list of {"flow": NAME, ...parameters}, run in order:
    send_code     {session, phone}: a new `.session` file at `session` (DC 2 on 127.0.0.1),
                  connect (a key exchange), send_code_request; prints the phone_code_hash
    sign_in       {session, phone, code, phone_code_hash}: Telethon opens that file again,
                  signs in with the code, get_me; prints the user, the DC/port/key id in
                  use and StringSession.save() of the session
    load_string   {string}: a client from StringSession(string): connect, is_user_authorized,
                  get_me; prints them, and whether StringSession.save() gives the same string
    load_file     {session}: the same from the `.session` file at `session`; also prints the
                  file's schema version after Telethon opened it
    schema        {ours, theirs}: Telethon creates its own `.session` file at `theirs` (with
                  a key); prints both files' tables, columns, indexes, version rows and
                  the SQLite type of each `sessions` value, read-only
    pyrogram      {string}: struct.unpack(">BI?256sQ?") of the unpadded base64 string, as
                  Pyrogram reads it; prints the fields and the key's id
    craft         {dir}: writes malformed `.session` files into `dir` (names printed)

Prints one JSON object per step on stdout ({"flow", "step", ...}); any unexpected exception
ends the script with status 1 and a traceback on stderr.
"""
import asyncio
import base64
import hashlib
import json
import os
import sqlite3
import struct
import sys

WANTED_VERSION = "1.45.0"


def fail(message):
    print(
        f"telethon_session_move.py: {message}; run `cargo xtask py-setup`",
        file=sys.stderr,
        flush=True,
    )
    sys.exit(2)


try:
    import telethon
    from telethon import TelegramClient
    from telethon.crypto import AuthKey
    from telethon.crypto import rsa as telethon_rsa
    from telethon.sessions import SQLiteSession, StringSession
except ImportError as e:
    fail(f"Telethon is not installed in {sys.executable} ({e})")

if telethon.__version__ != WANTED_VERSION:
    fail(f"Telethon {telethon.__version__} is installed, the test needs {WANTED_VERSION}")

# Pyrogram's current session string layout (a fact of its format, checked here with Python's
# own struct module).
PYROGRAM_LAYOUT = ">BI?256sQ?"


def emit(flow, step, **fields):
    print(json.dumps({"flow": flow, "step": step, **fields}, sort_keys=True), flush=True)


def signed64(n):
    return struct.unpack("<q", struct.pack("<Q", n))[0]


def key_id(key):
    """MTProto's auth key id: the low 64 bits of SHA-1(key), little-endian, signed."""
    return struct.unpack("<q", hashlib.sha1(key).digest()[-8:])[0]


def user_fields(user):
    if user is None:
        return None
    return {"id": user.id, "is_self": bool(user.is_self), "first_name": user.first_name}


class Runner:
    def __init__(self, plan):
        self.plan = plan

    def client(self, session):
        return TelegramClient(
            session,
            self.plan["api_id"],
            self.plan["api_hash"],
            device_model="session-move-test",
            system_version="loopback",
            app_version="0.1",
            lang_code="en",
            system_lang_code="en-US",
            timeout=20,
            request_retries=1,
            # Telethon keeps g^ab unpadded as its auth key, so about one key exchange in 256
            # fails its own "invalid new nonce hash" check; the next attempt is a new one.
            connection_retries=2,
            retry_delay=0,
            auto_reconnect=False,
        )

    @staticmethod
    def where(client):
        return {
            "dc_id": client.session.dc_id,
            "server_address": client.session.server_address,
            "port": client.session.port,
            "auth_key_id": signed64(client._sender.auth_key.key_id),
        }

    async def send_code(self, flow, p):
        session = SQLiteSession(p["session"])
        session.set_dc(2, "127.0.0.1", self.plan["port"])
        client = self.client(session)
        await client.connect()
        sent = await client.send_code_request(p["phone"])
        emit(flow, "send_code", phone_code_hash=sent.phone_code_hash, **self.where(client))
        await client.disconnect()

    async def sign_in(self, flow, p):
        client = self.client(SQLiteSession(p["session"]))
        await client.connect()
        user = await client.sign_in(
            p["phone"], p["code"], phone_code_hash=p["phone_code_hash"]
        )
        me = await client.get_me()
        emit(
            flow,
            "sign_in",
            user=user_fields(user),
            me=user_fields(me),
            string=StringSession.save(client.session),
            **self.where(client),
        )
        await client.disconnect()

    async def load(self, flow, client):
        await client.connect()
        authorized = await client.is_user_authorized()
        me = await client.get_me()
        return {"authorized": authorized, "me": user_fields(me), **self.where(client)}

    async def load_string(self, flow, p):
        client = self.client(StringSession(p["string"]))
        fields = await self.load(flow, client)
        fields["same_string"] = StringSession.save(client.session) == p["string"]
        await client.disconnect()
        emit(flow, "load", **fields)

    async def load_file(self, flow, p):
        client = self.client(SQLiteSession(p["session"]))
        fields = await self.load(flow, client)
        await client.disconnect()
        db = sqlite3.connect(f"file:{p['session']}?mode=ro", uri=True)
        try:
            fields["version_after"] = [r[0] for r in db.execute("select version from version")]
        finally:
            db.close()
        emit(flow, "load", **fields)

    @staticmethod
    def describe(path):
        """Tables, columns, indexes, version rows and `sessions` value types, read-only."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in db.execute(
                    "select name from sqlite_master where type = 'table' order by name"
                )
            ]
            columns = {t: [list(r) for r in db.execute(f"pragma table_info({t})")] for t in tables}
            indexes = {
                t: sorted([list(r) for r in db.execute(f"pragma index_list({t})")])
                for t in tables
            }
            versions = [r[0] for r in db.execute("select version from version")]
            types = [
                list(r)
                for r in db.execute(
                    "select typeof(dc_id), typeof(server_address), typeof(port), "
                    "typeof(auth_key), typeof(takeout_id), typeof(tmp_auth_key) from sessions"
                )
            ]
            tmp_key = [
                len(r[0]) if r[0] is not None else None
                for r in db.execute("select tmp_auth_key from sessions")
            ]
            return {
                "tables": tables,
                "columns": columns,
                "indexes": indexes,
                "versions": versions,
                "types": types,
                "tmp_auth_key_len": tmp_key,
            }
        finally:
            db.close()

    async def schema(self, flow, p):
        theirs = SQLiteSession(p["theirs"])
        theirs.set_dc(2, "127.0.0.1", 443)
        theirs.auth_key = AuthKey(bytes(range(256)))
        theirs.save()
        theirs.close()
        emit(flow, "schema", ours=self.describe(p["ours"]), theirs=self.describe(p["theirs"]))

    async def pyrogram(self, flow, p):
        s = p["string"]
        packed = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        dc_id, api_id, test_mode, key, user_id, is_bot = struct.unpack(PYROGRAM_LAYOUT, packed)
        emit(
            flow,
            "unpack",
            length=len(s),
            padded="=" in s,
            bytes=len(packed),
            dc_id=dc_id,
            api_id=api_id,
            test_mode=test_mode,
            auth_key_id=key_id(key),
            user_id=user_id,
            is_bot=is_bot,
        )

    async def craft(self, flow, p):
        """Malformed `.session` files, each made from a real Telethon one where it can be."""
        d = p["dir"]

        def telethon_file(name, key=True):
            path = os.path.join(d, name)
            session = SQLiteSession(path)
            session.set_dc(2, "127.0.0.1", 443)
            if key:
                session.auth_key = AuthKey(bytes(range(256)))
            session.save()
            session.close()
            return path

        def edit(path, *statements):
            db = sqlite3.connect(path)
            try:
                with db:
                    for statement in statements:
                        db.execute(statement)
            finally:
                db.close()

        # Telethon's own file before its first connection: no key.
        telethon_file("fresh.session", key=False)
        edit(telethon_file("newer.session"), "update version set version = 9")
        edit(
            telethon_file("short_key.session"),
            "update sessions set auth_key = randomblob(100)",
        )
        edit(
            telethon_file("two_rows.session"),
            "insert into sessions values (3, '127.0.0.1', 443, zeroblob(256), null, x'')",
        )
        edit(
            telethon_file("bad_address.session"),
            "update sessions set server_address = 'dc2.example.invalid'",
        )
        edit(telethon_file("dc_zero.session"), "update sessions set dc_id = 0")
        edit(telethon_file("zero_key.session"), "update sessions set auth_key = zeroblob(256)")
        edit(telethon_file("text_port.session"), "update sessions set port = 'https'")
        # Pyrogram's session file: its own `version (number)` and `sessions` tables.
        edit(
            os.path.join(d, "pyrogram.session"),
            "create table sessions (dc_id integer primary key, api_id integer, "
            "test_mode integer, auth_key blob, date integer not null, user_id integer, "
            "is_bot integer)",
            "create table version (number integer primary key)",
            "insert into version values (3)",
            "insert into sessions values (2, 1, 0, zeroblob(256), 0, 1000, 0)",
        )
        edit(
            os.path.join(d, "no_sessions.session"),
            "create table version (version integer primary key)",
            "insert into version values (8)",
        )
        edit(
            os.path.join(d, "no_port.session"),
            "create table version (version integer primary key)",
            "insert into version values (8)",
            "create table sessions (dc_id integer primary key, server_address text, "
            "auth_key blob)",
            "insert into sessions values (2, '127.0.0.1', zeroblob(256))",
        )
        emit(flow, "crafted", files=sorted(os.listdir(d)))

    async def run(self):
        if "pem" in self.plan:
            # Only our key: Telethon ships Telegram's keys in the same table.
            telethon_rsa._server_keys.clear()
            telethon_rsa.add_key(self.plan["pem"], old=False)
        for p in self.plan["flows"]:
            await getattr(self, p["flow"])(p["flow"], p)
            emit(p["flow"], "done")


def main():
    plan = json.loads(sys.stdin.read())
    asyncio.run(asyncio.wait_for(Runner(plan).run(), plan.get("timeout", 80)))


if __name__ == "__main__":
    main()
