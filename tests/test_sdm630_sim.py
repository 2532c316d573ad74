"""The SDM630 emulation over real Modbus TCP, read with a bare pymodbus client (not our driver),
so a bug in the driver cannot hide a bug in the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.pdu import ExceptionResponse

from drivers.sdm630_sim import Sdm630Simulator

UNIT = 1
FLOAT32 = AsyncModbusTcpClient.DATATYPE.FLOAT32


@pytest.fixture
async def meter() -> AsyncIterator[Sdm630Simulator]:
    simulator = Sdm630Simulator(unit=UNIT)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(meter: Sdm630Simulator) -> AsyncIterator[AsyncModbusTcpClient]:
    modbus = AsyncModbusTcpClient("127.0.0.1", port=await meter.start(), timeout=2, retries=0)
    assert await modbus.connect()
    yield modbus
    modbus.close()


async def read_float(client: AsyncModbusTcpClient, address: int, unit: int = UNIT) -> float:
    response = await client.read_input_registers(address, count=2, device_id=unit)
    assert not response.isError(), response
    return float(client.convert_from_registers(response.registers, FLOAT32, word_order="big"))


async def test_figures_follow_the_power(meter: Sdm630Simulator, client: AsyncModbusTcpClient) -> None:
    meter.set_power(11_000)
    voltages = [await read_float(client, a) for a in (0x0000, 0x0002, 0x0004)]
    currents = [await read_float(client, a) for a in (0x0006, 0x0008, 0x000A)]
    powers = [await read_float(client, a) for a in (0x000C, 0x000E, 0x0010)]
    assert voltages == pytest.approx([230.0] * 3, abs=1)
    assert currents == pytest.approx([11_000 / 3 / v for v in voltages], rel=1e-5)
    assert powers == pytest.approx([11_000 / 3] * 3, rel=1e-5)
    assert await read_float(client, 0x0034) == pytest.approx(11_000, rel=1e-6)
    assert await read_float(client, 0x0046) == 50.0
    assert await read_float(client, 0x003E) == 1.0
    assert await read_float(client, 0x004A) == 0.0

    meter.set_power(0)
    assert await read_float(client, 0x0034) == 0.0
    assert await read_float(client, 0x0006) == 0.0


async def test_one_request_reads_the_whole_block_high_word_first(
    meter: Sdm630Simulator, client: AsyncModbusTcpClient
) -> None:
    """Drivers read 0x0000–0x004F in one go; the manual allows 40 parameters per request."""
    meter.set_power(7_400)
    response = await client.read_input_registers(0x0000, count=0x50, device_id=UNIT)
    assert not response.isError(), response
    total_power = response.registers[0x0034:0x0036]
    # 7400.0 as IEEE 754 float32 is 0x45E74000: high word first.
    assert total_power == [0x45E7, 0x4000]


async def test_energy_integrates_power_and_never_goes_back(
    meter: Sdm630Simulator, client: AsyncModbusTcpClient
) -> None:
    meter.set_power(36_000)
    loop = asyncio.get_running_loop()
    before_kwh, t0 = await read_float(client, 0x0048), loop.time()
    await asyncio.sleep(0.5)
    after_kwh, t1 = await read_float(client, 0x0048), loop.time()
    gained_wh = (after_kwh - before_kwh) * 1000
    assert gained_wh == pytest.approx(36_000 * (t1 - t0) / 3600, abs=0.5)  # ≈5 Wh
    assert 4.5 < gained_wh < 6.0

    readings = [after_kwh]
    for _ in range(5):
        await asyncio.sleep(0.02)
        readings.append(await read_float(client, 0x0048))
    assert readings == sorted(readings) and readings[-1] > after_kwh

    meter.set_power(0)
    idle = [await read_float(client, 0x0048) for _ in range(3)]
    assert idle[0] >= readings[-1] and len(set(idle)) == 1


async def test_energy_follows_a_power_source_and_start_value() -> None:
    """The station passes the simulated EV's power: the register follows it, read after read."""
    draw = {"w": 0.0}
    meter = Sdm630Simulator(power=lambda: draw["w"], start_wh=1_234_000)
    port = await meter.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    try:
        assert await client.connect()
        assert await read_float(client, 0x0048) == pytest.approx(1234.0)
        draw["w"] = 22_000
        assert await read_float(client, 0x0034) == 22_000  # sampled at this read
        await asyncio.sleep(0.2)
        later = await read_float(client, 0x0048)
        # float32 at 1234 kWh resolves about 0.1 Wh; 22 kW for 0.2 s is about 1.2 Wh.
        assert 1234.0009 < later < 1234.0025
    finally:
        client.close()
        await meter.stop()


async def test_unmapped_address_is_illegal(client: AsyncModbusTcpClient) -> None:
    for address in (0x0050, 0x004E):  # past the block, and a read running off its end
        response = await client.read_input_registers(address, count=4, device_id=UNIT)
        assert isinstance(response, ExceptionResponse)
        assert response.exception_code == ExcCodes.ILLEGAL_ADDRESS


async def test_only_input_registers_are_served(client: AsyncModbusTcpClient) -> None:
    response = await client.read_holding_registers(0x0048, count=2, device_id=UNIT)
    assert isinstance(response, ExceptionResponse)
    assert response.exception_code == ExcCodes.ILLEGAL_FUNCTION


async def test_unknown_unit_gets_gateway_no_response(client: AsyncModbusTcpClient) -> None:
    response = await client.read_input_registers(0x0048, count=2, device_id=UNIT + 1)
    assert isinstance(response, ExceptionResponse)
    assert response.exception_code == ExcCodes.GATEWAY_NO_RESPONSE
    assert await read_float(client, 0x0046) == 50.0  # the connection still serves the right unit


async def test_stop_closes_the_port() -> None:
    meter = Sdm630Simulator()
    port = await meter.start()
    await meter.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
