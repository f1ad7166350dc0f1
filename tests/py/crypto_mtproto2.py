"""MTProto 2.0 message oracle built on Telethon 1.45 (`MTProtoState`, `AuthKey`, `_calc_key`,
and `telethon.crypto.AES` backed by cryptg).

Usage: crypto_mtproto2.py MODE; stdin one case per line (hex fields separated by spaces),
stdout one result per line.

decrypt-client  "auth_key msg"          -> plaintext hex: Telethon's key derivation for x = 0
                                           (client -> server), msg_key checked.
encrypt-client  "auth_key salt session data"
                                        -> Telethon's `MTProtoState.encrypt_message_data`
                                           (salt and session are signed decimal).
decrypt-server  "auth_key session msg"  -> Telethon's full client-side
                                           `MTProtoState.decrypt_message_data` of a server
                                           message: "msg_id seq_no ClassName field=value...".
encrypt-server  "auth_key plaintext padding"
                                        -> a server -> client message (x = 8) sealed with
                                           Telethon's `_calc_key` and AES, given padding.
"""
import collections
import hashlib
import logging
import struct
import sys

from telethon.crypto import AES, AuthKey
from telethon.crypto import aes as telethon_aes
from telethon.network.mtprotostate import MTProtoState

if telethon_aes.cryptg is None:
    sys.exit("cryptg is not installed")

LOGGERS = collections.defaultdict(lambda: logging.getLogger("oracle"))


def state_for(key_bytes):
    return MTProtoState(AuthKey(key_bytes), LOGGERS)


def decrypt_client(key, msg):
    auth_key = AuthKey(key)
    if struct.unpack("<Q", msg[:8])[0] != auth_key.key_id:
        return "BAD_KEY_ID"
    msg_key = msg[8:24]
    aes_key, aes_iv = MTProtoState._calc_key(key, msg_key, True)
    plain = AES.decrypt_ige(msg[24:], aes_key, aes_iv)
    if hashlib.sha256(key[88:88 + 32] + plain).digest()[8:24] != msg_key:
        return "BAD_MSG_KEY"
    return plain.hex()


def encrypt_client(key, salt, session, data):
    state = state_for(key)
    state.salt = int(salt)
    state.id = int(session)
    return state.encrypt_message_data(data).hex()


def decrypt_server(key, session, msg):
    state = state_for(key)
    state.id = int(session)
    message = state.decrypt_message_data(msg)
    if message is None:
        return "IGNORED"
    obj = message.obj
    fields = " ".join(
        "{}={}".format(k, v) for k, v in sorted(obj.to_dict().items()) if k != "_"
    )
    return "{} {} {} {}".format(message.msg_id, message.seq_no, type(obj).__name__, fields)


def encrypt_server(key, plain, padding):
    data = plain + padding
    msg_key = hashlib.sha256(key[88 + 8:88 + 8 + 32] + data).digest()[8:24]
    aes_key, aes_iv = MTProtoState._calc_key(key, msg_key, False)
    key_id = struct.pack("<Q", AuthKey(key).key_id)
    return (key_id + msg_key + AES.encrypt_ige(data, aes_key, aes_iv)).hex()


def main():
    mode = sys.argv[1]
    for line in sys.stdin.read().split("\n"):
        if not line.strip():
            continue
        parts = line.split(" ")
        if mode == "decrypt-client":
            print(decrypt_client(bytes.fromhex(parts[0]), bytes.fromhex(parts[1])))
        elif mode == "encrypt-client":
            print(encrypt_client(bytes.fromhex(parts[0]), parts[1], parts[2], bytes.fromhex(parts[3])))
        elif mode == "decrypt-server":
            print(decrypt_server(bytes.fromhex(parts[0]), parts[1], bytes.fromhex(parts[2])))
        elif mode == "encrypt-server":
            print(encrypt_server(*(bytes.fromhex(p) for p in parts)))
        else:
            sys.exit("unknown mode " + mode)


main()
