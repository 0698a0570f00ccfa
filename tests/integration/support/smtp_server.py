#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SMTP server for the integration tests, on aiosmtpd.

Listens on HOST:PORT (port 0: any free one) and prints "PORT <n>" once it accepts
connections. Every accepted message is stored in DIR as NNNNNN.eml (the bytes as received,
dot-unstuffed) beside NNNNNN.json (envelope, EHLO name, TLS, login). Both appear by rename,
so a reader never sees half a file. With --silent it is no SMTP server at all: it accepts
connections, marks each with a file NNNNNN.conn and never says a word. Stops on SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, directory, fail_code, fail_count, refuse):
        self.directory = directory
        self.fail_code = fail_code
        self.fail_count = fail_count
        self.refuse = {a.lower() for a in refuse}
        self.sequence = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_count != 0:
            if self.fail_count > 0:
                self.fail_count -= 1
            kind = "try again later" if self.fail_code < 500 else "message refused"
            return "%d %d.7.0 %s" % (self.fail_code, self.fail_code // 100, kind)
        self.sequence += 1
        base = os.path.join(self.directory, "%06d" % self.sequence)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": ",".join(envelope.rcpt_tos),  # flat: the C++ side reads flat JSON
            "ehlo": session.host_name or "",
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "login": (session.login_data or b"").decode("utf-8", "replace"),
        }
        write_atomically(base + ".json", json.dumps(meta).encode())
        write_atomically(base + ".eml", envelope.original_content)
        return "250 OK stored"


class Silent(asyncio.Protocol):
    """Takes the connection and keeps it open without a greeting: a hung mail server."""

    def __init__(self, directory, connections):
        self.directory = directory
        self.connections = connections

    def connection_made(self, transport):
        self.connections.append(transport)
        name = "%06d.conn" % len(self.connections)
        write_atomically(os.path.join(self.directory, name), b"")


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def serve(args):
    loop = asyncio.get_running_loop()
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    handler = Store(args.dir, args.fail_code, args.fail_count, args.refuse)

    def factory():
        options = {"hostname": "smtp.test", "ident": "ubc test server"}
        if context is not None and not args.implicit_tls:
            options.update(tls_context=context, require_starttls=True)
        if args.auth:
            user, _, password = args.auth.partition(":")
            # aiosmtpd only counts STARTTLS as encryption; with implicit TLS (or on purpose,
            # for a plain-text relay) AUTH must be allowed without it.
            options.update(authenticator=make_authenticator(user, password), auth_required=True,
                           auth_require_tls=not (args.auth_plaintext or args.implicit_tls))
        return SMTP(handler, **options)

    connections = []
    if args.silent:
        server = await loop.create_server(lambda: Silent(args.dir, connections), host=args.host, port=args.port)
    else:
        server = await loop.create_server(factory, host=args.host, port=args.port,
                                          ssl=context if args.implicit_tls else None)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for transport in connections:
        transport.abort()
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert", help="server certificate (PEM): STARTTLS is then required")
    p.add_argument("--key", help="its private key (PEM)")
    p.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    p.add_argument("--auth", help="USER:PASSWORD; AUTH is then required")
    p.add_argument("--auth-plaintext", action="store_true", help="allow AUTH without TLS")
    p.add_argument("--fail-code", type=int, default=451, help="reply to DATA while failing")
    p.add_argument("--fail-count", type=int, default=0, help="DATA commands to fail; -1: all")
    p.add_argument("--silent", action="store_true", help="accept connections, never answer")
    p.add_argument("--refuse", action="append", default=[], help="recipient to refuse (550)")
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
