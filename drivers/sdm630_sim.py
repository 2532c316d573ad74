"""An Eastron SDM630 (v2) energy meter emulated as a Modbus TCP server.

The bench and `chargepoint demo` read energy through the same Modbus path as a real station, so
the simulated EV's power must reach the station as registers on the wire, not as a Python call.

Register layout, from the Eastron "SDM630-Modbus MID V2" user manual, §1.2 "Modbus Protocol
Input Registers" (function code 04; each parameter an IEEE 754 float32 in two consecutive
registers, high word first), as published by B+G e-tech:
https://manualshive.com/en/manual/eastron/sdm630-modbus-mid-v2/522581 . The emulation serves
the first block of that table, parameters 1–40 (addresses 0x0000–0x004F; the manual caps one
request at 40 parameters, so a client can read it whole); listed parameters the emulation has no
physics for (demands, THD, line-to-line volts…) and the unlisted gaps inside the block read 0.0,
and any address past it answers IllegalDataAddress.

Only the input registers are emulated: every other function code answers IllegalFunction. A
real SDM630 keeps its settings in holding registers (FC03/FC16); nothing here needs them.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.register import DurableRegister

NOMINAL_VOLTAGE = 230.0
FREQUENCY_HZ = 50.0
PHASES = 3

READ_INPUT_REGISTERS = 4
BLOCK_REGISTERS = 0x0050  # parameters 1–40, two registers each

# Input register start addresses (manual §1.2, column "Modbus Protocol Start Address Hex").
VOLTAGE_L1, VOLTAGE_L2, VOLTAGE_L3 = 0x0000, 0x0002, 0x0004
CURRENT_L1, CURRENT_L2, CURRENT_L3 = 0x0006, 0x0008, 0x000A
POWER_L1, POWER_L2, POWER_L3 = 0x000C, 0x000E, 0x0010
APPARENT_L1, APPARENT_L2, APPARENT_L3 = 0x0012, 0x0014, 0x0016
POWER_FACTOR_L1, POWER_FACTOR_L2, POWER_FACTOR_L3 = 0x001E, 0x0020, 0x0022
AVERAGE_VOLTAGE = 0x002A
AVERAGE_CURRENT = 0x002E
SUM_OF_CURRENTS = 0x0030
TOTAL_POWER = 0x0034
TOTAL_APPARENT = 0x0038
TOTAL_POWER_FACTOR = 0x003E
FREQUENCY = 0x0046
IMPORT_ENERGY_KWH = 0x0048
EXPORT_ENERGY_KWH = 0x004A


class Sdm630Simulator:
    """One SDM630 on a Modbus TCP port whose registers follow a power source.

    The load is a purely resistive, balanced three-phase one at nominal voltage: each phase
    carries a third of the power, the power factor is 1.0, reactive power and phase angles are
    0. That is all the station reads, and keeps the figures consistent with each other.

    Energy integrates the power piecewise-constant over monotonic time: each read (and each
    `set_power`) first adds the power seen at the previous update times the time since, then
    samples the source afresh. With a constant power the register is therefore exact; with a
    changing source it lags by at most one poll, as the plain simulated meter does.
    """

    def __init__(
        self,
        power: Callable[[], float] | None = None,
        unit: int = 1,
        start_wh: float = 0.0,
        register: Path | None = None,
    ) -> None:
        """`register`: the file that keeps the energy register across restarts (a real meter's
        own memory); `start_wh` is where it starts when there is none yet."""
        self._power = power if power is not None else (lambda: 0.0)
        self._unit = unit
        self._register = DurableRegister(register, start_wh)
        self._last = time.monotonic()
        self._last_power = self._power()
        self._server: ModbusTcpServer | None = None

    def set_power(self, watts: float) -> None:
        """Make the meter see a constant power from now on (replacing any power source)."""
        self._advance()
        self._power = lambda: watts
        self._last_power = watts

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port) and return the bound port."""
        meter = SimDevice(
            id=self._unit,
            simdata=SimData(0, count=BLOCK_REGISTERS, datatype=DataType.REGISTERS),
            action=self._on_access,
        )
        # pymodbus 3.16 has no answer of its own for an unknown unit id: its SimCore raises
        # KeyError, the request handler logs a traceback and answers DeviceFailure
        # (`ignore_missing_devices` only covers the legacy NoSuchIdException path). Device id 0
        # is pymodbus's "every other unit" catch-all, so it answers GatewayTargetNoResponse
        # (0x0B), which is what a Modbus TCP gateway in front of an RS-485 bus answers when no
        # meter there has that address. It covers every address so that this, not
        # IllegalDataAddress, is the answer whatever the request.
        others = SimDevice(
            id=0,
            simdata=SimData(0, count=0x10000, datatype=DataType.REGISTERS),
            action=_no_such_unit,
        )
        self._server = ModbusTcpServer([meter, others], address=(host, port))
        await self._server.serve_forever(background=True)
        listener = cast(asyncio.Server, self._server.transport)
        return int(listener.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the listener and every client connection."""
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        self._register.close()

    def _advance(self) -> None:
        """Bring the energy register up to now with the power of the previous update."""
        now = time.monotonic()
        self._register.add(self._last_power * (now - self._last) / 3600)
        self._last = now

    async def _on_access(
        self,
        function_code: int,
        start_address: int,
        _address: int,
        _count: int,
        registers: list[int],
        _values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus's per-request hook: refresh the whole block just before it is answered."""
        if function_code != READ_INPUT_REGISTERS:
            return ExcCodes.ILLEGAL_FUNCTION
        self._advance()
        self._last_power = self._power()
        for address, value in self._parameters(self._last_power).items():
            offset = address - start_address
            registers[offset : offset + 2] = _float32_registers(value)
        return None

    def _parameters(self, power_w: float) -> dict[int, float]:
        """Every emulated parameter for a balanced resistive load drawing power_w."""
        phase_power = power_w / PHASES
        current = phase_power / NOMINAL_VOLTAGE
        return {
            VOLTAGE_L1: NOMINAL_VOLTAGE,
            VOLTAGE_L2: NOMINAL_VOLTAGE,
            VOLTAGE_L3: NOMINAL_VOLTAGE,
            CURRENT_L1: current,
            CURRENT_L2: current,
            CURRENT_L3: current,
            POWER_L1: phase_power,
            POWER_L2: phase_power,
            POWER_L3: phase_power,
            APPARENT_L1: phase_power,
            APPARENT_L2: phase_power,
            APPARENT_L3: phase_power,
            POWER_FACTOR_L1: 1.0,
            POWER_FACTOR_L2: 1.0,
            POWER_FACTOR_L3: 1.0,
            AVERAGE_VOLTAGE: NOMINAL_VOLTAGE,
            AVERAGE_CURRENT: current,
            SUM_OF_CURRENTS: current * PHASES,
            TOTAL_POWER: power_w,
            TOTAL_APPARENT: power_w,
            TOTAL_POWER_FACTOR: 1.0,
            FREQUENCY: FREQUENCY_HZ,
            IMPORT_ENERGY_KWH: self._register.wh / 1000,
            EXPORT_ENERGY_KWH: 0.0,
        }


async def _no_such_unit(*_request: object) -> ExcCodes:
    """Answer for a unit id no meter on the line has."""
    return ExcCodes.GATEWAY_NO_RESPONSE


def _float32_registers(value: float) -> list[int]:
    """An IEEE 754 float32 as two registers, high word first (Eastron's word order)."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


async def serve_forever(host: str, port: int, power_w: float, register: Path | None = None) -> None:
    """Run one SDM630 drawing a constant power_w until cancelled (`chargepoint meter-sim`)."""
    meter = Sdm630Simulator(register=register)
    meter.set_power(power_w)
    await meter.start(host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await meter.stop()
