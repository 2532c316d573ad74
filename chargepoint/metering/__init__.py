"""Meters and MeterValues: polling (PowerMeterFailure), periodic and clock-aligned sampling, and
the building of MeterValue objects. Keys: MeterValueSampleInterval, ClockAlignedDataInterval,
MeterValuesSampledData, MeterValuesAlignedData, StopTxnSampledData, StopTxnAlignedData."""
