"""The station's client certificate (whitepaper A02, A03) against a real CSMS and a test CA:
the CSR, CertificateSigned checked and then presented in the TLS handshake of the profile 3
reconnect, a chain that does not fit refused with its security event, and the private key kept
on the board, 0600 and out of every output."""

from __future__ import annotations

import asyncio
import logging
import ssl
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from cryptography.x509.oid import NameOID
from ocpp.v16 import call

from chargepoint.security.chain_check import chain_problem
from chargepoint.security.signing_request import new_private_key, signing_request
from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import cli_ok, configure, logged, running_station
from tests.signing_ca import SigningCa

IDENTITY = "CP-TEST-1"
SIGN = call.ExtendedTriggerMessage(requested_message="SignChargePointCertificate")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _body(pem: bytes) -> str:
    """A line from the middle of a PEM, which no scrubbed or shortened output can hide."""
    return pem.decode().splitlines()[2]


@pytest.mark.parametrize(("key_type", "key_class"), [("ec-p256", ec.EllipticCurvePrivateKey), ("rsa-2048", rsa.RSAPrivateKey)])
async def test_the_csr_names_the_station_and_the_cpo_and_its_key_stays_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key_type: str, key_class: type
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Csms() as csms, running_station(
        csms, tmp_path / "cp", keys={"CpoName": "Test CPO"}, client_key_type=key_type, frame_log=tmp_path / "frames.jsonl"
    ) as station:
        assert (await csms.call(SIGN)).status == "Accepted"
        csr = x509.load_pem_x509_csr((await csms.wait_for("SignCertificate")).payload["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == IDENTITY  # A00.FR.511
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Test CPO"  # A02.FR.13
    pending = station.settings.client_certificate_dir / "pending.key"
    key = load_pem_private_key(pending.read_bytes(), password=None)
    assert isinstance(key, key_class)
    if isinstance(key, rsa.RSAPrivateKey):
        assert key.key_size == 2048
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == csr.public_key().public_bytes(*spki)
    assert (_mode(pending), _mode(pending.parent)) == (0o600, 0o700)
    for output in (caplog.text, (tmp_path / "frames.jsonl").read_text()):
        assert _body(pending.read_bytes()) not in output


async def test_a_certificate_ending_within_a_month_is_renewed_at_start(tmp_path: Path) -> None:
    """A03.FR.02: the certificate in use (here the settings') ends in 10 days."""
    ca = SigningCa(tmp_path / "pki")
    async with Csms() as csms, running_station(
        csms, tmp_path / "cp", keys={"CpoName": "Test CPO"}, **ca.client_files(IDENTITY, days=10)
    ):
        csr = x509.load_pem_x509_csr((await csms.wait_for("SignCertificate")).payload["csr"].encode())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == IDENTITY


def _other_leaf(ca: SigningCa, days: float = 365) -> str:
    return ca.sign(signing_request(new_private_key("ec-p256"), IDENTITY, "Test CPO"), days)


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    directory = tmp_path_factory.mktemp("chains")
    ca, stranger = SigningCa(directory / "ca"), SigningCa(directory / "stranger", "Another Root")
    key = new_private_key("ec-p256")
    csr = signing_request(key, IDENTITY, "Test CPO")
    return {"ca": ca, "stranger": stranger, "key": key, "csr": csr, "signed": ca.sign(csr)}


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("signed", None),
        ("signed with its root", None),
        ("another key", "not for the key of the pending signing request"),
        ("another CA", "no root the station trusts"),
        ("too long", "exceeds CertificateSignedMaxChainSize 700"),
        ("not PEM", "not a PEM certificate chain"),
        ("garbage between the PEM lines", "not a PEM certificate chain the station can read"),
        ("another station's name", "not CN=CP-TEST-1"),
        ("expired", "is not valid now"),
        ("no pending key", "no certificate signing request is pending"),
    ],
)
def test_the_chain_check(chains: dict[str, object], case: str, problem: str | None) -> None:
    """A02.FR.06: the leaf's key, the hierarchy, the validity period, CertificateSignedMaxChainSize."""
    ca, stranger, key = chains["ca"], chains["stranger"], chains["key"]
    assert isinstance(ca, SigningCa) and isinstance(stranger, SigningCa) and isinstance(key, ec.EllipticCurvePrivateKey)
    signed, now = str(chains["signed"]), datetime.now(UTC)
    text = {
        "signed with its root": signed + ca.pem,
        "another key": _other_leaf(ca),
        "another CA": stranger.sign(str(chains["csr"])),
        "too long": signed + ca.pem,
        "not PEM": "MIIB...",
        "garbage between the PEM lines": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
        "another station's name": ca.sign(signing_request(key, "CP-OTHER", "Test CPO")),
    }.get(case, signed)
    max_size = 700 if case == "too long" else 10_000
    when = now + timedelta(days=400) if case == "expired" else now
    public = None if case == "no pending key" else key.public_key()
    found = chain_problem(text, public, [ca.certificate], max_size, when, IDENTITY)
    assert (found is None) if problem is None else (found is not None and problem in found), found


async def test_certificate_signed_is_checked_kept_and_presented_on_the_profile_3_reconnect(make_daemon, tmp_path: Path) -> None:
    ca = SigningCa(tmp_path / "pki")
    async with Csms(tls=ca.server()) as csms:
        files = ca.client_files(IDENTITY, days=365)
        daemon = make_daemon(csms, start=False, **files)
        assert (await cli_ok(daemon, "config", "set", "SecurityProfile", "3")).strip() == "Accepted"
        daemon.start()
        await booted(csms, daemon)
        factory = x509.load_pem_x509_certificate(Path(files["tls_cert"]).read_bytes())
        assert csms.client_certificates == [factory.public_bytes(Encoding.DER)]
        await configure(csms, CpoName="Test CPO")
        assert (await csms.call(SIGN)).status == "Accepted"
        csr = (await csms.wait_for("SignCertificate")).payload["csr"]
        pending = daemon.data_dir / "client_certificate" / "pending.key"
        secret = _body(pending.read_bytes())
        # The pending key survives a restart.
        await daemon.stop()
        daemon.start()
        await booted(csms, daemon)
        assert (await daemon.status())["client_certificate"]["pending"] is True

        wrong = _other_leaf(ca)
        assert (await csms.call(call.CertificateSigned(certificate_chain=wrong))).status == "Rejected"
        await logged(daemon, "security event InvalidChargePointCertificate: the certificate is not for the key")
        assert csms.connections == 2

        signed = ca.sign(csr)
        assert (await csms.call(call.CertificateSigned(certificate_chain=signed + ca.pem))).status == "Accepted"
        await csms.wait_connections(3, timeout=20)
        await csms.call(call.GetConfiguration(key=["CpoName"]))  # the new link is up
        assert csms.client_certificates[-1] == x509.load_pem_x509_certificate(signed.encode()).public_bytes(Encoding.DER)
        installed = daemon.data_dir / "client_certificate"
        assert not pending.exists()
        assert {p.name: _mode(p) for p in installed.iterdir()} == {"certificate.pem": 0o600, "key.pem": 0o600}
        assert _body((installed / "key.pem").read_bytes()) == secret
        status = await cli_ok(daemon, "status")
        keys = await cli_ok(daemon, "config", "get")
        assert f"client certificate: O=Test CPO,CN={IDENTITY}  until: " in status
    for output in (daemon.logs(), daemon.frames(), status, keys):
        assert secret not in output
    assert "SignCertificate sent" in daemon.logs()


async def test_an_unreadable_pending_key_is_no_pending_request(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A damaged pending.key cannot crash the station: CertificateSigned is Rejected, with its event."""
    ca = SigningCa(tmp_path / "pki")
    pending = tmp_path / "cp" / "client_certificate" / "pending.key"
    pending.parent.mkdir(parents=True)
    pending.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    async with Csms() as csms, running_station(csms, tmp_path / "cp", tls_ca=ca.ca_file):
        answer = await csms.call(call.CertificateSigned(certificate_chain=_other_leaf(ca)))
        assert answer.status == "Rejected"
        await csms.call(call.GetConfiguration(key=["CpoName"]))  # still answering
    assert "security event InvalidChargePointCertificate: no certificate signing request is pending" in caplog.text


async def test_a_new_certificate_the_csms_refuses_gives_way_to_the_one_before(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A02.FR.10: the station trusts a second CA whose certificates this CSMS does not take."""
    caplog.set_level(logging.INFO)
    ca, other = SigningCa(tmp_path / "pki"), SigningCa(tmp_path / "other", "Other CPO Root")
    files = ca.client_files(IDENTITY, days=365)
    both = tmp_path / "both.pem"
    both.write_text(ca.pem + other.pem)
    keys = {"SecurityProfile": "3", "CpoName": "Test CPO"}
    async with Csms(tls=ca.server()) as csms, running_station(csms, tmp_path / "cp", keys, **(files | {"tls_ca": str(both)})):
        assert (await csms.call(SIGN)).status == "Accepted"
        signed = other.sign((await csms.wait_for("SignCertificate")).payload["csr"])
        assert (await csms.call(call.CertificateSigned(certificate_chain=signed))).status == "Accepted"
        await csms.wait_connections(2, timeout=30)
        assert (await csms.call(call.GetConfiguration(key=["SecurityProfile"]))).configuration_key[0]["value"] == "3"
    factory = x509.load_pem_x509_certificate(Path(files["tls_cert"]).read_bytes()).public_bytes(Encoding.DER)
    assert csms.client_certificates == [factory, factory]
    assert "back to the one before it" in caplog.text
    assert not (tmp_path / "cp" / "client_certificate" / "certificate.pem").exists()


async def test_a_profile_2_station_given_its_first_certificate_can_go_to_profile_3(tmp_path: Path) -> None:
    """No tls_cert: profile 3 is Rejected until the CSMS has had a certificate signed (A02)."""
    key = "00112233445566778899aabbccddeeff"
    ca = SigningCa(tmp_path / "pki")
    keys = {"SecurityProfile": "2", "CpoName": "Test CPO"}
    async with Csms(tls=ca.server(ssl.CERT_OPTIONAL), basic_auth=(IDENTITY, bytes.fromhex(key))) as csms, running_station(
        csms, tmp_path / "cp", keys, password=key, tls_ca=str(ca.ca_file)
    ):
        raise_to_3 = call.ChangeConfiguration(key="SecurityProfile", value="3")
        assert (await csms.call(raise_to_3)).status == "Rejected"
        assert (await csms.call(SIGN)).status == "Accepted"
        signed = ca.sign((await csms.wait_for("SignCertificate")).payload["csr"])
        assert (await csms.call(call.CertificateSigned(certificate_chain=signed))).status == "Accepted"
        csms.basic_auth = None  # from now on it knows the station by its certificate
        assert (await csms.call(raise_to_3)).status == "Accepted"
        await csms.wait_connections(2, timeout=20)
        await csms.call(call.GetConfiguration(key=["CpoName"]))  # the new link is up
        assert csms.last_headers is not None and "Authorization" not in csms.last_headers
    assert csms.client_certificates == [None, x509.load_pem_x509_certificate(signed.encode()).public_bytes(Encoding.DER)]
