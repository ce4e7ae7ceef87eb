"""On-screen keyboard benchmark: building the pinyin index (once per kiosk or gate start, off the UI thread) and
a key press → its candidates (p95 over typed pinyin, letter by letter). Prints one JSON line."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terminal.pinyin import Composer, load_index

WORDS = ("shafa", "yigui", "bingxiang", "xiyiji", "diandongche", "zhixiang", "jiushujia", "gangqin", "zh", "x")


def main() -> None:
    started = time.perf_counter()
    index = load_index()
    load_ms = (time.perf_counter() - started) * 1000
    presses: list[float] = []
    for _round in range(20):
        for word in WORDS:
            composer = Composer(index, max_chars=16)
            for key in word:
                started = time.perf_counter()
                composer.key(key)
                presses.append((time.perf_counter() - started) * 1000)
    presses.sort()
    figures = {
        "bench": "keyboard",
        "index_load_ms": round(load_ms, 1),
        "key_to_candidates_p95_ms": round(presses[int(len(presses) * 0.95) - 1], 3),
        "key_to_candidates_median_ms": round(statistics.median(presses), 3),
        "key_presses": len(presses),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
