#!/usr/bin/python3
"""An independent Modbus TCP server (pymodbus) for interop tests of the gateway's Modbus driver.

Serves fixed values on three unit ids, laid out like the shipped profiles in
firmware-configs/profiles/, so the test reads them with those very profiles:
  unit 1  radar-water-level    holding 0..2: level 123 cm, battery 12.75 V, status 0x0001 (fault)
  unit 2  rain-gauge-float     input 0..3: rainfall 12.3 mm, battery 12.6 V, float32 CDAB
  unit 3  smoke-heat-detector  holding 0..2: -5.5 °C, CO 7 ppm, status 0x0005; coil 0 on; discrete 0 off
Addresses outside these blocks answer Modbus exception 2 (illegal data address).

Usage: pymodbus_station.py [--host 127.0.0.1] [--port 0]; prints "PORT <n>" once listening.
"""
import argparse
import asyncio
import struct
import sys
import types

# pymodbus 3.0's server module imports pyserial at the top for its serial server, which we do not
# use; Debian's python3-pymodbus does not pull python3-serial in. Stand in for it only if missing.
try:
    import serial  # noqa: F401
    import serial_asyncio  # noqa: F401
except ImportError:
    sys.modules.setdefault("serial", types.ModuleType("serial"))
    _serial_asyncio = types.ModuleType("serial_asyncio")
    _serial_asyncio.create_serial_connection = None
    sys.modules["serial_asyncio"] = _serial_asyncio

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server.async_io import ModbusTcpServer


def float32_cdab(value):
    """Two registers of an IEEE-754 float32, low word first (CDAB)."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [lo, hi]


def block(values):
    return ModbusSequentialDataBlock(0, values)


def context():
    empty = block([0])  # one address only, so anything else is an illegal address
    radar = ModbusSlaveContext(hr=block([123, 1275, 0x0001]), ir=empty, co=empty, di=empty, zero_mode=True)
    rain = ModbusSlaveContext(
        ir=block(float32_cdab(12.3) + float32_cdab(12.6)), hr=empty, co=empty, di=empty, zero_mode=True
    )
    smoke = ModbusSlaveContext(
        hr=block([(-55) & 0xFFFF, 7, 0x0005]), co=block([True]), di=block([False]), ir=empty, zero_mode=True
    )
    return ModbusServerContext(slaves={1: radar, 2: rain, 3: smoke}, single=False)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ModbusTcpServer(context(), address=(args.host, args.port), allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"PORT {server.server.sockets[0].getsockname()[1]}", flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(main())
