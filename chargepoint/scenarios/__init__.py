"""Certification-style scenarios that test a CSMS: `chargepoint scenario list` / `run`.

Each scenario is a TOML file in `cases/`, modelled on an OCA compliance test case (TC_xxx_CSMS):
station actions taken through the bench commands, and expectations on the CSMS's answers and
requests, with timeouts. The station is the real Station, in-process on a temporary data
directory with simulated hardware; the run watches its frames through the frame log and cuts
the link in a local relay for the offline cases. It sends no OCPP message of its own.
"""
