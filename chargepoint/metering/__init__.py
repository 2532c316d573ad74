"""Meters and MeterValues: polling (PowerMeterFailure), periodic and clock-aligned sampling, the
building of MeterValue objects, and signed values (OCMF records, the device key, the verifier).
Keys: MeterValueSampleInterval, ClockAlignedDataInterval, MeterValuesSampledData,
MeterValuesAlignedData, StopTxnSampledData, StopTxnAlignedData, ChargepointMeterPublicKey."""
