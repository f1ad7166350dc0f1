"""Session-level oracle built on Telethon 1.45: MTProto 2.0 messages as a client and a server
session exchange them (headers, containers, gzip_packed, rpc_result), read and written by
Telethon's own code.

Usage: session_telethon.py MODE; stdin one case per line (fields separated by spaces, byte
strings in hex, integers signed decimal); stdout lines of space-separated fields.

decrypt-client  "auth_key packet"
    A client -> server packet, decrypted with Telethon's key derivation for x = 0
    (`MTProtoState._calc_key(..., client=True)`, `telethon.crypto.AES.decrypt_ige`), its
    msg_key recomputed the way `MTProtoState.encrypt_message_data` computes it, then parsed
    with `BinaryReader` (the body with `tgread_object`, containers with Telethon's
    `MessageContainer`). Prints
        "packet salt session_id msg_id seq_no length padding_len"
        "container count"                     (only for a msg_container)
        "message msg_id seq_no ClassName hex"  (the body, or each message of the container;
                                               hex is `bytes(obj)`, Telethon re-serializing
                                               what it parsed; a gzip_packed body is
                                               unpacked and named "gzip:ClassName")
decrypt-server  "auth_key session_id salt packet"
    A server -> client packet through `MTProtoState.decrypt_message_data` (the real client
    code path: key id, msg_key, session id, msg_id parity, replay and time window) on a state
    with that `auth_key`, `id` = session_id, `salt`, `time_offset` = 0. Prints
        "ignored"                                   (Telethon dropped it), or
        "container msg_id seq_no count", then one line per message (or one for the body):
        "rpc_result msg_id seq_no req_msg_id ClassName hex"   (answer re-serialized)
        "rpc_error msg_id seq_no req_msg_id code message"
        "new_session_created msg_id seq_no first_msg_id unique_id server_salt"
        "msgs_ack msg_id seq_no id,id,..."
        "other msg_id seq_no ClassName"
encrypt-client  "auth_key session_id salt"
    Telethon as the client: its `MessagePacker` (which calls
    `MTProtoState.write_data_as_message`: msg_id, seq_no, gzip when smaller) packs real
    requests built with Telethon's TL classes, and `MTProtoState.encrypt_message_data`
    encrypts them. Three packets: one request alone; `auth.signIn` and
    `auth.exportLoginToken` in a container; a >512-byte request that Telethon gzips. Prints
    per packet "packet hex", then "request msg_id hex" per request (hex = `bytes(request)`).
"""
import asyncio
import collections
import hashlib
import logging
import struct
import sys

from telethon.crypto import AES, AuthKey
from telethon.crypto import aes as telethon_aes
from telethon.extensions import BinaryReader
from telethon.extensions.messagepacker import MessagePacker
from telethon.network.mtprotostate import MTProtoState
from telethon.network.requeststate import RequestState
from telethon.tl import functions, types
from telethon.tl.core import GzipPacked, MessageContainer, RpcResult

if telethon_aes.cryptg is None:
    sys.exit("cryptg is not installed")

LOGGERS = collections.defaultdict(lambda: logging.getLogger("oracle"))


def fail(message):
    sys.exit("session_telethon.py: " + message)


def message_line(msg_id, seq_no, obj):
    name = type(obj).__name__
    if isinstance(obj, GzipPacked):
        obj = BinaryReader(obj.data).tgread_object()
        name = "gzip:" + type(obj).__name__
    return "message {} {} {} {}".format(msg_id, seq_no, name, bytes(obj).hex())


def decrypt_client(key, packet):
    auth_key = AuthKey(key)
    if struct.unpack("<Q", packet[:8])[0] != auth_key.key_id:
        fail("auth_key_id does not match")
    msg_key = packet[8:24]
    aes_key, aes_iv = MTProtoState._calc_key(key, msg_key, True)
    plain = AES.decrypt_ige(packet[24:], aes_key, aes_iv)
    # What `encrypt_message_data` does for x = 0: SHA256(key[88:120] + plaintext + padding).
    if hashlib.sha256(key[88:88 + 32] + plain).digest()[8:24] != msg_key:
        fail("msg_key does not match")
    reader = BinaryReader(plain)
    salt = reader.read_long()
    session_id = reader.read_long()
    msg_id = reader.read_long()
    seq_no = reader.read_int()
    length = reader.read_int()
    body = reader.read(length)
    out = ["packet {} {} {} {} {} {}".format(
        salt, session_id, msg_id, seq_no, length, len(plain) - 32 - length)]
    obj = BinaryReader(body).tgread_object()
    if isinstance(obj, MessageContainer):
        out.append("container {}".format(len(obj.messages)))
        for m in obj.messages:
            out.append(message_line(m.msg_id, m.seq_no, m.obj))
    else:
        out.append(message_line(msg_id, seq_no, obj))
    return out


def server_message_line(msg_id, seq_no, obj):
    if isinstance(obj, RpcResult):
        if obj.error is not None:
            return "rpc_error {} {} {} {} {}".format(
                msg_id, seq_no, obj.req_msg_id, obj.error.error_code, obj.error.error_message)
        # Inside a container `body` runs to the container's end: read one object from it.
        answer = BinaryReader(obj.body).tgread_object()
        return "rpc_result {} {} {} {} {}".format(
            msg_id, seq_no, obj.req_msg_id, type(answer).__name__, bytes(answer).hex())
    if isinstance(obj, types.NewSessionCreated):
        return "new_session_created {} {} {} {} {}".format(
            msg_id, seq_no, obj.first_msg_id, obj.unique_id, obj.server_salt)
    if isinstance(obj, types.MsgsAck):
        return "msgs_ack {} {} {}".format(msg_id, seq_no, ",".join(str(i) for i in obj.msg_ids))
    return "other {} {} {}".format(msg_id, seq_no, type(obj).__name__)


def decrypt_server(key, session_id, salt, packet):
    state = MTProtoState(AuthKey(key), LOGGERS)
    state.id = session_id
    state.salt = salt
    state.time_offset = 0
    message = state.decrypt_message_data(packet)
    if message is None:
        return ["ignored"]
    obj = message.obj
    if isinstance(obj, MessageContainer):
        out = ["container {} {} {}".format(message.msg_id, message.seq_no, len(obj.messages))]
        for m in obj.messages:
            out.append(server_message_line(m.msg_id, m.seq_no, m.obj))
        return out
    return [server_message_line(message.msg_id, message.seq_no, obj)]


def requests():
    send_code = functions.InvokeWithLayerRequest(
        229,
        functions.InitConnectionRequest(
            api_id=12345,
            device_model="telethon oracle",
            system_version="1.0",
            app_version="0.1",
            system_lang_code="en",
            lang_pack="",
            lang_code="en",
            query=functions.auth.SendCodeRequest(
                "+999661234567", 12345, "0123456789abcdef", types.CodeSettings()),
        ),
    )
    sign_in = functions.auth.SignInRequest("+999661234567", "hash", phone_code="12345")
    export = functions.auth.ExportLoginTokenRequest(12345, "0123456789abcdef", [1, 2, 3])
    big = functions.InvokeWithLayerRequest(
        229,
        functions.InitConnectionRequest(
            api_id=12345,
            device_model="x" * 2000,
            system_version="1.0",
            app_version="0.1",
            system_lang_code="en",
            lang_pack="",
            lang_code="en",
            query=functions.help.GetNearestDcRequest(),
        ),
    )
    return [[send_code], [sign_in, export], [big]]


async def pack(state, batch):
    packer = MessagePacker(state, LOGGERS)
    states = [RequestState(r) for r in batch]
    packer.extend(states)
    packed, data = await packer.get()
    if len(packed) != len(batch):
        fail("MessagePacker split the batch")
    return states, data


def encrypt_client(key, session_id, salt):
    state = MTProtoState(AuthKey(key), LOGGERS)
    state.id = session_id
    state.salt = salt
    out = []
    for batch in requests():
        states, data = asyncio.run(pack(state, batch))
        out.append("packet " + state.encrypt_message_data(data).hex())
        for s in states:
            out.append("request {} {}".format(s.msg_id, s.data.hex()))
    return out


def main():
    mode = sys.argv[1]
    for line in sys.stdin.read().split("\n"):
        if not line.strip():
            continue
        parts = line.split(" ")
        if mode == "decrypt-client":
            out = decrypt_client(bytes.fromhex(parts[0]), bytes.fromhex(parts[1]))
        elif mode == "decrypt-server":
            out = decrypt_server(
                bytes.fromhex(parts[0]), int(parts[1]), int(parts[2]), bytes.fromhex(parts[3]))
        elif mode == "encrypt-client":
            out = encrypt_client(bytes.fromhex(parts[0]), int(parts[1]), int(parts[2]))
        else:
            fail("unknown mode " + mode)
        print("\n".join(out))


main()
