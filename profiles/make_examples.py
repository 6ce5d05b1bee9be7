#!/usr/bin/env python3
"""Builds the request/response vectors of the example profiles (examples.jsonl).

Independent of meterwire: the register words come from Python's struct module and the
word orders of profiles/README.md, the CRC from a bit-by-bit CRC-16/MODBUS (reflected
polynomial 0xA001, init 0xFFFF, low byte first), and the expected exact values are the
decimal strings written below by hand.

    python3 profiles/make_examples.py > profiles/examples.jsonl
"""
import json
import struct


def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


assert crc16(b"123456789") == 0x4B37


def rtu(unit, pdu):
    frame = bytes([unit]) + pdu
    crc = crc16(frame)
    return frame + bytes([crc & 0xFF, crc >> 8])


def tcp(tid, unit, pdu):
    return struct.pack(">HHH", tid, 0, len(pdu) + 1) + bytes([unit]) + pdu


def words(fmt, value, order):
    """The registers of `value` packed big-endian with `fmt`, in `order`."""
    raw = struct.pack(">" + fmt, value)
    regs = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    if order in ("swapped", "little"):
        regs.reverse()
    if order in ("little", "byte_swapped"):
        regs = [r[::-1] for r in regs]
    return b"".join(regs)


def hexs(b):
    return b.hex(" ").upper()


def example(name, profile, unit, function, start, payload, expected, status=None):
    qty = len(payload) // 2
    request_pdu = struct.pack(">BHH", function, start, qty)
    response_pdu = bytes([function, len(payload)]) + payload
    out = []
    out.append({
        "name": name + " (RTU)",
        "profile": profile,
        "protocol": "modbus_rtu",
        "request": hexs(rtu(unit, request_pdu)),
        "response": hexs(rtu(unit, response_pdu)),
        "expected": expected,
        "status": status,
    })
    out.append({
        "name": name + " (TCP)",
        "profile": profile,
        "protocol": "modbus_tcp",
        "request": hexs(tcp(7, unit, request_pdu)),
        "response": hexs(tcp(7, unit, response_pdu)),
        "expected": expected,
        "status": status,
    })
    return out


lines = []

# Ultrasonic, float32 and 32-bit integers word-swapped (CDAB), holding registers 0-11.
o = "swapped"
payload = (
    words("f", 12.5, o)          # 0  flow 12.5 m3/h
    + words("f", 0.85, o)        # 2  velocity 0.85 m/s
    + words("I", 123456789, o)   # 4  forward 123456.789 m3
    + words("I", 12345, o)       # 6  reverse 12.345 m3
    + words("i", 123444444, o)   # 8  net 123444.444 m3
    + struct.pack(">H", 0x0002)  # 10 status: bit 1 low battery
    + struct.pack(">H", 360)     # 11 battery 3.60 V
)
lines += example("ultrasonic-f32-cdab", "ultrasonic-f32-cdab.json", 1, 3, 0, payload, [
    ["flow", "12.5", "m3/h"],
    ["velocity", "0.85", "m/s"],
    ["forward_total", "123456.789", "m3"],
    ["reverse_total", "12.345", "m3"],
    ["net_total", "123444.444", "m3"],
    ["status", "2", None],
    ["battery", "3.60", "V"],
], {"raw": 2, "flags": ["low_battery"]})

# Electromagnetic, big-endian words (ABCD), holding registers 0-11.
o = "big"
payload = (
    words("f", -3.75, o)         # 0  flow -3.75 m3/h (reverse)
    + words("f", 1.2, o)         # 2  velocity 1.2 m/s
    + words("I", 1234567, o)     # 4  forward 1234.567 m3 (digest M4's value)
    + words("I", 2000, o)        # 6  reverse 2.000 m3
    + words("i", 1232567, o)     # 8  net 1232.567 m3
    + struct.pack(">H", 0x0005)  # 10 status: bit 0 empty pipe, bit 2 reverse flow
    + struct.pack(">H", 358)     # 11 battery 3.58 V
)
lines += example("electromagnetic-u32-abcd", "electromagnetic-u32-abcd.json", 2, 3, 0, payload, [
    ["flow", "-3.75", "m3/h"],
    ["velocity", "1.2", "m/s"],
    ["forward_total", "1234.567", "m3"],
    ["reverse_total", "2.000", "m3"],
    ["net_total", "1232.567", "m3"],
    ["status", "5", None],
    ["battery", "3.58", "V"],
], {"raw": 5, "flags": ["reverse_flow", "dry"]})

# Integer part and fraction in separate registers, input registers 0-14 (function 04).
o = "big"
payload = (
    words("I", 1234, o)          # 0  forward integer 1234 m3
    + struct.pack(">H", 5670)    # 2  forward fraction 0.5670 m3
    + words("I", 5, o)           # 3  reverse integer 5 m3
    + struct.pack(">H", 1250)    # 5  reverse fraction 0.1250 m3
    + words("f", 2.5, o)         # 6  flow 2.5 m3/h
    + words("f", 0.3, o)         # 8  velocity 0.3 m/s
    + struct.pack(">H", 0x0000)  # 10 status: no bit set
    + struct.pack(">H", 361)     # 11 battery 3.61 V
    + words("i", 1229, o)        # 12 net integer 1229 m3
    + struct.pack(">h", 4420)    # 14 net fraction 0.4420 m3
)
lines += example("split-integer-fraction", "split-integer-fraction.json", 3, 4, 0, payload, [
    ["forward_total_integer", "1234", "m3"],
    ["forward_total_fraction", "0.5670", "m3"],
    ["reverse_total_integer", "5", "m3"],
    ["reverse_total_fraction", "0.1250", "m3"],
    ["flow", "2.5", "m3/h"],
    ["velocity", "0.3", "m/s"],
    ["status", "0", None],
    ["battery", "3.61", "V"],
    ["net_total_integer", "1229", "m3"],
    ["net_total_fraction", "0.4420", "m3"],
], {"raw": 0, "flags": []})

for line in lines:
    print(json.dumps(line))
