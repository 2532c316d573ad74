"""SignedUpdateFirmware (whitepaper L01) against a real CSMS and a real HTTP server on loopback:
the manufacturer root goes in by InstallCertificate on the wire, the image is signed with a
certificate it issued, and the station (in process) downloads, verifies, installs, restarts and
reports, each status with the request's requestId."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from ocpp.v16 import call
from ocpp.v16.enums import ResetType

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.security.firmware_signature import certificate_fault, signature_verifies
from tests.conftest import eventually
from tests.csms import Csms
from tests.file_servers import HttpFileServer
from tests.pki import Issued, Key, issue

IMAGE = "wemob-2.4.0.bin"
REQUEST_ID = 42


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sign(key: Key, data: bytes) -> str:
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


def _station(csms: Csms, data_dir: Path) -> Station:
    return Station(Settings(identity="CP-SIGNED", csms_url=csms.url, data_dir=data_dir, reconnect_max_delay=1))


async def _booted(csms: Csms, station: Station) -> asyncio.Task[ResetType | None]:
    mark = len(csms.frames)
    task = asyncio.create_task(station.run())
    await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1, after=mark, timeout=20)
    return task


async def _stopped(task: asyncio.Task[ResetType | None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _statuses(csms: Csms) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.calls("SignedFirmwareStatusNotification")]


def _events(csms: Csms) -> list[str]:
    return [p["type"] for p in csms.calls("SecurityEventNotification")]


async def _request(csms: Csms, location: str, signer: Issued, signature: str, request_id: int = REQUEST_ID, **times: str) -> str:
    firmware: dict[str, Any] = {
        "location": location, "retrieveDateTime": times.get("retrieve", _at(-60)),
        "signingCertificate": signer.pem, "signature": signature,
    }
    if "install" in times:
        firmware["installDateTime"] = times["install"]
    answer = await csms.call(call.SignedUpdateFirmware(request_id=request_id, firmware=firmware, retries=1))
    return str(answer.status)


@pytest.fixture
async def firmware_server(tmp_path: Path) -> Any:
    async with HttpFileServer(tmp_path / "www") as server:
        server.root.mkdir(parents=True, exist_ok=True)
        (server.root / IMAGE).write_bytes(b"new firmware image " * 4096)
        yield server


async def _with_manufacturer_root(csms: Csms, root: Issued) -> None:
    answer = await csms.call(call.InstallCertificate(certificate_type="ManufacturerRootCertificate", certificate=root.pem))
    assert answer.status == "Accepted"


async def test_a_good_signature_is_verified_installed_and_reported_after_the_restart(
    tmp_path: Path, firmware_server: HttpFileServer
) -> None:
    root = issue("maker root")
    signer = issue("firmware signing", root, ca=False)
    signature = _sign(signer.key, (firmware_server.root / IMAGE).read_bytes())
    async with Csms() as csms:
        station = _station(csms, tmp_path / "station")
        task = await _booted(csms, station)
        await _with_manufacturer_root(csms, root)
        answer = await _request(csms, firmware_server.url(f"/{IMAGE}"), signer, signature, retrieve=_at(1.5), install=_at(2.5))
        assert answer == "Accepted"
        assert await asyncio.wait_for(task, 30) == ResetType.hard  # installed: the restart a Hard reset makes
        assert _statuses(csms) == [
            (status, REQUEST_ID)
            for status in ("DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled", "Installing")
        ]  # L01.FR.01, FR.10, FR.13, FR.16
        assert not csms.received("FirmwareStatusNotification")  # a signed update speaks only the whitepaper's message
        mark = len(csms.frames)
        again = await _booted(csms, _station(csms, tmp_path / "station"))
        try:
            boot = await csms.wait_for("BootNotification", after=mark)
            assert boot.payload["firmwareVersion"] == "2.4.0"
            await csms.wait_for("SignedFirmwareStatusNotification", lambda p: p["status"] == "Installed", after=mark)
            assert _statuses(csms)[-1] == ("Installed", REQUEST_ID)
            event = await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated", after=mark)
            assert "2.4.0" in event.payload["techInfo"]
        finally:
            await _stopped(again)


async def test_a_bad_signature_is_refused_after_the_download(tmp_path: Path, firmware_server: HttpFileServer) -> None:
    root = issue("maker root")
    signer = issue("firmware signing", root, ca=False)
    forged = _sign(signer.key, b"some other image")
    async with Csms() as csms:
        station = _station(csms, tmp_path / "station")
        task = await _booted(csms, station)
        try:
            await _with_manufacturer_root(csms, root)
            assert await _request(csms, firmware_server.url(f"/{IMAGE}"), signer, forged) == "Accepted"
            await csms.wait_for("SignedFirmwareStatusNotification", lambda p: p["status"] == "InvalidSignature")
            await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "InvalidFirmwareSignature")  # L01.FR.03
            assert _statuses(csms) == [(s, REQUEST_ID) for s in ("Downloading", "Downloaded", "InvalidSignature")]
            assert not task.done() and station.firmware_version == "2.3.1"  # nothing installed, no restart
            assert not list((tmp_path / "station" / "firmware").glob("*")), "the refused image is not kept"
        finally:
            await _stopped(task)


async def test_an_untrusted_signing_certificate_is_refused_before_anything_is_downloaded(
    tmp_path: Path, firmware_server: HttpFileServer
) -> None:
    stranger = issue("firmware signing", issue("someone else's root"), ca=False)
    signature = _sign(stranger.key, (firmware_server.root / IMAGE).read_bytes())
    async with Csms() as csms:
        task = await _booted(csms, _station(csms, tmp_path / "station"))
        try:
            location = firmware_server.url(f"/{IMAGE}")
            assert await _request(csms, location, stranger, signature) == "InvalidCertificate"  # no root yet: L01.FR.24
            await _with_manufacturer_root(csms, issue("maker root"))
            assert await _request(csms, location, stranger, signature) == "InvalidCertificate"  # not the maker's
            await eventually(lambda: _events(csms).count("InvalidFirmwareSigningCertificate") == 2, 10,
                             "an InvalidFirmwareSigningCertificate event for each (L01.FR.02)")
            await asyncio.sleep(0.3)
            assert _statuses(csms) == [] and firmware_server.requests == []
        finally:
            await _stopped(task)


async def test_a_new_request_cancels_a_scheduled_one_and_a_root_deleted_meanwhile_fails_the_install(
    tmp_path: Path, firmware_server: HttpFileServer
) -> None:
    root = issue("maker root")
    signer = issue("firmware signing", root, ca=False)
    signature = _sign(signer.key, (firmware_server.root / IMAGE).read_bytes())
    location = firmware_server.url(f"/{IMAGE}")
    async with Csms() as csms:
        task = await _booted(csms, _station(csms, tmp_path / "station"))
        try:
            await _with_manufacturer_root(csms, root)
            assert await _request(csms, location, signer, signature, request_id=1, retrieve=_at(3600)) == "Accepted"
            await csms.wait_for("SignedFirmwareStatusNotification", lambda p: p["status"] == "DownloadScheduled")
            answer = await _request(csms, location, signer, signature, request_id=2, retrieve=_at(1.5))
            assert answer == "AcceptedCanceled"  # L01.FR.26
            ids = (await csms.call(call.GetInstalledCertificateIds(certificate_type="ManufacturerRootCertificate"))).certificate_hash_data
            assert (await csms.call(call.DeleteCertificate(certificate_hash_data=ids[0]))).status == "Accepted"
            await csms.wait_for("SignedFirmwareStatusNotification", lambda p: p["status"] == "InstallVerificationFailed", timeout=15)
            await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "InvalidFirmwareSigningCertificate")
            assert _statuses(csms) == [("DownloadScheduled", 1)] + [
                (status, 2) for status in ("DownloadScheduled", "Downloading", "Downloaded", "InstallVerificationFailed")
            ]
            assert not task.done()
        finally:
            await _stopped(task)


def _rsa_pss(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256())


@pytest.mark.parametrize(
    ("scheme", "signed", "verifies"),
    [
        ("ecdsa", b"image", True),
        ("rsa-pss", b"image", True),
        ("rsa-pkcs1v15", b"image", True),
        ("ecdsa", b"another image", False),
        ("rsa-pss", b"another image", False),
        ("not base64", b"image", False),
    ],
)
def test_signature_schemes(tmp_path: Path, scheme: str, signed: bytes, verifies: bool) -> None:
    image = tmp_path / "image.bin"
    image.write_bytes(b"image")
    if scheme.startswith("rsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        raw = _rsa_pss(key, signed) if scheme == "rsa-pss" else key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        signer = issue("rsa signer", issue("root"), ca=False, key=key)
        signature = base64.b64encode(raw).decode()
    else:
        signer = issue("ec signer", issue("root"), ca=False)
        signature = _sign(signer.key, signed) if scheme == "ecdsa" else "%%% not base64 %%%"
    assert signature_verifies(signer.certificate, signature, image) is verifies


def test_signing_certificate_checks() -> None:
    root, other = issue("maker"), issue("other maker")
    now = datetime.now(UTC)
    assert certificate_fault(issue("signer", root, ca=False).certificate, [other.certificate, root.certificate], now) is None
    assert "not issued" in (certificate_fault(issue("signer", other, ca=False).certificate, [root.certificate], now) or "")
    assert "not valid now" in (certificate_fault(issue("old", root, ca=False, days=1, starts=-2).certificate, [root.certificate], now) or "")
    assert "no ManufacturerRootCertificate" in (certificate_fault(issue("signer", root, ca=False).certificate, [], now) or "")
    assert "not a PEM" in (certificate_fault(None, [root.certificate], now) or "")
