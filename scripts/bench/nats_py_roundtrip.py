"""Baseline for `scripts/bench-check`: what users have today, with nats-py.

Connects, subscribes, publishes one message and receives it, then exits. Usage:
    python3 nats_py_roundtrip.py nats://127.0.0.1:4222
"""
import asyncio
import sys

import nats


async def main(url: str) -> int:
    client = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
    subscription = await client.subscribe("_nats_doctor.bench")
    await client.publish("_nats_doctor.bench", b"ping")
    message = await subscription.next_msg(timeout=3)
    await client.close()
    return 0 if message.data == b"ping" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
