"""Signed meter values (issue 13, MOBI.E: readings not "compromised, tampered with or corrupted"
on their way to the CSMS): OCMF records of every transaction reading of the energy register,
signed with the station's key, checked with `chargepoint verify-ocmf` against `meter-key`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call
from ocpp.v16.enums import ReadingContext, Reason

from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.infra.state import StateTable
from chargepoint.metering import ocmf
from chargepoint.metering.signing import PUBLIC_KEY_KEY, DeviceKey, MeterSigner, SignedReading, reading_reason
from chargepoint.metering.verify import check, records_in
from drivers.registers import MODELS
from tests.conftest import Daemon, booted
from tests.csms import Csms
from tests.helpers import charging, cli_ok, configure

ORIGIN = ocmf.Origin("WEG WEMOB", "SN1", "1.0", "", "simulated", "SN1-1", "CP1 1")


@pytest.mark.parametrize(
    ("moment", "state", "text"),
    [
        (datetime(2018, 7, 24, 11, 22, 4, 123456, timezone.utc), "S", "2018-07-24T11:22:04,123+0000 S"),
        (datetime(2024, 1, 1, tzinfo=timezone.utc), "U", "2024-01-01T00:00:00,000+0000 U"),
    ],
)
def test_time_is_written_as_ocmf_table_7_has_it(moment: datetime, state: str, text: str) -> None:
    assert ocmf.ocmf_time(moment, state) == text


@pytest.mark.parametrize(
    ("context", "reason", "tx"),
    [
        (ReadingContext.transaction_begin, None, "B"),
        (ReadingContext.sample_periodic, None, "C"),
        (ReadingContext.sample_clock, None, "T"),
        (ReadingContext.transaction_end, Reason.local, "L"),
        (ReadingContext.transaction_end, Reason.remote, "R"),
        (ReadingContext.transaction_end, Reason.power_loss, "P"),
        (ReadingContext.transaction_end, Reason.emergency_stop, "A"),
        (ReadingContext.transaction_end, Reason.hard_reset, "E"),
    ],
)
def test_the_reading_reason_follows_ocmf_tx(context: ReadingContext, reason: Reason | None, tx: str) -> None:
    assert reading_reason(context, reason) == tx


@pytest.mark.parametrize(("id_tag", "kind"), [("04A21B3C", "ISO14443"), ("04A21B3C5D6E7F", "ISO14443"), ("TAG1", "UNDEFINED")])
def test_identification_type_claims_a_card_uid_only_when_it_is_one(id_tag: str, kind: str) -> None:
    assert ocmf.identification_type(id_tag) == kind


def test_a_pipe_in_an_id_tag_cannot_break_the_record_apart() -> None:
    fields = ocmf.payload(ORIGIN, 1, "A|B", 1234, datetime(2024, 1, 1, tzinfo=timezone.utc), "B", "S")
    text = ocmf.payload_text(fields)
    parsed = ocmf.parse(ocmf.record(text, "00"))
    assert "|" not in text and parsed.fields["ID"] == "A|B" and parsed.fields["RD"][0]["RV"] == 1.234


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("OCMF|{}", "not OCMF|{payload}|{signature}"),
        ("XXXX|{}|{}", "not OCMF|{payload}|{signature}"),
        ('OCMF|{"PG":|{"SD":"00"}', "the payload is not JSON"),
        ('OCMF|[]|{"SD":"00"}', "the payload is not a JSON object"),
        ('OCMF|{}|{"SA":"ECDSA-secp256r1-SHA256"}', "the signature section has no SD"),
        ('OCMF|{}|{"SD":"zz"}', "SD is not hexadecimal"),
        ('OCMF|{}|{"SD":"00","SE":"base64"}', "signature encoding 'base64' is not supported (only hex)"),
    ],
)
def test_a_malformed_record_is_refused_with_its_fault(line: str, problem: str) -> None:
    with pytest.raises(ocmf.OcmfError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        ocmf.parse(line)


def _signer(tmp_path: Path, meter_signs: bool = False) -> tuple[MeterSigner, DeviceKey]:
    key = DeviceKey.of(tmp_path)
    signer = MeterSigner(key, {1: ORIGIN}, {1: meter_signs}, StateTable(Database(tmp_path / "cp.db")), Clock())
    return signer, key


def test_the_device_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = DeviceKey.of(tmp_path).public_pem()
    assert stat.S_IMODE((tmp_path / "meter-signing-key.pem").stat().st_mode) == 0o600
    assert DeviceKey.of(tmp_path).public_pem() == first


def test_records_verify_paginate_and_fail_when_one_digit_changes(tmp_path: Path) -> None:
    signer, key = _signer(tmp_path)
    reading = SignedReading(1, "04A21B3C", 12345, "2024-01-01T10:00:00.000Z", ReadingContext.transaction_begin)
    first, second = signer.record(reading), signer.record(reading)
    assert check(first, key.public_key).verified and check(second, key.public_key).verified
    assert [ocmf.parse(r).fields["PG"] for r in (first, second)] == ["T1", "T2"]
    fields = ocmf.parse(first).fields
    assert "MV" not in fields and (fields["MM"], fields["IT"], fields["CI"]) == ("simulated", "ISO14443", "CP1 1")
    assert fields["RD"][0] == {
        "TM": "2024-01-01T10:00:00,000+0000 U", "TX": "B", "RV": 12.345, "RI": "1-b:1.8.0", "RU": "kWh",
        "RT": "AC", "EF": "", "ST": "G",
    }
    tampered = check(first.replace('"RV":12.345', '"RV":12.346'), key.public_key)
    assert tampered.problem == "signature does not match the payload (altered, or signed by another key)"
    assert not check(first, DeviceKey.of(tmp_path / "other").public_key).verified


def test_a_meter_that_signs_has_its_record_passed_through_and_none_made(tmp_path: Path) -> None:
    signer, _ = _signer(tmp_path, meter_signs=True)
    own = 'OCMF|{"PG":"T7"}|{"SD":"3045"}'
    base = SignedReading(1, "TAG1", 1000, "2024-01-01T10:00:00.000Z", ReadingContext.sample_periodic)
    passed = signer.sampled_value(SignedReading(**{**base.__dict__, "meter_record": own}))
    assert passed is not None and passed["value"] == own and passed["format"] == "SignedData"
    assert signer.sampled_value(base) is None  # never a station signature in the meter's name


def test_no_register_map_claims_a_signing_meter() -> None:
    assert [name for name, model in MODELS.items() if model.signs] == []


def test_records_are_found_in_lines_frame_logs_and_meter_values_json() -> None:
    record = 'OCMF|{"PG":"T1"}|{"SD":"00"}'
    meter_values = {"connectorId": 1, "meterValue": [{"sampledValue": [{"value": "1"}, {"value": record}]}]}
    frame_line = json.dumps({"direction": "out", "frame": [2, "1", "MeterValues", meter_values]})
    assert records_in(f"{record}\n\n{frame_line}\nnot a record\n") == [record, record]
    assert records_in(json.dumps(meter_values, indent=2)) == [record]


def _signed(payloads: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    return [
        value
        for payload in payloads
        for meter_value in payload.get(field, [])
        for value in meter_value["sampledValue"]
        if value.get("format") == "SignedData"
    ]


def _context(meter_values: dict[str, Any]) -> str:
    return str(meter_values["meterValue"][0]["sampledValue"][0]["context"])


def _fields(value: dict[str, Any]) -> dict[str, Any]:
    return ocmf.parse(value["value"]).fields


def _one_digit_changed(record: str) -> str:
    """The record with the last digit of its reading value changed, the rest as signed."""
    found = re.search(r'"RV":[0-9.]*([0-9])', record)
    assert found is not None
    digit = str((int(found.group(1)) + 1) % 10)
    return record[: found.start(1)] + digit + record[found.end(1) :]


async def _verify(daemon: Daemon, records: list[str], path: Path, key: Path) -> tuple[int, list[str]]:
    path.write_text("".join(f"{record}\n" for record in records))
    result = await daemon.cli("verify-ocmf", str(path), "--key", str(key))
    assert "Traceback" not in result.err, result
    return result.code, result.out.splitlines()


async def test_every_signed_reading_verifies_and_a_power_loss_still_ends_with_one(
    csms: Csms, make_daemon: Any, tmp_path: Path
) -> None:
    daemon = make_daemon(csms, signed_meter_values=True, ev_power_w=22000)
    await booted(csms, daemon)
    key_file = tmp_path / "meter.pem"
    key_file.write_text(await cli_ok(daemon, "meter-key"))
    public = serialization.load_pem_public_key(key_file.read_bytes())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex().upper()
    shown = await csms.call(call.GetConfiguration(key=[PUBLIC_KEY_KEY]))
    assert shown.configuration_key == [{"key": PUBLIC_KEY_KEY, "readonly": True, "value": der}]
    assert (await csms.call(call.ChangeConfiguration(key=PUBLIC_KEY_KEY, value="00"))).status == "Rejected"

    # A session stopped by its card, StopTxnSampledData empty: begin and end go in MeterValues.
    await configure(csms, MeterValueSampleInterval="1")
    mark = len(csms.frames)
    await charging(csms, daemon, "04A21B3C")
    await csms.wait_for("MeterValues", lambda p: _context(p) == "Sample.Periodic", after=mark)
    await cli_ok(daemon, "swipe", "04A21B3C")
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    meter_values = [f.payload for f in csms.received("MeterValues")]
    signed = _signed(meter_values, "meterValue")
    assert "transactionData" not in stop  # errata 3.14.5: both StopTxn keys empty
    start = csms.calls("StartTransaction")[0]
    begin, end = _fields(signed[0]), _fields(signed[-1])
    assert (signed[0]["context"], begin["RD"][0]["TX"], begin["RD"][0]["RV"]) == ("Transaction.Begin", "B", start["meterStart"] / 1000)
    assert (signed[-1]["context"], end["RD"][0]["TX"], end["RD"][0]["RV"]) == ("Transaction.End", "L", stop["meterStop"] / 1000)
    assert {_fields(v)["RD"][0]["TX"] for v in signed[1:-1]} == {"C"} and begin["ID"] == "04A21B3C"
    assert [_fields(v)["PG"] for v in signed] == [f"T{n}" for n in range(1, len(signed) + 1)]

    # Power loss: SIGKILL while charging; the restarted station's stop carries the final reading.
    await cli_ok(daemon, "unplug", "1")
    await configure(csms, StopTxnSampledData="Energy.Active.Import.Register")
    mark = len(csms.frames)
    await charging(csms, daemon, "TAG2")
    await csms.wait_for("MeterValues", lambda p: _context(p) == "Sample.Periodic", after=mark)
    daemon.kill()
    daemon.start()
    lost = (await csms.wait_for("StopTransaction", lambda p: p["reason"] == "PowerLoss", after=mark, timeout=20)).payload
    final = _signed([lost], "transactionData")
    assert len(final) == 1 and final[0]["context"] == "Transaction.End"
    assert (_fields(final[0])["RD"][0]["TX"], _fields(final[0])["RD"][0]["RV"]) == ("P", lost["meterStop"] / 1000)

    # A session stopped by its card with StopTxnSampledData set: transactionData has both ends signed.
    mark = len(csms.frames)
    await cli_ok(daemon, "swipe", "TAG3")
    await csms.wait_for("StartTransaction", after=mark)
    await cli_ok(daemon, "swipe", "TAG3")
    stop = (await csms.wait_for("StopTransaction", after=mark)).payload
    framed = _signed([stop], "transactionData")
    assert [(v["context"], _fields(v)["RD"][0]["TX"], _fields(v)["ID"]) for v in (framed[0], framed[-1])] == [
        ("Transaction.Begin", "B", "TAG3"), ("Transaction.End", "L", "TAG3")
    ]
    assert _fields(framed[-1])["RD"][0]["RV"] == stop["meterStop"] / 1000

    records = [v["value"] for v in _signed([f.payload for f in csms.received("MeterValues")], "meterValue") + final + framed]
    code, lines = await _verify(daemon, records, tmp_path / "records.txt", key_file)
    assert code == 0 and lines[-1] == f"{len(records)} of {len(records)} records verified", lines
    from_log = await daemon.cli("verify-ocmf", str(daemon.frame_log))  # the station's own key by default
    assert from_log.code == 0 and from_log.out.splitlines()[-1] == f"{len(records)} of {len(records)} records verified"

    changed = _one_digit_changed(records[1])
    code, lines = await _verify(daemon, [records[0], changed], tmp_path / "tampered.txt", key_file)
    assert code == 1 and lines[0].startswith("record 1: verified: T1 B")
    assert lines[1].startswith("record 2: FAILED: signature does not match the payload") and lines[-1] == "1 of 2 records verified"

    await daemon.stop()  # the key is read from data_dir with no daemon running
    assert await cli_ok(daemon, "meter-key") == key_file.read_text()


async def test_signing_is_off_by_default_and_a_bad_value_is_one_line(make_daemon: Any) -> None:
    daemon = make_daemon(start=False)
    got = await daemon.cli("config", "get", PUBLIC_KEY_KEY)
    assert (got.code, got.out) == (1, f"{PUBLIC_KEY_KEY} unknown key\n")  # never advertised where it does not sign
    no_key = await daemon.cli("verify-ocmf", "-")
    assert (no_key.code, no_key.err) == (2, f"chargepoint: no meter signing key in {daemon.data_dir}; give the public key with --key PEM\n")
    env = {**daemon.env(), "CHARGEPOINT_SIGNED_METER_VALUES": "maybe"}
    result = subprocess.run(
        [sys.executable, "-m", "chargepoint", "meter-key"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stderr.startswith("chargepoint: setting signed_meter_values"), result
    assert len(result.stderr.strip().splitlines()) == 1
    assert not os.path.exists(daemon.data_dir / "meter-signing-key.pem")


async def test_a_clock_aligned_value_in_a_transaction_is_signed_as_a_tariff_point(tmp_path: Path) -> None:
    async with Csms() as csms:
        settings = Settings(identity="CP-OCMF", csms_url=csms.url, data_dir=tmp_path / "cp", signed_meter_values=True)
        station = Station(settings)
        running = asyncio.create_task(station.run())
        try:
            await csms.wait_for("StatusNotification", lambda p: p["connectorId"] == 1)
            assert (await csms.call(call.RemoteStartTransaction(id_tag="TAG1"))).status == "Accepted"
            station.connectors[0].evse.plug()  # type: ignore[attr-defined]
            station.connectors[0].evse.ev_charge()  # type: ignore[attr-defined]
            await csms.wait_for("StartTransaction")
            await station.aligned.tick(station.clock.timestamp_at_tick(900))
            clock = await csms.wait_for("MeterValues", lambda p: (p["connectorId"], _context(p)) == (1, "Sample.Clock"))
            station_wide = await csms.wait_for("MeterValues", lambda p: (p["connectorId"], _context(p)) == (0, "Sample.Clock"))
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    (value,) = _signed([clock.payload], "meterValue")
    assert (value["context"], _fields(value)["RD"][0]["TX"]) == ("Sample.Clock", "T")
    assert check(value["value"], DeviceKey.of(tmp_path / "cp").public_key).verified
    assert _signed([station_wide.payload], "meterValue") == []  # no transaction, no signed record
