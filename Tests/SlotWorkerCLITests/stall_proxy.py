#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 for fault tests: forwards every connection to 127.0.0.1:TARGET.

Usage: stall_proxy.py TARGET_PORT. Prints its own port on the first line of standard output.
SIGUSR1 stops forwarding without closing anything: bytes already sent stay unread, nothing is written, new
connections are not accepted (the kernel still completes their handshake) - like a network that went dark, except
that this kernel still acknowledges packets, so TCP keepalives cannot see it. SIGUSR2 resumes forwarding.
It exits when its standard input closes (the test ended)."""

import os
import selectors
import signal
import socket
import sys
import time

target = int(sys.argv[1])
stalled = False


def stall(*_):
    global stalled
    stalled = True


def resume(*_):
    global stalled
    stalled = False


signal.signal(signal.SIGUSR1, stall)
signal.signal(signal.SIGUSR2, resume)

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


while True:
    if stalled:
        time.sleep(0.05)
        continue
    for key, _ in selector.select(timeout=0.1):
        sock = key.fileobj
        if stalled:
            break
        if sock is sys.stdin:
            if not os.read(sys.stdin.fileno(), 1024):
                sys.exit(0)
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
