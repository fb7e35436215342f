"""The server behind `bp-tui serve`: textual-serve's, made safe to leave running in a classroom.

Jupyter's model: a client needs the token printed in the URL (or a cookie the page set), live
sessions are limited, and a session's process group ends with its websocket, whatever the
dashboard does. Nothing a client sends is trusted: a bad request or message is one log line.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import itertools
import json
import logging
import os
import shlex
import signal
import socket
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from bp_tui.cli.words import counted
from bp_tui.errors import ConfigError

log = logging.getLogger("bp-tui.serve")

QUIT_GRACE = 5.0  # seconds a dashboard has to quit when asked, before SIGTERM
TERM_GRACE = 3.0  # then SIGTERM's, before SIGKILL
MAX_MESSAGE = 64 * 1024  # a websocket message bigger than this ends its session
MAX_CELLS = 1000  # terminal width or height a client may ask for
BAD_MESSAGES_LOGGED = 3  # per session, so that a flood of garbage is not a flood of lines


class OneLineFormatter(logging.Formatter):
    """Every record, the ones aiohttp logs with a traceback too, as one short line."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__})"
        text = " ".join(text.split())  # a request's bytes must not make lines of their own
        return f"bp-tui serve: {text[:200]}"


def log_in_one_line() -> logging.Handler:
    """aiohttp's, textual-serve's and our own records go to stderr, one line each."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter())
    for name in ("bp-tui.serve", "aiohttp", "textual-serve"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return handler


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` names; a name nobody knows is one line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        why = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"--host {host!r} is no address of this machine: {why}") from None
    return sorted({info[4][0] for info in infos})


def is_loopback(addresses: list[str]) -> bool:
    return all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


def is_loopback_name(host: str | None) -> bool:
    """A Host header that names this machine (not a name a DNS rebinding could point here)."""
    if not host:
        return False
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class Envelope:
    """A message from the page's terminal: its kind and data, checked."""

    kind: str
    data: object = None


def parse_envelope(text: str) -> Envelope:
    """The page's message, or ValueError saying what is wrong with it."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not (isinstance(envelope, list) and envelope and isinstance(envelope[0], str)):
        raise ValueError("not a [kind, data] list")
    kind, data = envelope[0], (envelope[1] if len(envelope) > 1 else None)
    if kind in ("blur", "focus"):
        return Envelope(kind)
    if kind == "stdin" and isinstance(data, str):
        return Envelope(kind, data)
    if kind == "ping" and isinstance(data, str) and len(data) <= 64:
        return Envelope(kind, data)
    if kind == "resize" and isinstance(data, dict):
        width, height = data.get("width"), data.get("height")
        if all(type(n) is int and 1 <= n <= MAX_CELLS for n in (width, height)):
            return Envelope(kind, (width, height))
    raise ValueError(f"a {kind[:20]!r} message with data it does not take")


def cells(value: str | None, default: int) -> int:
    return min(max(to_int(value or "", default), 1), MAX_CELLS)


class Session(AppService):
    """One page's dashboard: its own process group, ended (quit, SIGTERM, SIGKILL) on stop."""

    def __init__(self, number: int, peer: str, command: str, **service) -> None:
        super().__init__(command, **service)
        self.number = number
        self.peer = peer
        self.bad_messages = 0
        self._ending: asyncio.Task[None] | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24):
        # exec, not a shell, and a process group of its own: the dashboard, its engine and
        # whatever else they start end together, by killpg.
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    async def send_meta(self, data: dict) -> bool:
        return await self._bounded(super().send_meta(data))

    async def send_bytes(self, data: bytes) -> bool:
        return await self._bounded(super().send_bytes(data))

    async def _bounded(self, sending) -> bool:
        # A dashboard that reads no input (or has gone) must not block the server.
        try:
            return await asyncio.wait_for(sending, QUIT_GRACE)
        except (asyncio.TimeoutError, OSError, RuntimeError):
            return False

    async def stop(self) -> None:
        """End the dashboard and all its process group; safe to call again, or at once."""
        if self._process is None:
            return  # not started (yet): the handler stops it once start returns
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        process = self._process
        await self.send_meta({"type": "quit"})
        if self._stdin is not None:
            self._stdin.close()  # end of input: a dashboard that missed the quit sees this
        for signum, grace in ((None, QUIT_GRACE), (signal.SIGTERM, TERM_GRACE)):
            if signum is not None:
                self._signal_group(signum)
            if await self._group_ends(grace):
                break
        else:
            self._signal_group(signal.SIGKILL)
            await self._group_ends(TERM_GRACE)
        if self._task is not None:  # it forwards the dashboard's last output, if it can
            try:
                await asyncio.wait_for(asyncio.shield(self._task), TERM_GRACE)
            except asyncio.TimeoutError:
                self._task.cancel()
            self._task = None
        # asyncio lets go of a process once its pipes have ended, which nobody reads any more.
        for stream in (process.stdout, process.stderr):
            try:
                await asyncio.wait_for(stream.read(), TERM_GRACE)
            except (asyncio.TimeoutError, RuntimeError, OSError):
                pass
        try:
            await asyncio.wait_for(self.remote_close(), TERM_GRACE)
        except (asyncio.TimeoutError, ConnectionError):
            pass

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self._process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    async def _group_ends(self, seconds: float) -> bool:
        """Whether the dashboard and all its group (its engine) end within `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while group_alive(self._process.pid):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def group_alive(group: int) -> bool:
    """Whether a process of the group lives (a zombie waits for its parent: it is gone)."""
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no /proc: killpg's word
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                state, _parent, pgrp = stat.read().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            return True
    return False


class Classroom(Server):
    """textual-serve's Server with a token, a limit on live sessions and sessions that end."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        token: str | None,
        max_sessions: int,
    ) -> None:
        super().__init__(command, host=host, port=port, title="bp-tui")
        self.token = token
        self.max_sessions = max_sessions
        self.sessions: set[Session] = set()
        self.numbers = itertools.count(1)
        self.cookie = f"bp-tui-token-{port}"  # cookies ignore ports: one name per server
        self.closing = False

    # Who may come in

    def admitted(self, request: web.Request) -> bool:
        if self.token is None:
            return is_loopback_name(request.host)
        given = [
            request.query.get("token", ""),
            request.cookies.get(self.cookie, ""),
            request.headers.get("Authorization", "").removeprefix("token "),
        ]
        return any(
            hmac.compare_digest(text.encode(), self.token.encode()) for text in given if text
        )

    def forbidden(self, request: web.Request) -> web.Response:
        if self.token is None:  # --no-token: only this machine's own names are let in
            log.info("refused %s: asked for host %r", request.remote, request.host[:60])
            return page(
                403,
                "Open it by this machine's address",
                f"Use <code>http://127.0.0.1:{self.port}/</code> on the machine that serves it.",
            )
        log.info("refused %s: no token or a wrong one", request.remote)
        return page(
            403,
            "This dashboard needs its token",
            "Open the address <code>bp-tui serve</code> printed, with its "
            "<code>?token=</code> part (ask whoever started it).",
        )

    def full(self, request: web.Request) -> web.Response:
        log.info("refused %s: %s", request.remote, self.full_text())
        return page(503, "All dashboards are in use", escape(self.full_text()))

    def full_text(self) -> str:
        live = len(self.sessions)
        are = "is" if live == 1 else "are"
        return f"{live} of {counted(self.max_sessions, 'session')} {are} live; close a tab or try again later."

    def same_origin(self, request: web.Request) -> bool:
        """A page of another site may not open a websocket here (the browser sends Origin)."""
        origin = request.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == request.host

    # Pages

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if not self.admitted(request):
            return self.forbidden(request)
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if len(self.sessions) >= self.max_sessions:
            return self.full(request)
        # Addresses from the request, not from --host: 0.0.0.0 means nothing to a browser.
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": cells(request.query.get("fontsize"), 16),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
        if self.token is not None:
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
        return response

    # Sessions

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.same_origin(request):
            log.info("refused %s: a websocket from another site's page", request.remote)
            return page(403, "Not from this page", "Open the dashboard's own address.")
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await websocket.prepare(request)
        if self.closing or len(self.sessions) >= self.max_sessions:
            # The page shows what the terminal receives: say it there; no process starts.
            text = "server stopping" if self.closing else self.full_text()
            log.info("refused %s: %s", request.remote, text)
            await websocket.send_bytes(f"\r\n  bp-tui: {text}\r\n".encode())
            await websocket.close(code=1013, message=b"try again later")
            return websocket
        session = Session(
            next(self.numbers),
            request.remote or "?",
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions.add(session)
        try:
            width = cells(request.query.get("width"), 80)
            height = cells(request.query.get("height"), 24)
            await session.start(width, height)
            if self.closing:
                return websocket  # the server stopped while this one started
            log.info("session %d for %s started (%s)", session.number, session.peer, self.live())
            await self._process_messages(websocket, session)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception as error:  # a session's fault is its own, never the server's
            log.info("session %d failed: %s: %s", session.number, type(error).__name__, error)
        finally:
            log.info("session %d ending (its page or its dashboard has closed)", session.number)
            await session.stop()
            self.sessions.discard(session)
            log.info("session %d ended (%s)", session.number, self.live())
        return websocket

    def live(self) -> str:
        return f"{len(self.sessions)} of {self.max_sessions} live"

    async def _process_messages(self, websocket: web.WebSocketResponse, session: Session) -> None:
        async for message in websocket:
            if message.type == WSMsgType.ERROR:
                error = websocket.exception()
                if getattr(error, "code", None) == WSCloseCode.MESSAGE_TOO_BIG:
                    error = f"a message over {MAX_MESSAGE} bytes"
                log.info("session %d: closed: %s", session.number, error)
                return
            if message.type != WSMsgType.TEXT:
                self.bad_message(session, "a binary message")
                continue
            try:
                envelope = parse_envelope(message.data)
            except ValueError as why:
                self.bad_message(session, str(why))
                continue
            if envelope.kind == "stdin":
                await session.send_bytes(envelope.data.encode("utf-8", "replace"))
            elif envelope.kind == "resize":
                await session.set_terminal_size(*envelope.data)
            elif envelope.kind == "ping":
                await websocket.send_json(["pong", envelope.data])
            elif envelope.kind == "blur":
                await session.blur()
            elif envelope.kind == "focus":
                await session.focus()

    def bad_message(self, session: Session, why: str) -> None:
        session.bad_messages += 1
        if session.bad_messages <= BAD_MESSAGES_LOGGED:
            more = (
                "; more are ignored quietly" if session.bad_messages == BAD_MESSAGES_LOGGED else ""
            )
            log.info("session %d: ignored %s%s", session.number, why, more)

    # Running

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve's banner is not printed: `bp-tui serve` says its own one line."""

    async def run(self, ready) -> int:
        """Serve until SIGINT, SIGTERM or SIGHUP; then end every session. Returns the signal."""
        runner = web.AppRunner(await self._make_app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            why = os.strerror(error.errno) if error.errno else str(error)
            raise ConfigError(f"cannot listen on {self.host} port {self.port}: {why}") from None
        loop = asyncio.get_running_loop()
        stopped: asyncio.Future[int] = loop.create_future()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(
                signum, lambda n=signum: stopped.done() or stopped.set_result(n)
            )
        ready()
        signum = await stopped
        self.closing = True
        log.info("stopping: ending %d sessions", len(self.sessions))
        deadline = loop.time() + 3 * (QUIT_GRACE + 2 * TERM_GRACE)
        while self.sessions and loop.time() < deadline:  # one may be starting still
            await asyncio.gather(*(session.stop() for session in list(self.sessions)))
            await asyncio.sleep(0.05)
        await runner.cleanup()
        return signum


def page(status: int, title: str, body: str) -> web.Response:
    """A short HTML page a browser shows instead of the dashboard."""
    html = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>bp-tui: {title}</title>"
        "<style>body{font-family:monospace;background:#0c181f;color:#eee;padding:3em}"
        "code{color:#fc6}</style></head>"
        f"<body><h1>bp-tui: {title}</h1><p>{body}</p></body></html>"
    )
    return web.Response(status=status, text=html, content_type="text/html")
