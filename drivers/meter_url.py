"""The `meters` setting: one URL per connector naming the meter behind it (DESIGN.md).

    sim
    modbus-tcp://HOST[:PORT]?unit=1&model=sdm630
    modbus-rtu:///dev/ttyUSB0?baudrate=9600&parity=N&stopbits=1&unit=1&model=sdm630
    modbus-rtu:///tmp/ttyV0?model=sdm630              (any absolute path, e.g. a socat pty)

A wrong URL is refused at start with one line naming the part that is wrong and what is
allowed, so a technician can fix the configuration file without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from drivers.meter import ALL_FIGURES
from drivers.modbus import DEFAULT_MAX_POWER_W, DEFAULT_RETRIES, DEFAULT_TIMEOUT, ModbusMeter
from drivers.registers import MODELS

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = ("N", "E", "O")
STOP_BITS = (1, 2)
UNITS = range(1, 248)  # Modbus serial line §2.2: 0 is broadcast, 248-255 reserved
TCP_PORT = 502


@dataclass(frozen=True)
class SimSpec:
    """The simulated meter: the station builds it, since only it knows the simulated EV."""


@dataclass(frozen=True)
class TcpSpec:
    host: str
    port: int
    unit: int
    model: str


@dataclass(frozen=True)
class RtuSpec:
    device: str
    baudrate: int
    parity: str
    stopbits: int
    unit: int
    model: str


MeterSpec = SimSpec | TcpSpec | RtuSpec

# Query keys each scheme accepts, with their defaults (None: required).
_KEYS: dict[str, dict[str, str | None]] = {
    "modbus-tcp": {"unit": "1", "model": None},
    "modbus-rtu": {"unit": "1", "model": None, "baudrate": "9600", "parity": "N", "stopbits": "1"},
}


def parse_meter_url(url: str) -> MeterSpec:
    """The spec a `meters` entry names, or ValueError with one line saying what is wrong."""
    if url == "sim":
        return SimSpec()
    parts = urlsplit(url)
    if parts.scheme not in _KEYS:
        raise ValueError(f"'{url}': must be 'sim' or start with {' or '.join(k + '://' for k in _KEYS)}")
    query = _query(url, parts.query, _KEYS[parts.scheme])
    unit = _choice(url, "unit", query["unit"], UNITS, "1-247")
    model = query["model"]
    if model not in MODELS:
        raise ValueError(f"'{url}': model '{model}' is not one of {', '.join(MODELS)}")
    if parts.scheme == "modbus-tcp":
        if not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"'{url}': needs a host, as in modbus-tcp://192.168.1.10:502?unit=1&model=sdm630")
        try:
            port = TCP_PORT if parts.port is None else parts.port
        except ValueError:
            port = 0
        if port not in range(1, 65536):
            raise ValueError(f"'{url}': the port must be a number 1-65535")
        return TcpSpec(parts.hostname, port, unit, model)
    if parts.netloc or not parts.path.startswith("/"):
        # Any absolute path: socat's pty pairs live wherever their user put them (/tmp/ttyV0).
        raise ValueError(f"'{url}': needs a serial device path (absolute), as in modbus-rtu:///dev/ttyUSB0?unit=1&model=sdm630")
    return RtuSpec(
        device=parts.path,
        baudrate=_choice(url, "baudrate", query["baudrate"], BAUD_RATES, ", ".join(map(str, BAUD_RATES))),
        parity=_parity(url, query["parity"]),
        stopbits=_choice(url, "stopbits", query["stopbits"], STOP_BITS, "1 or 2"),
        unit=unit,
        model=model,
    )


def open_meter(
    spec: TcpSpec | RtuSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    max_power_w: float = DEFAULT_MAX_POWER_W,
) -> ModbusMeter:
    """The driver for a Modbus spec. A SimSpec is refused (ValueError): the simulated meter
    integrates the simulated EV's power, which only the station that owns the EV can wire."""
    match spec:
        case TcpSpec():
            return ModbusMeter.tcp(
                spec.host, spec.port, spec.unit, MODELS[spec.model],
                timeout=timeout, retries=retries, max_power_w=max_power_w,
            )
        case RtuSpec():
            return ModbusMeter.rtu(
                spec.device, spec.unit, MODELS[spec.model], baudrate=spec.baudrate, parity=spec.parity,
                stopbits=spec.stopbits, timeout=timeout, retries=retries, max_power_w=max_power_w,
            )
    raise ValueError(f"{spec!r} is not a Modbus meter; the station builds the simulated one itself")


def _query(url: str, query: str, keys: dict[str, str | None]) -> dict[str, str]:
    values = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(values) - set(keys))
    if unknown:
        raise ValueError(f"'{url}': unknown parameter {', '.join(unknown)}; allowed: {', '.join(keys)}")
    repeated = sorted(k for k, v in values.items() if len(v) > 1)
    if repeated:
        raise ValueError(f"'{url}': parameter {', '.join(repeated)} given more than once")
    result = {k: values[k][0] if k in values else default for k, default in keys.items()}
    missing = [k for k, v in result.items() if v is None]
    if missing:
        raise ValueError(f"'{url}': {missing[0]}= is required (one of {', '.join(MODELS)})")
    return result  # type: ignore[return-value]  # every None was refused above


def _choice(url: str, key: str, text: str, allowed: range | tuple[int, ...], described: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value not in allowed:
        raise ValueError(f"'{url}': {key} must be {described}, got '{text}'")
    return value


def _parity(url: str, text: str) -> str:
    if text.upper() not in PARITIES:
        raise ValueError(f"'{url}': parity must be N, E or O, got '{text}'")
    return text.upper()


def figures_of(spec: MeterSpec) -> frozenset[str]:
    """The MeterReading fields this meter fills: what a measurand key may ask of it."""
    if isinstance(spec, SimSpec):
        return ALL_FIGURES  # SoC too: the simulated EV tells its meter, where it reports one
    model = MODELS[spec.model]
    optional = {"export_energy_wh": model.export_energy, "power_factor": model.power_factor}
    return ALL_FIGURES - {"soc_percent"} - {name for name, register in optional.items() if register is None}


def signs_of(spec: MeterSpec) -> bool:
    """The meter signs its own readings; the simulated one does not (the station's key does)."""
    return not isinstance(spec, SimSpec) and MODELS[spec.model].signs
