"""Diagnostics (§5.9, §4.4, Firmware Management profile): GetDiagnostics and the
DiagnosticsStatusNotification that follow it. The station packs its own log, the frame log,
its configuration keys and its transactions into one tar.gz, keeps only what falls between
startTime and stopTime, masks every secret, and uploads it by FTP or HTTP(S).
"""
