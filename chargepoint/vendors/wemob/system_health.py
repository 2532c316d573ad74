"""EnableSystemHealth (WEMOB §4.4.6) turns on the telemetry a real station sends to WEG's
System Health service, which also lets WEG operate it remotely. This station has no such
service to reach: it keeps the key, as the CSMS expects, and says so in the log."""

from __future__ import annotations

import logging

from configkeys import Configuration

log = logging.getLogger(__name__)

KEY = "EnableSystemHealth"


def watch_system_health(config: Configuration) -> None:
    def changed(value: str) -> None:
        log.info("%s=%s stored; this station has no WEG System Health service to report to", KEY, value)

    config.subscribe(KEY, changed)
