"""Security profiles 0-3 of the OCPP 1.6 Security Whitepaper against a local CSMS, with a CA
and certificates made for the test (trustme), and the secrets they carry kept out of sight."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
import trustme
from ocpp.v16 import call

from chargepoint.link.security import authorization_key, basic_password
from tests.conftest import Daemon, booted, eventually
from tests.csms import Csms
from tests.fault_proxy import FaultProxy
from tests.helpers import logged

KEY = "00112233445566778899aabbccddeeff"
NEW_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4"
KEY_BYTES = bytes.fromhex(KEY)  # what a whitepaper CSMS compares the Basic password with
IDENTITY = "CP-TEST-1"


class Pki:
    """A CSMS CA, the CSMS's server certificate and the station's client certificate, on disk
    the way an installer leaves them (private key 0600)."""

    def __init__(self, directory: Path, server_name: str = "localhost") -> None:
        self.ca = trustme.CA()
        self.ca_file = directory / "csms-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._server = self.ca.issue_cert(server_name, "127.0.0.1")
        client = self.ca.issue_cert(IDENTITY)
        self.cert_file, self.key_file = directory / "station.pem", directory / "station.key"
        self.cert_file.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
        self.key_file.write_bytes(client.private_key_pem.bytes())
        self.key_file.chmod(0o600)
        self.private_key = client.private_key_pem.bytes().decode()

    def server(self, client_certificates: ssl.VerifyMode = ssl.CERT_NONE) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server.configure_cert(context)
        if client_certificates != ssl.CERT_NONE:  # profile 3: the CSMS knows stations by certificate
            self.ca.configure_trust(context)
            context.verify_mode = client_certificates
        return context

    def station_settings(self) -> dict[str, str]:
        return {"tls_ca": str(self.ca_file), "tls_cert": str(self.cert_file), "tls_key": str(self.key_file)}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


def basic(password: bytes) -> str:
    return "Basic " + base64.b64encode(IDENTITY.encode() + b":" + password).decode()


async def profile_of(csms: Csms) -> str:
    answer = await csms.call(call.GetConfiguration(key=["SecurityProfile"]))
    return answer.configuration_key[0]["value"]


async def set_profile_before_start(daemon: Daemon, profile: str) -> None:
    """The technician's way in: the local CLI with the same rules the CSMS meets."""
    result = await daemon.cli("config", "set", "SecurityProfile", profile)
    assert (result.code, result.out.strip()) == (0, "Accepted"), result
    daemon.start()


def assert_no_secrets(daemon: Daemon, *secrets: str) -> None:
    for output in (daemon.logs(), daemon.frames()):
        for secret in secrets:
            assert secret not in output


async def test_profile_0_sends_no_credentials_and_profile_1_sends_basic_auth(csms, make_daemon) -> None:
    daemon = make_daemon(csms)
    await booted(csms, daemon)
    assert "Authorization" not in csms.last_headers
    assert (await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value=KEY))).status == "Accepted"
    await csms.wait_connections(2)
    csms.basic_auth = (IDENTITY, KEY_BYTES)  # from now on the CSMS insists
    assert (await csms.call(call.ChangeConfiguration(key="SecurityProfile", value="1"))).status == "Accepted"
    await csms.wait_connections(3)
    assert csms.last_headers["Authorization"] == basic(KEY_BYTES) and csms.refused == 0
    assert await profile_of(csms) == "1"
    # A01: a new key is used on the very next connection; the old one is refused from now on.
    csms.basic_auth = (IDENTITY, bytes.fromhex(NEW_KEY))
    assert (await csms.call(call.ChangeConfiguration(key="AuthorizationKey", value=NEW_KEY))).status == "Accepted"
    await csms.wait_connections(4)
    assert csms.last_headers["Authorization"] == basic(bytes.fromhex(NEW_KEY)) and csms.refused == 0
    assert len(csms.received("BootNotification")) == 1  # a reconnect, not a reboot
    assert_no_secrets(daemon, KEY, NEW_KEY, basic(KEY_BYTES).split()[1], basic(bytes.fromhex(NEW_KEY)).split()[1])


@pytest.mark.parametrize(
    ("password", "key", "profile", "sent"),
    [
        (KEY, KEY, 1, KEY_BYTES),
        (KEY.upper(), KEY.upper(), 2, KEY_BYTES),
        (KEY, KEY, 0, KEY.encode()),
        ("wallbox-app-pass1", b"wallbox-app-pass1".hex(), 1, b"wallbox-app-pass1"),
        ("wallbox-app-pass1", b"wallbox-app-pass1".hex(), 0, b"wallbox-app-pass1"),
        ("pre-2018 pw", b"pre-2018 pw".hex(), 0, b"pre-2018 pw"),
        ("senha-média-1234", "senha-média-1234".encode().hex(), 1, "senha-média-1234".encode()),
    ],
)
def test_password_forms(password: str, key: str, profile: int, sent: bytes) -> None:
    assert authorization_key(password) == key
    assert basic_password(key, profile, password) == sent


@pytest.mark.parametrize("profile", [0, 1])
def test_a_key_from_the_csms_goes_as_its_bytes_under_every_profile(profile: int) -> None:
    assert basic_password(NEW_KEY, profile, KEY) == bytes.fromhex(NEW_KEY)
    assert basic_password(NEW_KEY, profile, None) == bytes.fromhex(NEW_KEY)


@pytest.mark.parametrize(
    ("password", "profile", "on_the_wire"),
    [
        # 16 to 20 characters: the key of their bytes, so those bytes.
        pytest.param("wallbox-app-pass1", "1", b"wallbox-app-pass1", id="text-profile-1"),
        # Hexadecimal digits: the bytes they stand for (OCTT TC_085_CS).
        pytest.param(KEY, "1", KEY_BYTES, id="hex-profile-1"),
        # A pre-whitepaper CSMS's password of any length, and one of hex digits: as typed.
        pytest.param("pre-2018 pw", "0", b"pre-2018 pw", id="any-text-profile-0"),
        pytest.param(KEY, "0", KEY.encode(), id="hex-profile-0"),
    ],
)
async def test_the_password_setting_on_the_wire(make_daemon, password: str, profile: str, on_the_wire: bytes) -> None:
    async with Csms(basic_auth=(IDENTITY, on_the_wire)) as csms:
        daemon = make_daemon(csms, start=False, password=password)
        if profile == "0":
            daemon.start()
        else:
            await set_profile_before_start(daemon, profile)
        await booted(csms, daemon)
        assert csms.last_headers["Authorization"] == basic(on_the_wire) and csms.refused == 0
        assert await profile_of(csms) == profile
        assert_no_secrets(daemon, password, KEY, basic(on_the_wire).split()[1])


async def test_a_password_of_other_text_serves_profile_0_only(csms, make_daemon) -> None:
    """A05.FR.02: profiles 1 and 2 need a whitepaper key, and a settings edit after the raise
    cannot put other text in its place: the station says why and stays off the link."""
    daemon = make_daemon(csms, start=False, password="pre-2018 pw")
    refused = await daemon.cli("config", "set", "SecurityProfile", "1")
    assert (refused.code, refused.out.strip()) == (1, "Rejected")
    text = daemon.config_file.read_text()
    daemon.config_file.write_text(text.replace('"pre-2018 pw"', f'"{KEY}"'))
    accepted = await daemon.cli("config", "set", "SecurityProfile", "1")
    assert (accepted.code, accepted.out.strip()) == (0, "Accepted")
    daemon.config_file.write_text(text)
    daemon.start()
    await logged(daemon, "SecurityProfile 1 needs an AuthorizationKey of 16 to 20 bytes; the password setting is not one")
    assert csms.connections == 0
    assert (await daemon.status())["link"] in ("Error", "Connecting")
    assert_no_secrets(daemon, "pre-2018 pw", "pre-2018 pw".encode().hex())


async def test_profile_2_verifies_the_csms_and_sends_basic_auth(make_daemon, pki) -> None:
    async with Csms(tls=pki.server(), basic_auth=(IDENTITY, KEY_BYTES)) as csms:
        daemon = make_daemon(csms, start=False, password=KEY, **pki.station_settings())
        await set_profile_before_start(daemon, "2")
        await booted(csms, daemon)
        assert csms.last_headers["Authorization"] == basic(KEY_BYTES)
        assert await profile_of(csms) == "2"
        # Only up: 2 -> 1 or 2 is refused, and 3 is possible here (a client certificate exists).
        for value in ("1", "2", "0"):
            assert (await csms.call(call.ChangeConfiguration(key="SecurityProfile", value=value))).status == "Rejected"
        assert (await daemon.status())["link"] == "Connected"
        assert_no_secrets(daemon, KEY, pki.private_key.splitlines()[1])


async def test_profile_3_presents_the_client_certificate_and_no_password(make_daemon, pki) -> None:
    async with Csms(tls=pki.server(client_certificates=ssl.CERT_REQUIRED)) as csms:
        daemon = make_daemon(csms, start=False, password=KEY, **pki.station_settings())
        await set_profile_before_start(daemon, "3")
        await booted(csms, daemon)
        assert "Authorization" not in csms.last_headers
        assert await profile_of(csms) == "3"
        assert_no_secrets(daemon, KEY, pki.private_key.splitlines()[1])


@pytest.mark.parametrize(
    ("fault", "cause"),
    [("another CA", "unable to get local issuer certificate"), ("another host name", "Hostname mismatch")],
)
async def test_a_csms_certificate_that_does_not_verify_is_refused(
    make_daemon, pki, tmp_path: Path, fault: str, cause: str
) -> None:
    if fault == "another CA":
        (tmp_path / "impostor").mkdir()
        server = Pki(tmp_path / "impostor").server()
    else:
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        pki.ca.issue_cert("csms.example").configure_cert(server)
    async with Csms(tls=server, basic_auth=(IDENTITY, KEY_BYTES)) as csms:
        daemon = make_daemon(csms, start=False, password=KEY, **pki.station_settings())
        await set_profile_before_start(daemon, "2")
        await daemon.wait_socket()
        await logged(daemon, cause)
        assert csms.connections == 0
        assert (await daemon.status())["link"] in ("Error", "Connecting")


async def test_a_raised_profile_that_cannot_connect_falls_back_to_the_old_one(make_daemon, pki) -> None:
    """A05.FR.08: this CSMS wants TLS with Basic auth (2); profile 3 drops the password, the
    CSMS refuses it, and after three refused connects the station is back on profile 2."""
    async with Csms(tls=pki.server(), basic_auth=(IDENTITY, KEY_BYTES)) as csms:
        daemon = make_daemon(csms, start=False, password=KEY, **pki.station_settings())
        await set_profile_before_start(daemon, "2")
        await booted(csms, daemon)
        assert (await csms.call(call.ChangeConfiguration(key="SecurityProfile", value="3"))).status == "Accepted"
        await logged(daemon, "falling back to 2")
        await csms.wait_connections(2, timeout=20)
        assert csms.refused == 3
        assert csms.last_headers["Authorization"] == basic(KEY_BYTES)
        assert await profile_of(csms) == "2"
        # The fallback is stored: a restart stays on 2.
        await daemon.stop()
        daemon.start()
        await csms.wait_connections(3, timeout=20)
        assert csms.refused == 3 and await profile_of(csms) == "2"
        assert_no_secrets(daemon, KEY, pki.private_key.splitlines()[1])


async def test_a_csms_that_is_down_during_the_trial_does_not_cause_a_fallback(make_daemon, pki) -> None:
    """Connection refused says nothing about the profile: only TLS and credential failures
    count towards A05.FR.08, so an outage right after the raise keeps the new profile."""
    async with Csms(tls=pki.server(client_certificates=ssl.CERT_OPTIONAL)) as csms, FaultProxy(csms.port) as proxy:
        daemon = make_daemon(csms_url=proxy.url("wss"), start=False, password=KEY, **pki.station_settings())
        await set_profile_before_start(daemon, "2")
        await booted(csms, daemon)
        await proxy.refuse()  # the live connection stays; new ones are refused
        assert (await csms.call(call.ChangeConfiguration(key="SecurityProfile", value="3"))).status == "Accepted"
        await eventually(lambda: daemon.logs().count("connection refused") >= 4, 20, "four refused connects")
        await proxy.forward()
        await csms.wait_connections(2, timeout=20)
        assert "Authorization" not in csms.last_headers  # profile 3: the certificate, no password
        assert await profile_of(csms) == "3"
        assert "falling back" not in daemon.logs()


@pytest.mark.parametrize("edit", ["csms_url back to ws://", "tls_ca removed"])
async def test_a_settings_edit_never_weakens_profile_2(make_daemon, pki, edit: str) -> None:
    """An installer who edits the settings after the raise gets no plaintext link and no
    quiet switch to the system's trust store: the station refuses and says why."""
    async with Csms(tls=pki.server(), basic_auth=(IDENTITY, KEY_BYTES)) as csms, Csms() as plain:
        daemon = make_daemon(csms, start=False, password=KEY, **pki.station_settings())
        result = await daemon.cli("config", "set", "SecurityProfile", "2")
        assert result.out.strip() == "Accepted"
        text = daemon.config_file.read_text()
        if edit == "tls_ca removed":
            text, cause = text.replace(f'tls_ca = "{pki.ca_file}"\n', ""), "needs the CSMS's CA; tls_ca is not set"
        else:
            text, cause = text.replace(csms.url, plain.url), "needs TLS; refusing to connect to a ws:// csms_url"
        daemon.config_file.write_text(text)
        daemon.start()
        await logged(daemon, f"SecurityProfile 2 {cause}")
        assert plain.connections == 0 and csms.connections == 0
        assert (await daemon.status())["link"] in ("Error", "Connecting")


async def test_a_world_readable_private_key_or_password_file_is_refused(make_daemon, pki) -> None:
    pki.key_file.chmod(0o644)
    daemon = make_daemon(start=False, **pki.station_settings())
    result = await daemon.cli("run")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip() == (
        f"chargepoint: setting tls_key: {pki.key_file} holds a private key readable by every user (mode 0644); chmod 600 or 640 it"
    )
    pki.key_file.chmod(0o600)
    daemon = make_daemon(start=False, password=KEY)
    daemon.config_file.chmod(0o644)
    result = await daemon.cli("status")
    assert result.code == 2 and KEY not in result.err
    assert "holds the password and is readable by every user (mode 0644)" in result.err
