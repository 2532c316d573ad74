"""Firmware Management (§5.19, §4.5): UpdateFirmware and FirmwareStatusNotification. An update
is downloaded at its retrieveDate (retried `retries` times), installed once no transaction
runs (idle connectors Unavailable meanwhile), and its outcome reported after the restart it
brings. The update's progress is in SQLite, so a power cut at any point ends in a clear status. The
whitepaper's SignedUpdateFirmware (security/) hands its updates to the same process, which
reports those with SignedFirmwareStatusNotification.
"""
