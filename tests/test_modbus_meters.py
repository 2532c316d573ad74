"""Modbus meters against a real pymodbus server: over TCP on loopback and over RTU on a
pseudo-terminal pair joined by a relay (the RS-485 cable), for every register map.

The server holds a register image built from each model's read blocks; tests write figures
into it (or raw words, for invalid markers and garbage) while the driver polls it.
"""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.meter import MeterError
from drivers.meter_url import RtuSpec, SimSpec, TcpSpec, open_meter, parse_meter_url
from drivers.modbus import ModbusMeter, wire_time
from drivers.registers import ABB_B23, EM24, EM340, MODELS, SDM630, Block, Function, MeterModel, Register, model_blocks
from tests.conftest import booted
from tests.helpers import charging

TIMEOUT = 0.3  # short: every fault test waits out timeout × (retries + 1)
RETRIES = 1

# Figures every map can represent exactly at its coarsest resolution (0.1 kWh, 0.1 W, 0.1 V,
# 0.01 A, 0.1 Hz, 0.001); one negative phase power checks signed decoding and word order.
FIGURES = {
    "energy": 12345.6e3,
    "power": 7360.5,
    "voltage": (230.1, 231.2, 229.3),
    "current": (10.12, 10.45, 10.78),
    "phase_power": (2450.3, 2455.1, -150.2),
    "frequency": 50.1,
    "export_energy": 12.3e3,
    "power_factor": 0.987,
}


@dataclass
class MeterImage:
    """The registers of one simulated meter at one unit id, changeable while served."""

    model: MeterModel
    unit: int = 1
    words: dict[tuple[Function, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for block in model_blocks(self.model):
            for address in range(block.address, block.address + block.count):
                self.words[(block.function, address)] = 0

    def set(self, register: Register, value: float) -> None:
        self.set_words(register, register.encode(value))

    def set_words(self, register: Register, words: list[int]) -> None:
        for offset, word in enumerate(words):
            self.words[(register.function, register.address + offset)] = word

    def set_figures(self, figures: dict[str, float | tuple[float, ...]]) -> None:
        for name, value in figures.items():
            registers = getattr(self.model, name)
            if registers is None:
                continue
            if isinstance(registers, Register):
                self.set(registers, value)  # type: ignore[arg-type]
            else:
                for register, phase_value in zip(registers, value):  # type: ignore[arg-type]
                    self.set(register, phase_value)

    def device(self) -> SimDevice:
        """Holding and input registers apart, as on the real meters, so a map with the wrong
        function code reads an address the server does not have."""

        def registers(function: Function) -> list[SimData]:
            found = [b for b in model_blocks(self.model) if b.function == function]
            # pymodbus needs every table non-empty; a lone register far away stands in.
            return [SimData(b.address, values=[0] * b.count, datatype=DataType.REGISTERS) for b in found] or [
                SimData(0xFFF0, values=[0], datatype=DataType.REGISTERS)
            ]

        bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
        return SimDevice(
            id=self.unit,
            simdata=(bits, bits, registers(Function.HOLDING), registers(Function.INPUT)),
            action=self._serve,
        )

    async def _serve(
        self, function_code: int, start: int, address: int, count: int, current: list[int], _set: object
    ) -> ExcCodes | None:
        for offset in range(count):
            current[address - start + offset] = self.words.get((Function(function_code), address + offset), 0)
        return None


class PtyLine:
    """Two pseudo-terminals whose masters a relay joins: what the server writes to its end
    the client reads at the other, like the two ends of an RS-485 cable. `garble` replaces
    everything travelling from the server with bytes that fail the CRC."""

    def __init__(self) -> None:
        self._server_master, self._server_slave = os.openpty()
        self._client_master, self._client_slave = os.openpty()
        for fd in (self._server_slave, self._client_slave):
            tty.setraw(fd)  # no echo, no line discipline: bytes pass as they are
        self.server_port = os.ttyname(self._server_slave)
        self.client_port = os.ttyname(self._client_slave)
        self.garble = False
        loop = asyncio.get_running_loop()
        loop.add_reader(self._server_master, self._copy, self._server_master, self._client_master)
        loop.add_reader(self._client_master, self._copy, self._client_master, self._server_master)

    def _copy(self, source: int, target: int) -> None:
        try:
            data = os.read(source, 4096)
        except OSError:  # the far end is closed for a moment (a server restarting)
            return
        if self.garble and source == self._server_master:
            data = bytes((b ^ 0x5A) for b in data)
        os.write(target, data)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in (self._server_master, self._client_master):
            loop.remove_reader(fd)
        for fd in (self._server_master, self._client_master, self._server_slave, self._client_slave):
            os.close(fd)


async def start_tcp_server(image: MeterImage, port: int = 0) -> tuple[ModbusTcpServer, int]:
    server = ModbusTcpServer(image.device(), address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    return server, server.transport.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def start_rtu_server(image: MeterImage, line: PtyLine) -> ModbusSerialServer:
    server = ModbusSerialServer(image.device(), framer=FramerType.RTU, port=line.server_port, baudrate=9600)
    await server.serve_forever(background=True)
    return server


@dataclass
class Rig:
    """A meter image served over one transport, and a way to stop and restart the server."""

    image: MeterImage
    meter: Callable[..., ModbusMeter]
    stop: Callable[[], object]
    start: Callable[[], object]
    line: PtyLine | None = None


@asynccontextmanager
async def tcp_rig(model: MeterModel) -> AsyncIterator[Rig]:
    image = MeterImage(model)
    server, port = await start_tcp_server(image)
    servers = [server]

    async def start() -> None:
        servers.append((await start_tcp_server(image, port))[0])

    def meter(unit: int = 1, model: MeterModel = model, **options: float) -> ModbusMeter:
        return ModbusMeter.tcp("127.0.0.1", port, unit, model, timeout=TIMEOUT, retries=RETRIES, **options)

    try:
        yield Rig(image, meter, lambda: servers[-1].shutdown(), start)
    finally:
        await servers[-1].shutdown()


@asynccontextmanager
async def rtu_rig(model: MeterModel) -> AsyncIterator[Rig]:
    image = MeterImage(model)
    line = PtyLine()
    servers = [await start_rtu_server(image, line)]

    async def start() -> None:
        servers.append(await start_rtu_server(image, line))

    def meter(unit: int = 1, model: MeterModel = model, **options: float) -> ModbusMeter:
        return ModbusMeter.rtu(line.client_port, unit, model, timeout=TIMEOUT, retries=RETRIES, **options)

    try:
        yield Rig(image, meter, lambda: servers[-1].shutdown(), start, line)
    finally:
        await servers[-1].shutdown()
        line.close()


RIGS = {"tcp": tcp_rig, "rtu": rtu_rig}
DISTINCT_MODELS = {m.name: m for m in MODELS.values()}  # B24/ET340 share their sibling's map


@pytest.fixture(params=list(RIGS))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    """SDM630 on each transport, for the fault tests."""
    async with RIGS[request.param](SDM630) as r:
        yield r


async def _read(meter: ModbusMeter):
    try:
        return await meter.read()
    finally:
        await meter.close()


# ---- every map, decoded through a real server ------------------------------------------


@pytest.mark.parametrize("transport", list(RIGS))
@pytest.mark.parametrize("model", list(DISTINCT_MODELS.values()), ids=list(DISTINCT_MODELS))
async def test_every_map_decodes_known_figures(transport: str, model: MeterModel) -> None:
    phases = len(model.voltage)
    # A single-phase meter's total power is its L1 power: one register.
    figures = FIGURES | ({"phase_power": (FIGURES["power"],)} if phases == 1 else {})
    async with RIGS[transport](model) as rig:
        rig.image.set_figures(figures)
        reading = await _read(rig.meter())
    approx = lambda v: pytest.approx(v, rel=1e-6, abs=1e-3)  # float32 on Eastron  # noqa: E731
    assert reading.energy_wh == approx(figures["energy"])
    assert reading.power_w == approx(figures["power"])
    assert reading.voltage_v == approx(figures["voltage"][:phases])
    assert reading.current_a == approx(figures["current"][:phases])
    assert reading.phase_power_w == approx(figures["phase_power"][:phases])
    assert reading.frequency_hz == approx(figures["frequency"])
    assert reading.export_energy_wh == approx(figures["export_energy"])
    assert reading.power_factor == approx(figures["power_factor"])


def test_single_phase_meter_has_only_l1() -> None:
    sdm120 = MODELS["sdm120"]
    assert len(sdm120.voltage) == len(sdm120.current) == len(sdm120.phase_power) == 1


# Raw words written by hand, not by Register.encode, so word order and scale are checked
# against the makers' encodings rather than against themselves.
@pytest.mark.parametrize(
    ("register", "words", "expected"),
    [
        (SDM630.voltage[0], [0x4366, 0x0000], 230.0),  # float32 0x43660000, high word first
        (SDM630.energy, [0x4640, 0xE400], 12345.0e3),  # float32 kWh → Wh
        (ABB_B23.energy, [0x0000, 0x0000, 0x0012, 0xD687], 12345.67e3),  # UINT64 × 0.01 kWh
        (ABB_B23.power, [0xFFFF, 0xFA22], -15.02),  # INT32 × 0.01 W, negative
        (EM340.energy, [0xD687, 0x0012], 123456.7e3),  # INT32 low word first × 0.1 kWh
        (EM340.phase_power[2], [0xFA22, 0xFFFF], -150.2),  # INT32 low word first, negative
        (EM24.frequency, [0x01F5], 50.1),  # INT16 × 0.1 Hz
    ],
)
def test_decoding_of_hand_made_words(register: Register, words: list[int], expected: float) -> None:
    assert register.decode(words) == pytest.approx(expected, rel=1e-9)


def test_reads_are_grouped_into_few_requests() -> None:
    assert model_blocks(SDM630) == (Block(Function.INPUT, 0x0000, 18), Block(Function.INPUT, 0x0034, 24))
    assert model_blocks(ABB_B23) == (Block(Function.HOLDING, 0x5000, 8), Block(Function.HOLDING, 0x5B00, 59))
    for model in DISTINCT_MODELS.values():
        assert all(b.count <= model.max_block for b in model_blocks(model))
        assert all(any(b.holds(r) for b in model_blocks(model)) for r in model.registers())


def test_wire_time_counts_frames_and_silences() -> None:
    # SDM630: requests of 18 and 24 registers → 8 + (5 + 36) and 8 + (5 + 48) characters,
    # plus 3.5 characters of silence after each of the 4 frames; 8N1 = 10 bits a character.
    chars = (8 + 5 + 36) + (8 + 5 + 48) + 4 * 3.5
    assert wire_time(SDM630, 9600, "N", 1) == pytest.approx(chars * 10 / 9600)
    assert wire_time(SDM630, 9600, "E", 1) == pytest.approx(chars * 11 / 9600)
    # Above 19200 baud the silence is a fixed 1.75 ms.
    assert wire_time(SDM630, 38400, "N", 2) == pytest.approx((chars - 14) * 11 / 38400 + 4 * 0.00175)


async def test_polls_are_paced_by_the_wire_time() -> None:
    async with rtu_rig(SDM630) as rig:
        rig.image.set_figures(FIGURES)
        meter = rig.meter()
        assert meter.min_interval == wire_time(SDM630, 9600, "N", 1)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(meter.read(), meter.read(), meter.read())  # serialised by the lock
        assert loop.time() - start >= 2 * meter.min_interval
        await meter.close()


# ---- faults and recovery -----------------------------------------------------------------


async def test_server_stopped_then_back(rig: Rig) -> None:
    rig.image.set_figures(FIGURES)
    meter = rig.meter()
    await meter.read()
    await rig.stop()
    with pytest.raises(MeterError):
        await meter.read()
    await rig.start()
    assert (await meter.read()).energy_wh == pytest.approx(FIGURES["energy"])
    await meter.close()


async def test_wrong_unit_id(rig: Rig) -> None:
    rig.image.set_figures(FIGURES)
    with pytest.raises(MeterError):
        await _read(rig.meter(unit=7))


async def test_modbus_exception_for_an_address_the_meter_lacks(rig: Rig) -> None:
    with pytest.raises(MeterError, match="ILLEGAL_ADDRESS"):
        await _read(rig.meter(model=ABB_B23))  # holding registers 0x5000 on an SDM630


async def test_garbage_on_the_serial_line_then_clean() -> None:
    async with rtu_rig(SDM630) as rig:
        rig.image.set_figures(FIGURES)
        meter = rig.meter()
        rig.line.garble = True  # type: ignore[union-attr]
        with pytest.raises(MeterError):
            await meter.read()
        rig.line.garble = False  # type: ignore[union-attr]
        assert (await meter.read()).energy_wh == pytest.approx(FIGURES["energy"])
        await meter.close()


async def test_serial_port_gone() -> None:
    with pytest.raises(MeterError, match="cannot connect"):
        await _read(ModbusMeter.rtu("/dev/does-not-exist", 1, SDM630, timeout=TIMEOUT, retries=RETRIES))


async def test_energy_going_backwards_is_refused_and_does_not_move_the_reference(rig: Rig) -> None:
    rig.image.set_figures(FIGURES)
    meter = rig.meter()
    await meter.read()
    rig.image.set(SDM630.energy, FIGURES["energy"] - 1000)
    with pytest.raises(MeterError, match="backwards"):
        await meter.read()
    rig.image.set(SDM630.energy, FIGURES["energy"] + 1)
    assert (await meter.read()).energy_wh == pytest.approx(FIGURES["energy"] + 1, abs=1)
    await meter.close()


async def test_impossible_jump_is_refused(rig: Rig) -> None:
    rig.image.set_figures(FIGURES)
    meter = rig.meter(max_power_w=22_000)
    await meter.read()
    rig.image.set(SDM630.energy, FIGURES["energy"] + 5000)  # 5 kWh in well under a second
    with pytest.raises(MeterError, match="jumped"):
        await meter.read()
    await meter.close()


async def test_nan_energy_is_refused_and_a_nan_optional_figure_left_out() -> None:
    async with tcp_rig(SDM630) as rig:
        rig.image.set_figures(FIGURES)
        rig.image.set_words(SDM630.voltage[1], [0x7FC0, 0x0000])  # float32 NaN
        reading = await _read(rig.meter())
        assert reading.voltage_v is None and reading.energy_wh == pytest.approx(FIGURES["energy"])
        rig.image.set_words(SDM630.energy, [0x7FC0, 0x0000])
        with pytest.raises(MeterError, match="nan"):
            await _read(rig.meter())


async def test_abb_invalid_marker_is_refused() -> None:
    async with tcp_rig(ABB_B23) as rig:
        rig.image.set_figures(FIGURES)
        rig.image.set_words(ABB_B23.energy, [0xFFFF] * 4)
        with pytest.raises(MeterError, match="invalid marker"):
            await _read(rig.meter())
        rig.image.set_figures(FIGURES)
        rig.image.set_words(ABB_B23.power, [0x7FFF, 0xFFFF])
        with pytest.raises(MeterError, match="invalid marker"):
            await _read(rig.meter())


# ---- the `meters` setting -------------------------------------------------------------------


def test_urls_parse() -> None:
    assert parse_meter_url("sim") == SimSpec()
    assert parse_meter_url("modbus-tcp://10.0.0.5:5020?unit=3&model=em340") == TcpSpec("10.0.0.5", 5020, 3, "em340")
    assert parse_meter_url("modbus-tcp://meter.local?model=sdm630") == TcpSpec("meter.local", 502, 1, "sdm630")
    assert parse_meter_url("modbus-rtu:///dev/ttyUSB0?baudrate=19200&parity=e&stopbits=2&unit=247&model=abb-b23") == (
        RtuSpec("/dev/ttyUSB0", 19200, "E", 2, 247, "abb-b23")
    )
    assert parse_meter_url("modbus-rtu:///dev/ttyUSB0?model=sdm120") == RtuSpec("/dev/ttyUSB0", 9600, "N", 1, 1, "sdm120")
    assert parse_meter_url("modbus-rtu:///tmp/ttyV0?model=sdm630") == RtuSpec("/tmp/ttyV0", 9600, "N", 1, 1, "sdm630")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("modbus://10.0.0.5?model=sdm630", "must be 'sim' or start with modbus-tcp:// or modbus-rtu://"),
        ("simulated", "must be 'sim'"),
        ("modbus-tcp://10.0.0.5", "model= is required"),
        ("modbus-tcp://10.0.0.5?model=sdm999", "model 'sdm999' is not one of sdm630, sdm120"),
        ("modbus-tcp://10.0.0.5?model=sdm630&unit=0", "unit must be 1-247, got '0'"),
        ("modbus-tcp://10.0.0.5?model=sdm630&unit=248", "unit must be 1-247"),
        ("modbus-tcp://10.0.0.5?model=sdm630&unit=x", "unit must be 1-247, got 'x'"),
        ("modbus-tcp://10.0.0.5:99999?model=sdm630", "port must be a number 1-65535"),
        ("modbus-tcp://10.0.0.5:0?model=sdm630", "port must be a number 1-65535"),
        ("modbus-tcp://10.0.0.5:x?model=sdm630", "port must be a number 1-65535"),
        ("modbus-tcp://?model=sdm630", "needs a host"),
        ("modbus-tcp://10.0.0.5?model=sdm630&baudrate=9600", "unknown parameter baudrate; allowed: unit, model"),
        ("modbus-tcp://10.0.0.5?model=sdm630&model=em24", "model given more than once"),
        ("modbus-rtu://ttyUSB0?model=sdm630", "needs a serial device path"),
        ("modbus-rtu:tmp/ttyV0?model=sdm630", "needs a serial device path (absolute)"),
        ("modbus-rtu:///dev/ttyUSB0?model=sdm630&parity=X", "parity must be N, E or O, got 'X'"),
        ("modbus-rtu:///dev/ttyUSB0?model=sdm630&baudrate=9601", "baudrate must be 1200, 2400"),
        ("modbus-rtu:///dev/ttyUSB0?model=sdm630&stopbits=3", "stopbits must be 1 or 2, got '3'"),
    ],
)
def test_wrong_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_meter_url(url)
    assert says in str(error.value) and "\n" not in str(error.value)


async def test_open_meter_builds_the_driver_and_refuses_sim() -> None:
    rtu = open_meter(parse_meter_url("modbus-rtu:///dev/ttyUSB0?baudrate=19200&parity=E&model=sdm630"))  # type: ignore[arg-type]
    assert rtu.model is SDM630 and rtu.min_interval == wire_time(SDM630, 19200, "E", 1)
    assert open_meter(parse_meter_url("modbus-tcp://h?model=abb-b24")).model is ABB_B23  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a Modbus meter"):
        open_meter(SimSpec())  # type: ignore[arg-type]



async def test_a_meter_at_any_path_behind_the_daemon(csms, make_daemon, tmp_path: Path) -> None:
    """What socat users do: a pty pair, linked wherever they like (here /tmp/…/ttyV0)."""
    image = MeterImage(SDM630)
    image.set(SDM630.energy, 12345.0e3)
    line = PtyLine()
    server = await start_rtu_server(image, line)
    link = tmp_path / "ttyV0"
    link.symlink_to(line.client_port)
    try:
        daemon = make_daemon(csms, meters=[f"modbus-rtu://{link}?model=sdm630"])
        await booted(csms, daemon)
        start = await charging(csms, daemon, until="StartTransaction")
        assert start.payload["meterStart"] == 12345000
        await daemon.stop()
    finally:
        await server.shutdown()
        line.close()


@pytest.mark.parametrize(("kind", "make"), [("a regular file", Path.touch), ("a directory", Path.mkdir)])
async def test_a_meter_path_that_is_no_serial_device_stops_the_start(make_daemon, tmp_path: Path, kind: str, make) -> None:
    path = tmp_path / "ttyV0"
    make(path)
    daemon = make_daemon(start=False, meters=[f"modbus-rtu://{path}?model=sdm630"], log_level="INFO")
    result = await daemon.cli("run")
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip() == (
        f"chargepoint: setting meters: {path} is {kind}, not a serial device (a character device or pty)"
    )
