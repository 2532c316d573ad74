"""Certificate management (whitepaper M03–M05) against a real CSMS on loopback: the station is
an in-process Station, the PKI is made with `cryptography` (tests/pki.py), and the rotated CSMS
root is proved on a real TLS connect."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ocpp.v16 import call

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.security.certificates import CertificateStore, CertificateUse
from tests.conftest import eventually
from tests.csms import Csms
from tests.pki import Issued, issue, server_context

CSMS_ROOT, MANUFACTURER_ROOT = CertificateUse.central_system_root.value, CertificateUse.manufacturer_root.value
KEY = "00112233445566778899aabbccddeeff"


@asynccontextmanager
async def running(csms: Csms, data_dir: Path, **settings: Any) -> AsyncIterator[Station]:
    values: dict[str, Any] = {"identity": "CP-CERT", "csms_url": csms.url, "data_dir": data_dir, "reconnect_max_delay": 1}
    station = Station(Settings(**(values | settings)))
    task = asyncio.create_task(station.run())
    try:
        await csms.wait_connected(timeout=20)
        await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, timeout=20)
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def expected_ids(certificate: x509.Certificate, issuer: x509.Certificate) -> dict[str, str]:
    """§6.1 by hand, as RFC 6960 §4.1.1 defines the CertID (EC keys: the BIT STRING is the point)."""
    point = issuer.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuer_key_hash": hashlib.sha256(point).hexdigest(),
        "serial_number": format(certificate.serial_number, "x"),
    }


async def install(csms: Csms, use: str, pem: str) -> str:
    return str((await csms.call(call.InstallCertificate(certificate_type=use, certificate=pem))).status)


async def installed(csms: Csms, use: str) -> tuple[str, list[dict[str, str]] | None]:
    answer = await csms.call(call.GetInstalledCertificateIds(certificate_type=use))
    return str(answer.status), answer.certificate_hash_data


async def delete(csms: Csms, ids: dict[str, str]) -> str:
    return str((await csms.call(call.DeleteCertificate(certificate_hash_data=ids))).status)


def events(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"security event {kind}")]


@pytest.mark.parametrize("vendor", ["wemob", "wallbox"])
async def test_install_list_and_delete_each_type_on_both_vendors(
    tmp_path: Path, vendor: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with Csms() as csms, running(csms, tmp_path, profile=vendor):
        profiles = (await csms.call(call.GetConfiguration(key=["SupportedFeatureProfiles"]))).configuration_key[0]["value"]
        assert "Security" not in profiles  # whitepaper messages are served, never advertised as a profile
        for use in (CSMS_ROOT, MANUFACTURER_ROOT):
            root = issue(f"{use} 1", serial=0x0FFF)
            assert await installed(csms, use) == ("NotFound", None)  # M03.FR.02
            assert await install(csms, use, root.pem) == "Accepted"  # M05.FR.02
            assert await install(csms, use, root.pem) == "Accepted"  # the same one again: still one
            status, ids = await installed(csms, use)
            assert (status, ids) == ("Accepted", [expected_ids(root.certificate, root.certificate)])  # M03.FR.03-04
            assert ids[0]["serial_number"] == "fff"  # §6.1: no leading zeros
            shouting = {k: v.upper() for k, v in ids[0].items()}  # CiStrings: case does not matter
            assert await delete(csms, shouting) == "Accepted"  # M04.FR.02
            assert await delete(csms, ids[0]) == "NotFound"  # M04.FR.04
            assert await installed(csms, use) == ("NotFound", None)
    assert len(events(caplog, "ReconfigurationOfSecurityParameters")) == 4  # two installs, two deletes


async def test_install_rejects_what_is_no_valid_root_and_fails_when_it_cannot_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = issue("root")
    refused = {
        "not PEM": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        "expired": issue("old", days=1, starts=-2).pem,
        "not yet valid": issue("future", starts=1).pem,
        "no CA": issue("leaf", root, ca=False).pem,
        "two certificates": root.pem + issue("other").pem,
    }
    async with Csms() as csms, running(csms, tmp_path) as station:
        for what, pem in refused.items():
            assert await install(csms, CSMS_ROOT, pem) == "Rejected", what  # M05.FR.06
        assert len(events(caplog, "InvalidCentralSystemCertificate")) == len(refused)
        assert await install(csms, MANUFACTURER_ROOT, refused["expired"]) == "Rejected"
        assert len(events(caplog, "InvalidCentralSystemCertificate")) == len(refused)  # not for a manufacturer root
        for number in range(10):  # CertificateStoreMaxLength 10, both types together
            use = CSMS_ROOT if number % 2 else MANUFACTURER_ROOT
            assert await install(csms, use, issue(f"root {number}").pem) == "Accepted"
        assert await install(csms, MANUFACTURER_ROOT, issue("one too many").pem) == "Rejected"  # M05.FR.03
        assert station.certificates.count() == 10
        for use in (CSMS_ROOT, MANUFACTURER_ROOT):
            _, ids = await installed(csms, use)
            assert ids is not None
            for one in ids:
                assert await delete(csms, one) == "Accepted"
        blocked = tmp_path / "certificates" / MANUFACTURER_ROOT
        blocked.rmdir()
        blocked.write_text("")  # the folder cannot be made: a valid certificate cannot be stored
        assert await install(csms, MANUFACTURER_ROOT, root.pem) == "Failed"  # M05.FR.04, §6.3
        assert await installed(csms, MANUFACTURER_ROOT) == ("NotFound", None)


async def test_additional_root_certificate_check_takes_only_a_root_signed_by_the_old(tmp_path: Path) -> None:
    """M05.FR.08-11: one CSMS root (plus the fallback); a new one must be signed by the old."""
    old = issue("CSMS root 2025")
    new = issue("CSMS root 2026", old)
    async with Csms() as csms, running(csms, tmp_path, additional_root_certificate_check=True) as station:
        answer = await csms.call(call.GetConfiguration(key=["AdditionalRootCertificateCheck"]))
        assert answer.configuration_key[0] == {"key": "AdditionalRootCertificateCheck", "readonly": True, "value": "true"}
        assert await install(csms, CSMS_ROOT, old.pem) == "Accepted"
        assert await install(csms, CSMS_ROOT, issue("stranger").pem) == "Rejected"  # M05.FR.10
        assert await install(csms, CSMS_ROOT, new.pem) == "Accepted"  # M05.FR.11
        status, ids = await installed(csms, CSMS_ROOT)
        assert (status, ids) == ("Accepted", [expected_ids(new.certificate, old.certificate)])
        assert station.certificates.fallback(CertificateUse.central_system_root) == [old.certificate]
        # Managing manufacturer roots is untouched by the key.
        assert await install(csms, MANUFACTURER_ROOT, issue("maker A").pem) == "Accepted"
        assert await install(csms, MANUFACTURER_ROOT, issue("maker B").pem) == "Accepted"


def test_store_files_are_private_and_a_corrupt_one_is_ignored(tmp_path: Path) -> None:
    store = CertificateStore(tmp_path / "certificates")
    maker = issue("maker").certificate
    store.add(CertificateUse.manufacturer_root, maker)
    (path,) = (tmp_path / "certificates" / MANUFACTURER_ROOT).glob("*.pem")
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    (path.parent / "0000.pem").write_text("flash corruption")
    assert store.installed(CertificateUse.manufacturer_root) == [maker]


async def test_a_rotated_csms_root_is_used_on_the_next_tls_connect(tmp_path: Path) -> None:
    """The CSMS moves to a new CA without a visit: its root, installed by InstallCertificate,
    verifies the next TLS connect; deleted, it no longer does (tls_ca holds only the old CA)."""
    old_ca, new_ca, other_ca = issue("CSMS CA 1"), issue("CSMS CA 2"), issue("CSMS CA 3")
    old_server, new_server = issue("localhost", old_ca, ca=False, server=True), issue("localhost", new_ca, ca=False, server=True)
    settings = {"tls_ca": str(old_ca.write(tmp_path / "ca.pem")), "password": KEY}
    data_dir = tmp_path / "station"
    async with Csms(tls=server_context(old_server, tmp_path)) as before:
        port = before.port
        async with running(before, data_dir, **settings) as station:
            assert await install(before, CSMS_ROOT, new_ca.pem) == "Accepted"
            await before.stop()
            async with Csms(tls=server_context(new_server, tmp_path), port=port) as after:
                await after.wait_connected(timeout=20)  # the new CA's server is trusted
                assert await install(after, CSMS_ROOT, other_ca.pem) == "Accepted"
                assert (await after.call(call.ChangeConfiguration(key="SecurityProfile", value="2"))).status == "Accepted"
                await after.wait_connections(2, timeout=20)
                await after.wait_connected(timeout=20)
                _, ids = await installed(after, CSMS_ROOT)
                assert ids is not None and len(ids) == 2
                by_root = {i["issuer_name_hash"]: i for i in ids}
                new_id = by_root[hashlib.sha256(new_ca.certificate.subject.public_bytes()).hexdigest()]
                other_id = by_root[hashlib.sha256(other_ca.certificate.subject.public_bytes()).hexdigest()]
                assert await delete(after, new_id) == "Accepted"
                assert await delete(after, other_id) == "Failed"  # M04.FR.06: the last root under profile 2
                await after.disconnect()
                await eventually(lambda: "TLS handshake failed" in (station.link.link_error or ""), 20,
                                 "the next connect refuses the server the deleted root vouched for")
                assert after.connections == 2


async def test_a_rotated_root_keeps_its_fallback_until_the_new_one_verifies_the_csms(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """M05.FR.11-13: after the rotation a connect tries the new root alone; while the CSMS still
    shows a certificate of the old CA, the fallback gets it through; once the new root alone
    verifies the CSMS, the fallback is removed."""
    old_ca = issue("CSMS CA 2025")
    new_ca = issue("CSMS CA 2026", old_ca)
    old_server, new_server = issue("localhost", old_ca, ca=False, server=True), issue("localhost", new_ca, ca=False, server=True)
    data_dir = tmp_path / "station"
    CertificateStore(data_dir / "certificates").add(CertificateUse.central_system_root, old_ca.certificate)  # the factory's
    async with Csms(tls=server_context(old_server, tmp_path)) as before:
        port = before.port
        async with running(before, data_dir, additional_root_certificate_check=True) as station:
            def fallback() -> list[x509.Certificate]:
                return station.certificates.fallback(CertificateUse.central_system_root)

            assert await install(before, CSMS_ROOT, new_ca.pem) == "Accepted"
            assert fallback() == [old_ca.certificate]
            await before.disconnect()
            await before.wait_connections(2, timeout=20)  # through the fallback (FR.13) ...
            assert any("TLS handshake failed" in r.getMessage() for r in caplog.records)  # ... after the new root alone
            assert fallback() == [old_ca.certificate]
            await before.stop()
            async with Csms(tls=server_context(new_server, tmp_path), port=port) as after:
                await after.wait_connected(timeout=20)
                await eventually(lambda: fallback() == [], 10, "the fallback removed once the new root verified the CSMS")
                # Its name is still the one given while the fallback was there: the old CA's key.
                assert await installed(after, CSMS_ROOT) == ("Accepted", [expected_ids(new_ca.certificate, old_ca.certificate)])
