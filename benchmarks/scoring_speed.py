"""Scoring speed and memory of the default detector, against river baselines.

Run ``python -m benchmarks.scoring_speed [--json] [--streams 10000] [--points N]
[--detector NAME]`` (``--detector`` measures that registry detector instead of the
default; ``StreamScorer`` and the 100,000-stream RSS then use it too).

* points/s of the default detector on ``--streams`` streams, one point per stream
  per round, through ``Detector.process_many`` and through ``StreamScorer.score``;
* river ``anomaly.HalfSpaceTrees`` and a river ``preprocessing.StandardScaler``
  z-score on a subsample of the same points (they run one point at a time);
* bytes of state per stream, and the peak RSS of a subprocess holding 100,000
  streams (scored for a few rounds).

With ``--json`` the last line of stdout is a JSON object with the figures. The
section ``scoring_speed`` of ``docs/benchmarks.md`` is rewritten.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

from benchmarks.report import write_section
from htm_edge.models.registry import DEFAULT_DETECTOR, make_detector
from htm_edge.models.scorer import StreamScorer

__all__ = ["main", "measure"]


def _data(streams: int, rounds: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 20.0 + rng.normal(size=(rounds, streams)) + 3.0 * np.sin(np.arange(rounds) / 40.0)[:, None]
    ts = 1.4e9 + np.arange(rounds, dtype=float) * 300.0
    return x, ts


def _detector_speed(streams: int, rounds: int, name: str = DEFAULT_DETECTOR) -> float:
    x, ts = _data(streams, rounds)
    det = make_detector(name, streams)
    idx = np.arange(streams, dtype=np.intp)
    tsr = np.empty(streams)
    t0 = time.perf_counter()
    for r in range(rounds):
        tsr.fill(ts[r])
        det.process_many(idx, x[r], tsr)
    return streams * rounds / (time.perf_counter() - t0)


def _scorer_speed(streams: int, rounds: int, name: str = DEFAULT_DETECTOR) -> float:
    x, ts = _data(streams, rounds)
    sc = StreamScorer(name)
    keys = [(f"dev{i // 4}", f"sig{i % 4}") for i in range(streams)]
    sc.score(keys, np.full(streams, ts[0] - 300.0), x[0])  # allocate slots
    t0 = time.perf_counter()
    for r in range(rounds):
        sc.score(keys, np.full(streams, ts[r]), x[r])
    return streams * rounds / (time.perf_counter() - t0)


def _river_speed(points: int) -> tuple[float, float]:
    from river import anomaly, preprocessing

    x, _ = _data(1, points, seed=1)
    vals = x[:, 0]
    hst = anomaly.HalfSpaceTrees(seed=0)
    t0 = time.perf_counter()
    for v in vals:
        d = {"x": float(v)}
        hst.score_one(d)
        hst.learn_one(d)
    hst_rate = points / (time.perf_counter() - t0)
    scaler = preprocessing.StandardScaler()
    t0 = time.perf_counter()
    for v in vals:
        d = {"x": float(v)}
        abs(scaler.transform_one(d)["x"]) > 3.0  # noqa: B015 - the work being timed
        scaler.learn_one(d)
    return hst_rate, points / (time.perf_counter() - t0)


_RSS_CHILD = """
import resource, sys, numpy as np
from htm_edge.models.scorer import StreamScorer
n = int(sys.argv[1])
sc = StreamScorer(sys.argv[2])
keys = [("dev%d" % (i // 8), "sig%d" % (i % 8)) for i in range(n)]
rng = np.random.default_rng(0)
for r in range(5):
    sc.score(keys, np.full(n, 1.4e9 + 300.0 * r), rng.normal(size=n))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _rss_mb(streams: int, name: str = DEFAULT_DETECTOR) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(streams), name],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def measure(
    streams: int = 10_000, points: int = 2_000_000, name: str = DEFAULT_DETECTOR
) -> dict[str, Any]:
    """Run every measurement; ``points`` is the total for the detector ``name``."""
    rounds = max(points // streams, 20)
    best_det = max(_detector_speed(streams, rounds, name) for _ in range(3))
    best_sc = max(_scorer_speed(streams, max(rounds // 2, 10), name) for _ in range(2))
    hst, zs = _river_speed(20_000)
    det = make_detector(name, 1)
    return {
        "detector": name,
        "streams": streams,
        "points": rounds * streams,
        "points_per_s": round(best_det),
        "scorer_points_per_s": round(best_sc),
        "river_hst_points_per_s": round(hst),
        "river_zscore_points_per_s": round(zs),
        "ratio_vs_hst": round(best_det / hst, 1),
        "ratio_vs_river_zscore": round(best_det / zs, 1),
        "bytes_per_stream": det.bytes_per_stream,
        "rss_mb_100k_streams": round(_rss_mb(100_000, name), 1),
        "self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _markdown(r: dict[str, Any], argv: list[str]) -> str:
    return f"""## Scoring speed (`python -m benchmarks.scoring_speed {" ".join(argv)}`)

Detector `{r["detector"]}` (the registry default is `{DEFAULT_DETECTOR}`),
{r["streams"]:,} streams, one point per stream per round, {r["points"]:,} points; river
baselines one point at a time on 20,000 points of the same kind of data, in the same run.
Best of a few repeats (shared, noisy machine).

| measure | value |
|---|---|
| detector, `Detector.process_many` | {r["points_per_s"]:,} points/s |
| detector, `StreamScorer.score` (tuple keys) | {r["scorer_points_per_s"]:,} points/s |
| river `HalfSpaceTrees` | {r["river_hst_points_per_s"]:,} points/s |
| river `StandardScaler` z-score | {r["river_zscore_points_per_s"]:,} points/s |
| ratio vs HalfSpaceTrees | {r["ratio_vs_hst"]}x |
| ratio vs river z-score | {r["ratio_vs_river_zscore"]}x |
| state per stream | {r["bytes_per_stream"]} bytes |
| peak RSS, process holding 100,000 streams | {r["rss_mb_100k_streams"]} MB |

Goals: at least 1,000,000 points/s and 50x HalfSpaceTrees; at most 2 KB of state per
stream; under 300 MB RSS for 100,000 streams.
"""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print a JSON object last")
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--points", type=int, default=2_000_000)
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--detector", default=DEFAULT_DETECTOR, help="registry detector to measure")
    args = ap.parse_args(argv)
    r = measure(args.streams, args.points, args.detector)
    md = _markdown(r, list(argv if argv is not None else sys.argv[1:]))
    if not args.no_doc:
        write_section("scoring_speed", md)
    print(md)
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
