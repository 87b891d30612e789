"""``python -m tools.bench.probe HOST PORT PATH RATE``: the latency probe in a process of its own.

GETs PATH at RATE requests/s on one keep-alive connection (bearer token from ``BENCH_TOKEN``) until its stdin
closes; prints "ready" once connected, then at the end one JSON line: the latencies in ms and the error
count. A process of its own, at the
benchmark's priority, so that nothing else of the benchmark shares its interpreter: in the benchmark's
process, a thread that held the GIL (the CPU sampler runs at the lowest priority) delayed the response's
reading and counted as the API's latency.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time


def main() -> None:
    host, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    headers = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    stop = threading.Event()

    def until_stdin_closes() -> None:
        while os.read(sys.stdin.fileno(), 4096):
            pass
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    latencies: list[float] = []
    errors = 0
    period = 1.0 / rate
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.connect()
    # Started and connected: the benchmark times its window from here, not from this process's start-up.
    print("ready", flush=True)
    next_at = time.perf_counter()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        latencies.append((time.perf_counter() - started) * 1000)
        next_at += period
        time.sleep(max(0.0, next_at - time.perf_counter()))
    conn.close()
    print(json.dumps({"latencies": latencies, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
