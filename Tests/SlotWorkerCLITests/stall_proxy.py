#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 for fault tests: forwards every connection to 127.0.0.1:TARGET.

Usage: stall_proxy.py TARGET_PORT. Prints its own port on the first line of standard output.
A line "stall" on standard input stops forwarding without closing anything: bytes already sent stay unread, nothing
is written, new connections are not accepted (the kernel still completes their handshake) - like a network that went
dark, except that this kernel still acknowledges packets, so TCP keepalives cannot see it. "resume" forwards again.
Each command is acknowledged with a line "ok" on standard output. It exits when its standard input closes."""

import selectors
import socket
import sys

target = int(sys.argv[1])
stalled = False

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
listener.setblocking(False)
print(listener.getsockname()[1], flush=True)

selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ)
selector.register(sys.stdin, selectors.EVENT_READ)
peers = {}


def drop(sock):
    other = peers.pop(sock, None)
    for s in (sock, other):
        if s is None:
            continue
        peers.pop(s, None)
        try:
            selector.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()




def command():
    global stalled
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    stalled = line.strip() == "stall"
    print("ok", flush=True)


while True:
    if stalled:
        command()
        continue
    for key, _ in selector.select(timeout=1):
        sock = key.fileobj
        if stalled:
            break
        if sock is sys.stdin:
            command()
            continue
        if sock is listener:
            try:
                client, _ = listener.accept()
            except BlockingIOError:
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setblocking(True)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peers[client] = upstream
            peers[upstream] = client
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            continue
        if sock not in peers:
            continue
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            drop(sock)
            continue
        try:
            peers[sock].sendall(data)
        except OSError:
            drop(sock)
