#!/usr/bin/env python3
"""A real SMTP server for madoguchi's tests (aiosmtpd from PyPI).

Accepts mail on 127.0.0.1 and delivers each message into a Maildir
(DIR/Maildir) and, for the tests to read without a MIME parser, as one JSON
line in DIR/received.jsonl: envelope, every header (decoded), the text and
HTML parts (decoded).

A control file (DIR/control.json, read on every command, may be absent)
makes it misbehave like a real relay:
  {"tempfail_until": <unix seconds>}  every RCPT and DATA answers 451 until then
  {"reject": ["a@example.jp"]}        RCPT TO those addresses answers 550
  {"delay_ms": 200}                   every DATA waits this long before answering

Usage: smtp-test-server.py DIR   (prints "port N" on stdout once listening;
runs until killed).
"""

import asyncio
import email
import email.policy
import json
import mailbox
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, root):
        self.root = root
        self.maildir = mailbox.Maildir(os.path.join(root, "Maildir"), create=True)
        self.control_path = os.path.join(root, "control.json")
        self.received = open(os.path.join(root, "received.jsonl"), "a", encoding="utf-8")
        self._control = ({}, None)

    def control(self):
        try:
            mtime = os.stat(self.control_path).st_mtime_ns
        except FileNotFoundError:
            return {}
        if self._control[1] != mtime:
            try:
                with open(self.control_path, encoding="utf-8") as f:
                    self._control = (json.load(f), mtime)
            except (OSError, ValueError):
                return self._control[0]
        return self._control[0]

    def tempfail(self):
        return time.time() < float(self.control().get("tempfail_until", 0))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.tempfail():
            return "451 4.3.0 Temporarily unavailable, try again later"
        rejected = [a.lower() for a in self.control().get("reject", [])]
        if address.lower() in rejected:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        delay = int(self.control().get("delay_ms", 0))
        if delay:
            await asyncio.sleep(delay / 1000)
        if self.tempfail():
            return "451 4.3.0 Temporarily unavailable, try again later"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self.maildir.add(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = html = None
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_type() == "text/plain" and text is None:
                text = part.get_content()
            elif part.get_content_type() == "text/html" and html is None:
                html = part.get_content()
        self.received.write(
            json.dumps(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "headers": [[k, str(v)] for k, v in msg.items()],
                    "text": text,
                    "html": html,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        self.received.flush()
        return "250 2.0.0 Message accepted for delivery"


async def main(root):
    handler = Handler(root)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-test.invalid", data_size_limit=10 * 1024 * 1024),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    asyncio.run(main(sys.argv[1]))
