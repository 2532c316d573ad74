"""Register maps of the supported energy meters, as data.

One `MeterModel` per meter: where each figure lives (function code, address), how it is
encoded (data type, word order), the factor that turns the raw number into the unit
`MeterReading` carries (Wh, W, V, A, Hz), and the raw value the maker uses to say "no valid
figure". The driver reads the `blocks()` of a model and decodes every figure from them, so
adding a meter is adding a table, never a branch in the driver.

Addresses are the 0-based protocol addresses (the "Modbus protocol start address hex" of the
manuals), not the 3xxxx/4xxxx register numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Literal

from pymodbus.client.mixin import ModbusClientMixin

DataType = ModbusClientMixin.DATATYPE
WordOrder = Literal["big", "little"]

MAX_REGISTERS_PER_REQUEST = 125  # Modbus application protocol v1.1b3 §6.3/§6.4


class Function(IntEnum):
    """The Modbus function code that reads a register."""

    HOLDING = 3
    INPUT = 4


class InvalidValue(ValueError):
    """A register holds no usable figure: NaN or the maker's "not available" marker."""


@dataclass(frozen=True)
class Register:
    function: Function
    address: int
    type: DataType
    scale: float  # raw value × scale = figure in the MeterReading unit
    order: WordOrder = "big"
    invalid: int | None = None  # raw value the maker defines as "not available"

    @property
    def words(self) -> int:
        return self.type.value[1]

    @property
    def end(self) -> int:
        return self.address + self.words

    def decode(self, words: Sequence[int]) -> float:
        """The figure in SI-ish units; InvalidValue for NaN or the maker's invalid marker."""
        raw = ModbusClientMixin.convert_from_registers(list(words), self.type, self.order)
        assert isinstance(raw, int | float)
        if self.invalid is not None and raw == self.invalid:
            raise InvalidValue(f"register 0x{self.address:04X} holds the invalid marker 0x{self.invalid:X}")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise InvalidValue(f"register 0x{self.address:04X} holds {raw}")
        return raw * self.scale

    def encode(self, value: float) -> list[int]:
        """The words a meter would hold for `value` (the inverse of decode; simulators use it)."""
        raw: int | float = value / self.scale
        if self.type is not DataType.FLOAT32:
            raw = round(raw)
        return ModbusClientMixin.convert_to_registers(raw, self.type, self.order)

    def step(self, value: float) -> float:
        """The smallest change the register can show near `value`: one count of an integer,
        or one float32 mantissa step (24 bits) — a reading may legitimately jump by this much."""
        if self.type is DataType.FLOAT32:
            return abs(value) * 2.0**-23 + 1e-9
        return self.scale


@dataclass(frozen=True)
class MeterModel:
    name: str
    source: str  # the maker's document the map was checked against
    energy: Register  # total active import, Wh
    power: Register  # total active power, W
    voltage: tuple[Register, ...]  # L1-N (, L2-N, L3-N), V — one entry on single-phase meters
    current: tuple[Register, ...]  # A
    phase_power: tuple[Register, ...]  # W
    frequency: Register
    export_energy: Register | None = None  # Wh
    power_factor: Register | None = None  # total
    max_block: int = MAX_REGISTERS_PER_REQUEST  # registers per request the meter accepts
    max_gap: int = 32  # unused registers worth reading through to save a request
    # It signs its readings itself (OCMF, Eichrecht): the station passes its records through
    # and signs none for it. None of the maps here does: the makers' documents say nothing of it.
    signs: bool = False

    def registers(self) -> tuple[Register, ...]:
        optional = tuple(r for r in (self.export_energy, self.power_factor) if r is not None)
        return (self.energy, self.power, *self.voltage, *self.current, *self.phase_power, self.frequency, *optional)


@dataclass(frozen=True)
class Block:
    """One read request: `count` registers from `address` with one function code."""

    function: Function
    address: int
    count: int

    def words(self, register: Register, block_words: Sequence[int]) -> Sequence[int]:
        offset = register.address - self.address
        return block_words[offset : offset + register.words]

    def holds(self, register: Register) -> bool:
        return (
            register.function == self.function
            and self.address <= register.address
            and register.end <= self.address + self.count
        )


def blocks(registers: Iterable[Register], max_block: int = MAX_REGISTERS_PER_REQUEST, max_gap: int = 32) -> tuple[Block, ...]:
    """The fewest requests that cover `registers`: neighbours merge while the gap between them
    is at most `max_gap` registers and the request stays within `max_block` registers.
    Every request costs a round trip (and on RS-485 a frame overhead and two silences), so a
    few unused registers in between are cheaper than a second request."""
    result: list[Block] = []
    for register in sorted(set(registers), key=lambda r: (r.function, r.address)):
        if result:
            last = result[-1]
            end = max(last.address + last.count, register.end)
            gap = register.address - (last.address + last.count)
            if register.function == last.function and gap <= max_gap and end - last.address <= max_block:
                result[-1] = Block(last.function, last.address, end - last.address)
                continue
        result.append(Block(register.function, register.address, register.words))
    return tuple(result)


def model_blocks(model: MeterModel) -> tuple[Block, ...]:
    return blocks(model.registers(), model.max_block, model.max_gap)


def _eastron(address: int, scale: float = 1.0) -> Register:
    """Eastron: every figure is an IEEE 754 float32 input register, high word first."""
    return Register(Function.INPUT, address, DataType.FLOAT32, scale)


def _abb(address: int, type: DataType, scale: float) -> Register:
    """ABB B2x: holding registers, high word first; "not available" is all ones for unsigned
    types and the largest positive value for signed ones."""
    invalid = {
        DataType.UINT16: 0xFFFF,
        DataType.UINT32: 0xFFFF_FFFF,
        DataType.UINT64: 0xFFFF_FFFF_FFFF_FFFF,
        DataType.INT16: 0x7FFF,
        DataType.INT32: 0x7FFF_FFFF,
    }[type]
    return Register(Function.HOLDING, address, type, scale, "big", invalid)


def _gavazzi(address: int, scale: float, type: DataType = DataType.INT32) -> Register:
    """Carlo Gavazzi: input registers, INT32 least significant word first."""
    return Register(Function.INPUT, address, type, scale, "little")


_KWH = 1000.0  # kWh → Wh

# Eastron documents at most 30 parameters (60 registers) per request (SDM72D-M manual,
# Part 3); the same bound is used for all Eastron models. The 0x0000-0x004B range is fully
# defined on them (figures that do not apply read as zero), so gaps are safe to read through.
_EASTRON_BLOCK = 60

SDM630 = MeterModel(
    name="sdm630",
    source="Eastron SDM630 Modbus MID V2 user manual (B+G e-tech), §1.2 input registers",
    energy=_eastron(0x0048, _KWH),
    power=_eastron(0x0034),
    voltage=(_eastron(0x0000), _eastron(0x0002), _eastron(0x0004)),
    current=(_eastron(0x0006), _eastron(0x0008), _eastron(0x000A)),
    phase_power=(_eastron(0x000C), _eastron(0x000E), _eastron(0x0010)),
    frequency=_eastron(0x0046),
    export_energy=_eastron(0x004A, _KWH),
    power_factor=_eastron(0x003E),
    max_block=_EASTRON_BLOCK,
)

SDM120 = MeterModel(
    name="sdm120",
    source="Eastron SDM120-Modbus protocol (input registers 30001-30075; same layout as SDM230)",
    energy=_eastron(0x0048, _KWH),
    power=_eastron(0x000C),
    voltage=(_eastron(0x0000),),
    current=(_eastron(0x0006),),
    phase_power=(_eastron(0x000C),),
    frequency=_eastron(0x0046),
    export_energy=_eastron(0x004A, _KWH),
    power_factor=_eastron(0x001E),
    max_block=_EASTRON_BLOCK,
)

# The SDM72D-M v2 keeps the SDM630's input-register layout for every figure read here.
SDM72DM = replace(
    SDM630,
    name="sdm72dm",
    source="Eastron SDM72D-M v2 user manual (B+G e-tech, SDM72DM-V2.pdf), Part 3 Modbus input registers",
)

ABB_B23 = MeterModel(
    name="abb-b23",
    source="ABB B23/B24 user manual 2CMC485003M0201, ch. 9 Modbus register tables",
    energy=_abb(0x5000, DataType.UINT64, 0.01 * _KWH),
    power=_abb(0x5B14, DataType.INT32, 0.01),
    voltage=tuple(_abb(a, DataType.UINT32, 0.1) for a in (0x5B00, 0x5B02, 0x5B04)),
    current=tuple(_abb(a, DataType.UINT32, 0.01) for a in (0x5B0C, 0x5B0E, 0x5B10)),
    phase_power=tuple(_abb(a, DataType.INT32, 0.01) for a in (0x5B16, 0x5B18, 0x5B1A)),
    frequency=_abb(0x5B2C, DataType.UINT16, 0.01),
    export_energy=_abb(0x5004, DataType.UINT64, 0.01 * _KWH),
    power_factor=_abb(0x5B3A, DataType.INT16, 0.001),
)

# The Carlo Gavazzi per-request limit was not found in the documents searched; 50 registers
# is a conservative bound that every model of the family accepts.
_GAVAZZI_BLOCK = 50

EM340 = MeterModel(
    name="em340",
    source="Carlo Gavazzi EM340/ET340 communication protocol (EM341-Modbus), table of instantaneous variables",
    energy=_gavazzi(0x0034, 0.1 * _KWH),
    power=_gavazzi(0x0028, 0.1),
    voltage=tuple(_gavazzi(a, 0.1) for a in (0x0000, 0x0002, 0x0004)),
    current=tuple(_gavazzi(a, 0.001) for a in (0x000C, 0x000E, 0x0010)),
    phase_power=tuple(_gavazzi(a, 0.1) for a in (0x0012, 0x0014, 0x0016)),
    frequency=_gavazzi(0x0033, 0.1, DataType.INT16),
    export_energy=_gavazzi(0x004E, 0.1 * _KWH),
    power_factor=_gavazzi(0x0031, 0.001, DataType.INT16),
    max_block=_GAVAZZI_BLOCK,
)

# EM24-DIN PFA/PFB/X: the EM340 layout for power, voltages and currents. kWh(+) TOT is at 0x003E; 0x0042 is kWh(+) PAR, the partial counter a
# user can reset — never a billing register. kWh(-) TOT at 0x005C is taken from the Victron
# and OpenEMS drivers (the page of the protocol that lists it was not available).
EM24 = replace(
    EM340,
    name="em24",
    source="Carlo Gavazzi EM24-DIN PFA, PFB & X models communication protocol, table 2.3-1",
    energy=_gavazzi(0x003E, 0.1 * _KWH),
    frequency=_gavazzi(0x0037, 0.1, DataType.INT16),
    export_energy=_gavazzi(0x005C, 0.1 * _KWH),
    power_factor=_gavazzi(0x0035, 0.001, DataType.INT16),
)

# Names as the `meters` setting spells them; B24 and ET340 share their sibling's map.
MODELS: dict[str, MeterModel] = {
    "sdm630": SDM630,
    "sdm120": SDM120,
    "sdm72dm": SDM72DM,
    "abb-b23": ABB_B23,
    "abb-b24": ABB_B23,
    "em340": EM340,
    "et340": EM340,
    "em24": EM24,
}
