"""Who may reach the bench's web page: where it listens and the password it asks for (pure rules)."""

from __future__ import annotations

import base64

import pytest

from chargepoint.control.web.access import (
    Bind, authorized, is_loopback, loopback_host, parse_bind, password_problem, same_origin,
)


@pytest.mark.parametrize(
    ("text", "bind"),
    [
        ("127.0.0.1:8080", Bind("127.0.0.1", 8080)),
        ("localhost:80", Bind("localhost", 80)),
        ("[::1]:8080", Bind("::1", 8080)),
        ("0.0.0.0:0", Bind("0.0.0.0", 0)),
        ("bench.lab:65535", Bind("bench.lab", 65535)),
    ],
)
def test_a_bind_is_host_and_port(text: str, bind: Bind) -> None:
    assert parse_bind(text) == bind
    assert str(bind) == text


@pytest.mark.parametrize("text", ["8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "[::1:80", "a b:1", "h:-1"])
def test_a_bind_that_is_not_host_and_port_is_refused_saying_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be HOST:PORT .* e\.g\. 127\.0\.0\.1:8080"):
        parse_bind(text)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.5.0.1", True), ("::1", True), ("localhost", True), ("LocalHost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("bench.lab", False), ("", False)],
)
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_off_loopback_the_page_needs_the_password_setting() -> None:
    assert password_problem(Bind("127.0.0.1", 8080), None) is None
    assert password_problem(Bind("0.0.0.0", 8080), "s3cret") is None
    problem = password_problem(Bind("0.0.0.0", 8080), None)
    assert problem is not None and problem.startswith("web_password: needed to serve the web page on 0.0.0.0:8080")
    assert password_problem(Bind("0.0.0.0", 8080), "") == problem


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        (_basic(b"bench:s3cret"), True),
        (_basic(b":s3cret"), True),  # any user name: the page has one password
        ("basic " + base64.b64encode(b"x:s3cret").decode(), True),
        (_basic(b"bench:s3cre"), False),
        (_basic(b"bench:s3cret "), False),
        (_basic(b"s3cret"), False),  # no colon: a user name, no password
        ("Bearer s3cret", False),
        ("Basic !!!", False),
        (_basic(b"bench:\xff"), False),
        ("", False),
        (None, False),
    ],
)
def test_the_password_comes_as_http_basic(header: str | None, allowed: bool) -> None:
    assert authorized(header, "s3cret") is allowed


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", True),
        (None, "127.0.0.1:8080", True),
        ("http://evil.example", "127.0.0.1:8080", False),
        ("http://127.0.0.1:9090", "127.0.0.1:8080", False),
        ("null", "127.0.0.1:8080", False),
    ],
)
def test_only_the_page_itself_opens_its_socket(origin: str | None, host: str, same: bool) -> None:
    assert same_origin(origin, host) is same


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1:8080", True), ("localhost:8080", True), ("[::1]:8080", True), ("localhost", True),
     ("evil.example:8080", False), ("192.168.1.10:8080", False), ("", False)],
)
def test_a_host_header_naming_loopback(host: str, loopback: bool) -> None:
    assert loopback_host(host) is loopback
