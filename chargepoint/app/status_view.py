"""The human-readable `chargepoint status`: one line per part of the station, as a technician reads it.

Why apart from the CLI: the daemon answers status as JSON (what `--json` prints); turning it into
text is a separate job that grows with every feature that shows its state.
"""

from __future__ import annotations

from typing import Any


def human_status(reply: dict[str, Any]) -> str:
    lines = [
        f"link: {reply['link']}{_link_error_text(reply)}  registration: {reply['registration']}"
        f"  queued messages: {reply['queued']}",
        f"connector 0: {reply['station']['status']}  error: {reply['station']['error_code']}"
        + ("  emergency stop pressed" if reply["emergency_stop"] else ""),
    ]
    for c in reply["connectors"]:
        lines.append(
            f"connector {c['connector']}: {c['status']}  error: {c['error_code']}"
            f"  transaction: {c['transaction_id'] or '-'}  idTag: {c['id_tag'] or '-'}"
            f"  energy: {c['energy_wh'] if c['energy_wh'] is not None else '-'} Wh"
            f"  power: {c['power_w'] if c['power_w'] is not None else '-'} W"
            + (f"  SoC: {c['soc_percent']} %" if c.get("soc_percent") is not None else "")
            + f"  offered: {c['offered_a']:g} A"
            f"  limit: {_limit_text(c)}"
            + (f"  derated: {c['derated_a']:g} A" if c.get("derated_a") is not None else "")
            + (f"  waiting: {c['asking']}" if c.get("asking") else "")
        )
    lines.append(_firmware_text(reply["firmware"]))
    lines.append(f"diagnostics: {reply['diagnostics']['status']}")
    lines += _vendor_lines(reply)
    for r in reply.get("reservations", []):
        where = f"connector {r['connector']}" if r["connector"] else "any connector"
        group = f" (group {r['parent_id_tag']})" if r["parent_id_tag"] else ""
        lines.append(f"reservation {r['reservation_id']}: {where} for {r['id_tag']}{group} until {r['expiry_date']}")
    lines += _client_certificate_lines(reply.get("client_certificate", {}))
    return "\n".join(lines)


def _client_certificate_lines(certificate: dict[str, Any]) -> list[str]:
    lines = [f"client certificate: {certificate['subject']}  until: {certificate['valid_until']}"] if certificate.get("subject") else []
    return lines + (["client certificate: a signing request waits for its certificate"] if certificate.get("pending") else [])


def _link_error_text(reply: dict[str, Any]) -> str:
    """Why the link is down: the cause of the last failed connect, kept while it retries."""
    if not reply["link_error"]:
        return ""
    return f" ({reply['link_error']})" if reply["link"] == "Error" else f" (last failure: {reply['link_error']})"


def _clock_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _vendor_lines(reply: dict[str, Any]) -> list[str]:
    """WEMOB's own state: silent mode (DC), the cabinet it quiets, the display and menu."""
    lines = []
    if "silent_mode" in reply:
        pending = reply["silent_mode_pending"]
        schedule = ", ".join(
            f"{_clock_time(e['startPeriod'])} {'on' if e['enable'] else 'off'}"
            for e in reply["silent_mode_schedule"]
        )
        cabinet = reply["cabinet"]
        lines.append(
            f"silent mode: {'on' if reply['silent_mode'] else 'off'}"
            + (f" (pending: {'on' if pending else 'off'} when the charge ends)" if pending is not None else "")
            + f"  schedule: {schedule or 'none'}"
            + f"  cabinet: {cabinet['temperature_c']:g} °C, fan {cabinet['fan_percent']} %"
        )
    if "display" in reply:
        lines.append(f"display: {reply['display']}" + (f"  language: {reply['language']}" if "language" in reply else ""))
    return lines


def _firmware_text(firmware: dict[str, Any]) -> str:
    """The running version, and the update under way if any (Idle when none)."""
    text = f"firmware: {firmware['version']}  update: {firmware['status']}"
    if firmware["image"]:
        text += f" ({firmware['image']}" + (f", version {firmware['image_version']})" if firmware["image_version"] else ")")
    return text


def _limit_text(connector: dict[str, Any]) -> str:
    """Which charging profile limits the connector, or that only the hardware does."""
    if connector["limit_a"] is None:
        return str(connector["limit_source"])
    return f"{connector['limit_a']:g} A by {connector['limit_source']}"
