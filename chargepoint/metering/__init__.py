"""Meters: polling, MeterValue building, transaction and clock-aligned sampling."""
