"""Smart Charging (§3.13): SetChargingProfile, ClearChargingProfile and GetCompositeSchedule,
profiles on flash, the composite schedule as pure functions, and the EVSE following it. Keys:
ChargeProfileMaxStackLevel, ChargingScheduleAllowedChargingRateUnit, ChargingScheduleMaxPeriods,
MaxChargingProfilesInstalled."""
