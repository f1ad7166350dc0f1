"""Telethon 1.45 signs in as a bot with `client.start(bot_token=...)` against the test DC.

Input (stdin, JSON): {"pem": ..., "port": DC 2's port, "token": "ID:SECRET", "wrong": "ID:BAD"}.
Prints JSON lines: {"step": "wrong_token", "error": class name}, then {"step": "get_me", ...}.
"""
import asyncio
import json
import sys

from telethon import TelegramClient
from telethon.crypto import rsa as trsa
from telethon.sessions import MemorySession


def trust(pem: str) -> None:
    trsa._server_keys.clear()
    trsa.add_key(pem, old=False)


def client(port: int) -> TelegramClient:
    session = MemorySession()
    session.set_dc(2, "127.0.0.1", port)
    return TelegramClient(session, 611335, "d524b414d21f4d37f08684c1df41ac9c",
                          connection_retries=2, retry_delay=0)


async def main() -> None:
    plan = json.load(sys.stdin)
    trust(plan["pem"])
    wrong = client(plan["port"])
    try:
        await wrong.start(bot_token=plan["wrong"])
        print(json.dumps({"step": "wrong_token", "error": None}))
    except Exception as e:  # noqa: BLE001 - the class name is the result
        print(json.dumps({"step": "wrong_token", "error": type(e).__name__}))
    finally:
        await wrong.disconnect()
    bot = client(plan["port"])
    await bot.start(bot_token=plan["token"])
    me = await bot.get_me()
    print(json.dumps({"step": "get_me", "id": me.id, "bot": bool(me.bot),
                      "first_name": me.first_name, "username": me.username}))
    await bot.disconnect()


asyncio.run(main())
