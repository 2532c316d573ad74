"""Energy meters on Modbus RTU (RS-485) and Modbus TCP, on pymodbus' asyncio clients.

The energy register is the billing truth, so a reading is only returned when every part of
it can be believed: the meter answered within the timeout (after a bounded number of
retries), the energy and power registers hold real numbers, and the energy went neither
backwards nor further than the connection could have delivered since the last good reading.
Anything else is a MeterError, and the caller keeps its last good reading with that reading's
own timestamp. The caller logs it too: a meter that is gone fails at every poll, so only the
caller, which sees the run of failures, can tell it once instead of once a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusException
from serial import SerialException

from drivers.meter import MeterError, MeterReading
from drivers.registers import Block, Function, InvalidValue, MeterModel, Register, model_blocks

# The largest supply a direct-connected DIN-rail meter on a charge point sees: three phases of
# 63 A (the meters' maximum current) at 230 V line to neutral = 43.47 kW. An energy register
# that advanced faster than this between two readings did not measure real energy.
DEFAULT_MAX_POWER_W = 3 * 63.0 * 230.0

DEFAULT_TIMEOUT = 1.0  # s per request; a meter answers in tens of ms plus the wire time
DEFAULT_RETRIES = 2

# RTU frame sizes in characters (Modbus over serial line v1.02 §2.5.1, application protocol §6.3):
# request = address, function, start address (2), quantity (2), CRC (2);
# response = address, function, byte count, 2 per register, CRC (2).
_REQUEST_CHARS = 8
_RESPONSE_CHARS = 5
# Above 19200 baud the spec fixes the inter-frame silence at 1.75 ms instead of 3.5 characters.
_FIXED_SILENCE_ABOVE = 19200
_FIXED_SILENCE = 0.00175

_PARITY_BITS = {"N": 0, "E": 1, "O": 1}

_EXCEPTION_NAMES = {code.value: code.name for code in ExcCodes}

_READ: dict[Function, Callable[..., Awaitable]] = {
    Function.HOLDING: ModbusBaseClient.read_holding_registers,
    Function.INPUT: ModbusBaseClient.read_input_registers,
}


def wire_time(model: MeterModel, baudrate: int, parity: str, stopbits: int) -> float:
    """Seconds one poll of `model` occupies an RS-485 line: every request and response frame
    (1 start + 8 data + parity + stop bits per character) and the silence after each frame.
    No poll can be faster, so the driver never polls more often than this."""
    char = (1 + 8 + _PARITY_BITS[parity] + stopbits) / baudrate
    silence = _FIXED_SILENCE if baudrate > _FIXED_SILENCE_ABOVE else 3.5 * char
    return sum(
        (_REQUEST_CHARS + _RESPONSE_CHARS + 2 * block.count) * char + 2 * silence for block in model_blocks(model)
    )


class ModbusMeter:
    """One meter at one unit id behind a Modbus client (Meter protocol)."""

    def __init__(
        self,
        connect: Callable[[], ModbusBaseClient],
        model: MeterModel,
        unit: int,
        *,
        name: str,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        min_interval: float = 0.0,
        max_power_w: float = DEFAULT_MAX_POWER_W,
    ) -> None:
        """`connect` makes a fresh, unconnected client: a failed link is dropped whole and
        rebuilt on the next read rather than trusting pymodbus' state after an error."""
        self._connect = connect
        self._client: ModbusBaseClient | None = None
        self.model = model
        self._blocks = model_blocks(model)
        self._unit = unit
        self.name = name
        # pymodbus times each attempt and retries by itself; this bounds the whole poll
        # (connect + every block with its retries) so nothing can hang the caller.
        self._deadline = timeout * (1 + len(self._blocks) * (retries + 1))
        self.min_interval = min_interval
        self.max_power_w = max_power_w
        self._lock = asyncio.Lock()
        self._poll_started = -float("inf")
        self._last: MeterReading | None = None
        self._last_started = 0.0

    @classmethod
    def tcp(
        cls,
        host: str,
        port: int,
        unit: int,
        model: MeterModel,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_power_w: float = DEFAULT_MAX_POWER_W,
    ) -> ModbusMeter:
        def connect() -> ModbusBaseClient:
            return AsyncModbusTcpClient(host, port=port, timeout=timeout, retries=retries, reconnect_delay=0)

        return cls(
            connect, model, unit, name=f"{model.name}@{host}:{port}/{unit}", timeout=timeout, retries=retries,
            max_power_w=max_power_w,
        )

    @classmethod
    def rtu(
        cls,
        port: str,
        unit: int,
        model: MeterModel,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_power_w: float = DEFAULT_MAX_POWER_W,
    ) -> ModbusMeter:
        def connect() -> ModbusBaseClient:
            return AsyncModbusSerialClient(
                port, framer=FramerType.RTU, baudrate=baudrate, parity=parity, stopbits=stopbits,
                timeout=timeout, retries=retries, reconnect_delay=0,
            )

        return cls(
            connect, model, unit, name=f"{model.name}@{port}/{unit}", timeout=timeout, retries=retries,
            min_interval=wire_time(model, baudrate, parity, stopbits), max_power_w=max_power_w,
        )

    async def read(self) -> MeterReading:
        """A fresh reading, or MeterError. Polls never overlap and never start sooner
        than `min_interval` after the previous one started."""
        async with self._lock:
            await asyncio.sleep(max(0.0, self._poll_started + self.min_interval - time.monotonic()))
            self._poll_started = time.monotonic()
            reading = self._checked(self._decode(await self._fetch()))
            self._last, self._last_started = reading, self._poll_started
            return reading

    async def close(self) -> None:
        self._drop()

    async def _fetch(self) -> list[Sequence[int]]:
        try:
            async with asyncio.timeout(self._deadline):
                client = await self._connected()
                return [await self._read_block(client, block) for block in self._blocks]
        except (ModbusException, OSError, SerialException, TimeoutError) as exc:
            self._drop()
            raise MeterError(f"no answer: {exc or type(exc).__name__}") from exc

    async def _connected(self) -> ModbusBaseClient:
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        client = self._connect()
        if not await client.connect():
            client.close()
            raise MeterError("cannot connect")
        self._client = client
        return client

    async def _read_block(self, client: ModbusBaseClient, block: Block) -> Sequence[int]:
        response = await _READ[block.function](client, block.address, count=block.count, device_id=self._unit)
        if response.isError():
            reason = _EXCEPTION_NAMES.get(response.exception_code, f"code {response.exception_code}")
            raise MeterError(f"Modbus exception {reason} reading {block.count} registers at 0x{block.address:04X}")
        if len(response.registers) != block.count:
            raise MeterError(f"{len(response.registers)} registers at 0x{block.address:04X}, asked for {block.count}")
        return response.registers

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _decode(self, block_words: list[Sequence[int]]) -> MeterReading:
        """Energy and power must be real numbers; an optional figure the meter marks invalid
        (a phase it does not measure, a power factor some firmware lacks) is left out."""

        def value(register: Register) -> float:
            for block, words in zip(self._blocks, block_words):
                if block.holds(register):
                    return register.decode(block.words(register, words))
            raise AssertionError(f"register 0x{register.address:04X} is in no block")

        def optional(*registers: Register) -> tuple[float, ...] | None:
            try:
                return tuple(value(r) for r in registers)
            except InvalidValue:
                return None

        model = self.model
        try:
            energy, power = value(model.energy), value(model.power)
        except InvalidValue as exc:
            raise MeterError(str(exc)) from exc
        export = optional(model.export_energy) if model.export_energy else None
        factor = optional(model.power_factor) if model.power_factor else None
        frequency = optional(model.frequency)
        return MeterReading(
            energy_wh=energy,
            power_w=power,
            taken_at=datetime.now(timezone.utc),
            voltage_v=optional(*model.voltage),  # 1 figure on single-phase meters
            current_a=optional(*model.current),
            phase_power_w=optional(*model.phase_power),
            frequency_hz=frequency[0] if frequency else None,
            export_energy_wh=export[0] if export else None,
            power_factor=factor[0] if factor else None,
        )

    def _checked(self, reading: MeterReading) -> MeterReading:
        """Refuse an energy register that went backwards or jumped by more than `max_power_w`
        could deliver since the last good poll started (plus one step of the register's
        resolution on each side). The last good reading stays the reference, so one bad
        value never moves it."""
        last = self._last
        if last is None:
            return reading
        if reading.energy_wh < last.energy_wh:
            raise MeterError(f"energy register went backwards: {reading.energy_wh:.1f} Wh after {last.energy_wh:.1f} Wh")
        elapsed = time.monotonic() - self._last_started
        step = self.model.energy.step(reading.energy_wh) + self.model.energy.step(last.energy_wh)
        limit = self.max_power_w * elapsed / 3600 + step
        if reading.energy_wh - last.energy_wh > limit:
            raise MeterError(
                f"energy register jumped {reading.energy_wh - last.energy_wh:.1f} Wh in {elapsed:.1f} s, "
                f"more than {self.max_power_w:.0f} W could deliver ({limit:.1f} Wh)"
            )
        return reading
