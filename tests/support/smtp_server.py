"""A real SMTP server for keyport's tests (aiosmtpd): `smtp_server.py PORT DIR`.

Each message it accepts is written to DIR as N.eml, with N.to beside it listing the envelope
recipients. A recipient starting with `refused` gets a permanent 550, one starting with `busy`
a passing 451, and a mail to one starting with `slow` is accepted after a quarter of a second.
Prints `ready` once it listens.
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        if address.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(to.startswith("slow") for to in envelope.rcpt_tos):
            await asyncio.sleep(0.25)
        self.count += 1
        name = os.path.join(self.folder, f"{self.count:05}")
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(name + ".to", "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        os.rename(name + ".tmp", name + ".eml")
        return "250 2.0.0 Message accepted for delivery"


async def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Handler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
