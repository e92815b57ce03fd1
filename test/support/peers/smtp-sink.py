#!/usr/bin/env python3
# A loopback SMTP server for the e-mail alert tests, on Debian's python3-aiosmtpd (the `aiosmtpd`
# CLI can offer STARTTLS, but cannot report what it saw, demand AUTH or answer 4xx/5xx on cue).
#
# Listens on 127.0.0.1 on a port picked by the kernel and writes one JSON line per event to
# stdout: {"event": "listening", "port": N} first, then "starttls" (RFC 3207 handshake done),
# "auth" (login, ok), "refused" (the code a DATA was answered with) and "message" (envelope,
# whole RFC 5322 text, its headers and plain-text body as Python's email package decodes them,
# whether the session was under TLS, whether it got there by STARTTLS, the login). --tls starttls refuses everything but EHLO/NOOP/QUIT/STARTTLS before the handshake
# (require_starttls), so a message that arrives proves the client upgraded.
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class Sink:
    def __init__(self, temp_fail, reject):
        self.temp_fail = temp_fail
        self.reject = reject

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            emit("refused", code=550)
            return "550 5.7.1 Message rejected by policy"
        if self.temp_fail > 0:
            self.temp_fail -= 1
            emit("refused", code=451)
            return "451 4.3.0 Try again later"
        # Python's own MIME parser decodes what we encoded (RFC 2047 words, quoted-printable)
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        emit(
            "message",
            mailFrom=envelope.mail_from,
            rcptTos=envelope.rcpt_tos,
            data=envelope.original_content.decode("utf-8", "replace"),
            headers={name.lower(): str(value) for name, value in parsed.items()},
            text=parsed.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"),
            tls=server.transport.get_extra_info("ssl_object") is not None,
            starttls=server._original_transport is not None,
            login=session.auth_data if session.authenticated else None,
        )
        return "250 2.0.0 OK"

    def handle_STARTTLS(self, server, session, envelope):
        emit("starttls")
        return True


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        login = auth_data.login.decode("utf-8", "replace") if isinstance(auth_data, LoginPassword) else None
        emit("auth", mechanism=mechanism, login=login, ok=ok)
        # handled=False: aiosmtpd answers 535 itself (with the default, handled=True, it answers nothing)
        return AuthResult(success=ok, handled=False, auth_data=login)

    return check


async def serve(args):
    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    handler = Sink(args.temp_fail, args.reject)
    options = {"hostname": "smtp.test", "decode_data": False}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        # Over implicit TLS aiosmtpd 1.4 does not know the session is encrypted: allow AUTH there.
        options.update(
            authenticator=authenticator(args.user, args.password),
            auth_required=True,
            auth_require_tls=args.tls == "starttls",
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, loop=loop, **options),
        host="127.0.0.1",
        port=0,
        ssl=context if args.tls == "implicit" else None,
    )
    emit("listening", port=server.sockets[0].getsockname()[1])
    asyncio.create_task(exit_with_parent(os.getppid()))
    async with server:
        await server.serve_forever()


async def exit_with_parent(parent):
    # a test runner killed outright never stops its peers: do not outlive it
    while os.getppid() == parent:
        await asyncio.sleep(1)
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password", default="")
    parser.add_argument("--temp-fail", type=int, default=0, help="answer the first N messages 451")
    parser.add_argument("--reject", action="store_true", help="answer every message 550")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
