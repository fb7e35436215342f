"""bp-tui serve as a classroom meets it: clients without the token, too many clients, bad
addresses, garbage requests and messages, tabs closed early, dashboards that stop answering,
and the server stopped with sessions live. Each case a real server and real HTTP/websocket
clients (aiohttp's, which textual-serve brings)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys

import aiohttp
import pytest

from tests.serving import Page, Served, drop_after, eventually, until_true

pytestmark = pytest.mark.hostile


def ws_url(server: Served, token: str | None = None) -> str:
    query = "width=100&height=30"
    if token or server.token:
        query += f"&token={token or server.token}"
    return f"ws://127.0.0.1:{server.port}/ws?{query}"


async def open_page(client: aiohttp.ClientSession, server: Served) -> Page:
    page = Page(await client.ws_connect(ws_url(server)))
    await page.send(json.dumps(["resize", {"width": 100, "height": 30}]))
    return page


def log_lines(server: Served) -> list[str]:
    return server.log().splitlines()


async def test_a_client_without_the_token_is_refused_and_no_session_starts(served):
    server = served("--paused")
    assert server.token and len(server.token) >= 32
    async with aiohttp.ClientSession() as client:
        for query in ("", "?token=wrong", f"?token={server.token[:-1]}"):
            async with client.get(server.base() + "/" + query) as response:
                assert response.status == 403
                assert "needs its token" in await response.text()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(f"ws://127.0.0.1:{server.port}/ws?width=80&height=24")
        assert refused.value.status == 403
        assert server.children() == []  # no dashboard was started for anyone of them
        async with client.get(server.url) as response:
            assert response.status == 200
            assert f"ws://127.0.0.1:{server.port}/ws" in await response.text()
    # The token is in the one line that gives the URL, in no other line of the log.
    assert [line for line in log_lines(server) if server.token in line] == [
        line for line in log_lines(server) if "serving the dashboard at" in line
    ]


async def test_the_page_with_the_token_sets_a_cookie_its_websocket_is_let_in_by(served):
    server = served("--paused")
    # unsafe: aiohttp keeps no cookie of an IP address unless told; browsers do.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(server.url) as response:
            assert response.status == 200
        # No token in the websocket's address: the browser's page only sends the cookie.
        page = Page(await client.ws_connect(f"ws://127.0.0.1:{server.port}/ws"))
        await eventually(lambda: "bp-tui" in page.text())
        await page.close()
        other_site = {"Origin": "http://evil.example"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(f"ws://127.0.0.1:{server.port}/ws", headers=other_site)
        assert refused.value.status == 403


async def test_a_given_token_and_no_token_on_loopback(served):
    given = served("--paused", "--token", "sesame")
    assert given.url == f"http://127.0.0.1:{given.port}/?token=sesame"
    open_one = served("--paused", "--no-token")
    assert open_one.token is None
    async with aiohttp.ClientSession() as client:
        async with client.get(given.base() + "/?token=sesame") as response:
            assert response.status == 200
        async with client.get(given.base() + "/?token=sesam") as response:
            assert response.status == 403
        async with client.get(open_one.base() + "/") as response:
            assert response.status == 200
        # Without a token, a name that is not this machine's (a DNS rebinding) is refused.
        async with client.get(open_one.base() + "/", headers={"Host": "evil.example"}) as response:
            assert response.status == 403


def run_serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", "serve", "--dataset", "sample", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_another_host_needs_a_token_and_is_warned_about(served):
    refused = run_serve("--host", "0.0.0.0", "--no-token")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "bp-tui: error: --no-token is only for this machine; 0.0.0.0 is reachable from others"
    ]
    server = served("--paused", "--host", "0.0.0.0")
    assert server.token
    warning = [line for line in log_lines(server) if "warning" in line]
    assert len(warning) == 1 and "anyone who can reach port" in warning[0]
    assert "drive training" in warning[0] and server.token not in warning[0]
    with socket.create_connection(("127.0.0.1", server.port)) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.1 403")


@pytest.mark.parametrize("host", ["999.1.1.1", "no.such.host.invalid"])
def test_a_bad_host_is_one_line_and_status_2(host):
    result = run_serve("--host", host, "--port", "8123")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"bp-tui: error: --host {host!r}")


def test_a_port_in_use_is_one_line_and_status_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve("--port", str(port))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"bp-tui: error: cannot listen on 127.0.0.1 port {port}: Address already in use"
    ]


MALFORMED_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    b"GET /\x00\xff HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 100_000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # TLS to a plain port
    b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
]


async def test_malformed_requests_are_a_line_each_and_the_server_goes_on(served):
    server = served("--paused")
    before = len(log_lines(server))
    for request in MALFORMED_REQUESTS:
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            connection.settimeout(30)
            try:
                connection.sendall(request)
                connection.recv(1000)
            except OSError:  # a reset is an answer too
                pass
    async with aiohttp.ClientSession() as client:
        page = await open_page(client, server)  # the server still serves
        await eventually(page.reported)
        await page.close()
    lines = log_lines(server)[before:]
    assert not [line for line in lines if "Traceback" in line or line.startswith(" ")], lines
    assert len([line for line in lines if "session" not in line]) <= len(MALFORMED_REQUESTS)


MALFORMED_MESSAGES = [
    '["stdin", 5]',
    "not json at all",
    '{"stdin": "q"}',
    "[]",
    "[5, 5]",
    '["resize", {"width": "wide", "height": 24}]',
    '["resize", {"width": 1000000000, "height": 1000000000}]',
    '["resize", 7]',
    '["ping", {"a": 1}]',
    '["no-such-kind", 1]',
    "[" * 20_000 + "]" * 20_000,
]


async def test_malformed_websocket_messages_are_ignored_and_the_session_goes_on(served):
    server = served("--paused")
    before = len(log_lines(server))
    async with aiohttp.ClientSession() as client:
        page = await open_page(client, server)
        await eventually(page.reported)
        for message in MALFORMED_MESSAGES:
            await page.send(message)
        await page.websocket.send_bytes(b"\x00binary")
        await page.send(json.dumps(["stdin", "+"]))  # the dashboard still answers its keys
        await eventually(lambda: "lr 0.2" in page.text())
        await page.send(json.dumps(["stdin", "x" * 100_000]))  # too big: ends this session
        await page.reader
        await eventually(lambda: server.children() == [])
        second = await open_page(client, server)
        await eventually(second.reported)
        await second.close()
    lines = log_lines(server)[before:]
    assert not [line for line in lines if "Traceback" in line or line.startswith(" ")], lines
    ignored = [line for line in lines if "ignored" in line]
    assert 1 <= len(ignored) <= 3  # a flood of garbage is not a flood of lines
    assert any("a message over 65536 bytes" in line for line in lines)


async def test_the_client_over_the_limit_gets_a_page_and_no_process(served):
    server = served("--paused", "--max-sessions", "1")
    async with aiohttp.ClientSession() as client:
        first = await open_page(client, server)
        await eventually(first.reported)
        await eventually(lambda: len(server.dashboards()) == 1)
        children = server.children()
        async with client.get(server.url) as response:
            assert response.status == 503
            assert "1 of 1 session is live" in await response.text()
        over = await open_page(client, server)
        await over.reader  # the server closes it, having said why
        assert "1 of 1 session is live; close a tab or try again later" in over.text()
        assert sorted(server.children()) == sorted(children)  # nothing was started for it
        await first.close()
        await eventually(lambda: server.children() == [])

        async def page_is_served() -> bool:  # the session is let go just after its processes
            async with client.get(server.url) as response:
                return response.status == 200

        await until_true(page_is_served)


async def test_a_tab_closed_early_leaves_no_dashboard(served):
    server = served()  # training, as a one-shot screenshot of the page leaves it
    async with aiohttp.ClientSession() as client:
        moments = [
            lambda page: True,  # at once
            lambda page: server.dashboards(),  # the dashboard is starting
            lambda page: "bp-tui" in page.text(),  # it has drawn its first screen
        ]
        for moment in moments:
            page = await open_page(client, server)
            await eventually(lambda page=page, moment=moment: moment(page))
            await page.close()
            await eventually(lambda: server.children() == [])
    # A browser killed: no close frame, the connection just cut, at the same moments.
    cuts = [
        lambda seen: True,
        lambda seen: server.dashboards(),
        lambda seen: b"bp-tui" in seen,
    ]
    path = f"/ws?width=100&height=30&token={server.token}"
    for cut in cuts:
        await drop_after(server.port, path, cut)
        await eventually(lambda: server.children() == [])


async def test_a_dashboard_that_stops_answering_still_ends_with_its_tab(served):
    server = served()
    async with aiohttp.ClientSession() as client:
        page = await open_page(client, server)
        await eventually(page.reported)
        (dashboard,) = server.dashboards()
        os.kill(dashboard, signal.SIGSTOP)  # neither quits when asked nor reads its input
        await page.close()
        await eventually(lambda: server.children() == [])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_stopping_the_server_ends_every_session(served, signum):
    server = served()
    async with aiohttp.ClientSession() as client:
        pages = [await open_page(client, server) for _ in range(2)]
        for page in pages:
            await eventually(page.reported)
        stuck = server.dashboards()[0]
        os.kill(stuck, signal.SIGSTOP)
        await asyncio.get_running_loop().run_in_executor(None, server.stop, signum)
        assert server.process.returncode == 0
        for page in pages:
            await page.reader
    assert "serve stopped" in server.log()
    await eventually(lambda: server.children() == [])
