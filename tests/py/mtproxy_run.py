"""Runs mtprotoproxy 1.0.6 (PyPI; an independent MTProxy) on 127.0.0.1 for the interop test.

Usage: mtproxy_run.py --dc-port PORT --dc N --secret HEX32 [--secure-only] [--no-fast-mode]

The package ships its proxy as a script (`mtprotoproxy.py` in the environment's scripts
folder), not as an importable module, and its `main()` does not run on Python 3.11 and looks
up the public IP online. So this loads the script as a module and drives it by hand:
a config file (one user with the secret, MASK off, no middle proxy, IPv4 loopback only),
`init_config()`, `my_ip_info` set to 127.0.0.1, the DC table pointed at our loopback test
server for DC `N` only (every other DC at 127.0.0.2, where nothing listens), `init_stats()`,
then `asyncio.start_server(handle_client_wrapper, ...)` on a free port.

Prints `PORT <n>` on stdout once listening, then runs until killed or until stdin closes
(so it never outlives the test that started it).
"""

import argparse
import asyncio
import importlib.metadata
import importlib.util
import os
import sys
import sysconfig
import tempfile
import threading

WANTED_VERSION = "1.0.6"


def fail(message):
    print(f"mtproxy_run.py: {message}; run `cargo xtask py-setup`", file=sys.stderr, flush=True)
    sys.exit(2)


def load_mtprotoproxy(config_path):
    try:
        version = importlib.metadata.version("mtprotoproxy")
    except importlib.metadata.PackageNotFoundError:
        fail("the mtprotoproxy package is not installed in " + sys.executable)
    if version != WANTED_VERSION:
        fail(f"mtprotoproxy {version} is installed, the test needs {WANTED_VERSION}")
    path = os.path.join(sysconfig.get_path("scripts"), "mtprotoproxy.py")
    if not os.path.exists(path):
        fail(f"{path} is missing")
    # Python 3.11 compatibility: the proxy names `asyncio.streams.IncompleteReadError` in an
    # `except` clause, which 3.11 no longer exports, so a relay task that ends (a closed
    # connection, a cancellation) dies with an AttributeError and a traceback instead of
    # ending quietly. Same class, under the name the proxy expects.
    if not hasattr(asyncio.streams, "IncompleteReadError"):
        asyncio.streams.IncompleteReadError = asyncio.IncompleteReadError
    # At import the script exits unless given an argument; one argument is a config path.
    sys.argv = [path, config_path]
    spec = importlib.util.spec_from_file_location("mtprotoproxy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(directory, args):
    path = os.path.join(directory, "mtproxy_config.py")
    settings = {
        "PORT": 0,
        "USERS": {"test": args.secret},
        "MASK": False,
        "USE_MIDDLE_PROXY": False,
        "SECURE_ONLY": args.secure_only,
        "FAST_MODE": not args.no_fast_mode,
        "PREFER_IPV6": False,
        "LISTEN_ADDR_IPV4": "127.0.0.1",
        "LISTEN_ADDR_IPV6": "",
        "CLIENT_HANDSHAKE_TIMEOUT": 10,
        "TG_CONNECT_TIMEOUT": 5,
        "STATS_PRINT_PERIOD": 3600,
    }
    with open(path, "w") as f:
        for name, value in settings.items():
            f.write(f"{name} = {value!r}\n")
    return path


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def serve(proxy):
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(proxy.loop_exception_handler)
    server = await asyncio.start_server(
        proxy.handle_client_wrapper,
        "127.0.0.1",
        0,
        limit=proxy.get_to_tg_bufsize(),
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dc-port", type=int, required=True)
    parser.add_argument("--dc", type=int, required=True)
    parser.add_argument("--secret", required=True, help="32 hex digits (no dd prefix)")
    parser.add_argument("--secure-only", action="store_true")
    parser.add_argument("--no-fast-mode", action="store_true")
    args = parser.parse_args()
    if len(bytes.fromhex(args.secret)) != 16:
        fail("--secret must be 16 bytes in hex")

    with tempfile.TemporaryDirectory() as directory:
        proxy = load_mtprotoproxy(write_config(directory, args))
        proxy.init_config()
    # The proxy picks the DC as TG_DATACENTERS_V4[abs(dc) - 1] and connects to it on
    # TG_DATACENTER_PORT: only DC `--dc` leads to our test server.
    index = abs(args.dc) - 1
    datacenters = ["127.0.0.2"] * max(5, index + 1)
    datacenters[index] = "127.0.0.1"
    proxy.TG_DATACENTERS_V4 = datacenters
    proxy.TG_DATACENTERS_V6 = []
    proxy.TG_DATACENTER_PORT = args.dc_port
    proxy.my_ip_info["ipv4"] = "127.0.0.1"
    proxy.my_ip_info["ipv6"] = None
    proxy.init_stats()

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(serve(proxy))


if __name__ == "__main__":
    main()
