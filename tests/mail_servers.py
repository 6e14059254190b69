"""SMTP servers on loopback that misbehave on purpose: refusals per address, silence."""

from __future__ import annotations

import socket
import threading


class ScriptedSmtp:
    """Answers RCPT TO per address: a reply string always, or a list of replies, one per attempt,
    after which the address is accepted. Every accepted message's recipients are kept. For an
    address in `end_replies`, the end of its message is answered so (a refusal keeps nothing); for
    one in `hang_up_after_end`, the server takes the message, then hangs up without an answer.
    """

    def __init__(
        self,
        replies: dict[str, str | list[str]],
        *,
        end_replies: dict[str, str] | None = None,
        hang_up_after_end: tuple[str, ...] = (),
    ):
        from aiosmtpd.controller import Controller

        self.replies = {k: (list(v) if isinstance(v, list) else v) for k, v in replies.items()}
        self.end_replies = end_replies or {}
        self.hang_up_after_end = set(hang_up_after_end)
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler:
            async def handle_RCPT(self, srv, session, envelope, address, rcpt_options):
                with server.lock:
                    reply = server.replies.get(address)
                    if isinstance(reply, list):
                        reply = reply.pop(0) if reply else None
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, srv, session, envelope):
                for address in envelope.rcpt_tos:
                    if address in server.end_replies:
                        return server.end_replies[address]
                with server.lock:
                    server.accepted.extend(envelope.rcpt_tos)
                if server.hang_up_after_end & set(envelope.rcpt_tos):
                    srv.transport.abort()  # the answer never leaves
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> ScriptedSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class SilentSmtp:
    """Accepts TCP connections and never says a word: the client must time out."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                self.held.append(self.listener.accept()[0])
            except TimeoutError:
                continue

    def start(self) -> SilentSmtp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.listener.close()
