"""SetChargingProfile (§5.16), ClearChargingProfile (§5.5) and GetCompositeSchedule (§5.7):
the Smart Charging profile's CSMS requests. Keys: ChargeProfileMaxStackLevel,
ChargingScheduleAllowedChargingRateUnit, ChargingScheduleMaxPeriods, MaxChargingProfilesInstalled."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import (
    Action,
    ChargePointStatus,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
)

from chargepoint.connector.connectors import Connectors
from chargepoint.infra.clock import Clock
from chargepoint.smart_charging.enforcement import LimitEnforcer
from chargepoint.smart_charging.rules import Capacity, refusal
from chargepoint.smart_charging.schedule import ChargingProfile, Limits, composite_schedule
from chargepoint.smart_charging.selection import anchor_of, profiles_for, transaction_id_of
from chargepoint.smart_charging.store import ProfileStore
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

# A composite longer than a year would keep the event loop busy for seconds (a daily profile
# unrolled over decades); the answer then states the span it covers.
MAX_COMPOSITE_SECONDS = 366 * 86400


class SmartCharging:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SMART_CHARGING

    def __init__(
        self,
        store: ProfileStore,
        connectors: Connectors,
        config: Configuration,
        limits: Limits,
        clock: Clock,
        enforcer: LimitEnforcer,
    ) -> None:
        self._store = store
        self._connectors = connectors
        self._config = config
        self._limits = limits
        self._clock = clock
        self._enforcer = enforcer
        for connector in connectors:
            # A transaction a power cut ended took its TxProfiles with it (§3.13.1).
            store.end_transaction(connector.id)
            connector.on_status(self._status_changed)

    @on(Action.set_charging_profile, skip_schema_validation=True)
    def set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> call_result.SetChargingProfile:
        connector = self._connectors.number(connector_id)
        running = False if connector is None else transaction_id_of(connector)
        why = self.refusal(connector_id, cs_charging_profiles, running)
        if why is not None:
            log.info("SetChargingProfile on connector %d rejected: %s", connector_id, why)
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        self.install(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    def refusal(self, connector_id: int, payload: dict[str, Any], transaction_id: int | None | bool) -> str | None:
        """Why a profile is refused; RemoteStartTransaction's TxProfile goes through it too."""
        profile = ChargingProfile.from_ocpp(payload)
        capacity = Capacity(
            max_stack_level=self._config.integer("ChargeProfileMaxStackLevel"),
            max_periods=self._config.integer("ChargingScheduleMaxPeriods"),
            max_installed=self._config.integer("MaxChargingProfilesInstalled"),
            allowed_units=frozenset(self._config.csl("ChargingScheduleAllowedChargingRateUnit")),
            connectors=len(self._connectors),
        )
        replaces = self._store.replaces(connector_id, profile)
        return refusal(profile, connector_id, capacity, self._store.count(), replaces, transaction_id)

    def install(self, connector_id: int, payload: dict[str, Any]) -> None:
        self._store.install(connector_id, payload)
        log.info("charging profile %d installed on connector %d", payload["charging_profile_id"], connector_id)
        self._enforcer.changed()

    @on(Action.clear_charging_profile, skip_schema_validation=True)
    def clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
    ) -> call_result.ClearChargingProfile:
        cleared = self._store.clear(id, connector_id, charging_profile_purpose, stack_level)
        log.info("ClearChargingProfile: %d profile(s) cleared", cleared)
        if not cleared:
            return call_result.ClearChargingProfile(status=ClearChargingProfileStatus.unknown)
        self._enforcer.changed()
        return call_result.ClearChargingProfile(status=ClearChargingProfileStatus.accepted)

    @on(Action.get_composite_schedule, skip_schema_validation=True)
    def get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None
    ) -> call_result.GetCompositeSchedule:
        unit = charging_rate_unit or "A"
        if duration > MAX_COMPOSITE_SECONDS:
            log.info("GetCompositeSchedule over %d s: answered for the first %d s", duration, MAX_COMPOSITE_SECONDS)
            duration = MAX_COMPOSITE_SECONDS
        if connector_id != 0 and self._connectors.number(connector_id) is None:
            return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.rejected)
        now = self._clock.now().replace(microsecond=0)
        installed = self._store.all()
        if connector_id == 0:
            profiles = profiles_for(installed, 0, False, with_station=True)
            limits = Limits(self._limits.max_current_a * len(self._connectors), self._limits.phases, self._limits.voltage)
            anchor = now
        else:
            connector = self._connectors[connector_id - 1]
            profiles = profiles_for(installed, connector_id, transaction_id_of(connector), with_station=True)
            # The request's second, truncated, may precede a transaction begun within it.
            limits, anchor = self._limits, min(anchor_of(connector, now), now)
        composite = composite_schedule(profiles, now, duration, unit, limits, anchor)
        periods = [
            {"start_period": p.start, "limit": p.limit, **({"number_phases": p.phases} if p.phases else {})}
            for p in composite.periods
        ]
        return call_result.GetCompositeSchedule(
            status=GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=now.isoformat().replace("+00:00", "Z"),
            charging_schedule={
                "duration": duration,
                "start_schedule": now.isoformat().replace("+00:00", "Z"),
                "charging_rate_unit": unit,
                "charging_schedule_period": periods,
            },
        )

    def _status_changed(self, connector_id: int, status: ChargePointStatus, *_: Any) -> None:
        """A transaction began or ended: TxProfiles of an ended one go (§3.13.1), and the
        station's share of a ChargePointMaxProfile is split anew."""
        connector = self._connectors[connector_id - 1]
        if connector.transaction is None and status != ChargePointStatus.preparing:
            if self._store.end_transaction(connector_id):
                log.info("connector %d: TxProfile dropped with its transaction", connector_id)
        self._enforcer.changed()


