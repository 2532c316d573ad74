"""Signed meter values (OCMF) as the station is built with them: the signer of each
connector's readings, or none (`app.ocmf_commands` has the two commands)."""

from __future__ import annotations

from chargepoint.app.settings import Settings
from chargepoint.infra.clock import Clock
from chargepoint.infra.state import StateTable
from chargepoint.metering.ocmf import Origin
from chargepoint.metering.signing import DeviceKey, MeterSigner
from drivers.meter_url import SimSpec, signs_of

def meter_signer(settings: Settings, boot: dict[str, str | None], state: StateTable, clock: Clock) -> MeterSigner | None:
    """The signer of a station with signed_meter_values; None without."""
    if not settings.signed_meter_values:
        return None
    serial = boot.get("charge_point_serial_number") or settings.identity
    origins, meter_signs = {}, {}
    for number, spec in enumerate(settings.meter_specs, start=1):
        origins[number] = Origin(
            gateway=f"{boot['charge_point_vendor']} {boot['charge_point_model']}",
            gateway_serial=serial,
            gateway_version=boot.get("firmware_version") or "",
            meter_vendor="",  # the register maps name the model, not its maker's spelling
            meter_model="simulated" if isinstance(spec, SimSpec) else spec.model,
            meter_serial=f"{serial}-{number}",  # the meters' own serials are not read over Modbus
            charge_point=f"{settings.identity} {number}",
            current_type=settings.station_model.current_type,
        )
        meter_signs[number] = signs_of(spec)
    return MeterSigner(DeviceKey.of(settings.data_dir), origins, meter_signs, state, clock)
