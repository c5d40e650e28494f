"""Summarize a py-spy "raw" (collapsed stacks) profile: where each thread's wall time goes.

    .venv/bin/python -m bench.profile_summary bench/results/profile-20000-....pyspy.txt [--top 25]

Samples include idle stacks (the bench records with --idle), so a function's share is its share
of wall time: waiting on a socket or on PostgreSQL counts.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+?)(?::\d+)?\)$")

# A sample's stage: walking its frames from the innermost out, the first frame that contains one
# of these substrings names it.
STAGES: tuple[tuple[str, str], ...] = (
    ("handle_new_event", "Dagster: storing events (per-partition materializations, logs)"),
    ("Future.result", "waiting for the landing writer thread"),
    ("TimingCursor", "SQL on this thread (client-side wait)"),
    ("psycopg2", "SQL on this thread (client-side wait)"),
    ("JobNimbusClient", "fetch: HTTP + JSON decode (client)"),
    ("_storable", "raw payload json.dumps + checks"),
    ("warehouse/copy.py", "COPY text encoding"),
    ("jobnimbus/records.py", "record parsing"),
    ("hashlib", "hashing"),
    ("warehouse/landing.py", "landing: other Python"),
    ("gcc_pipeline/", "other project code"),
    ("materialize (dagster", "Dagster: run setup, planning, other"),
)


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{m.group('func')} ({file})"


def summarize(path: Path, top: int = 25) -> str:
    threads: Counter[str] = Counter()
    stages: dict[str, Counter[str]] = defaultdict(Counter)
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    self_time: dict[str, Counter[str]] = defaultdict(Counter)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "main"
        if frames[0].startswith("process"):
            frames = frames[1:]
        if frames and frames[0].startswith("thread"):
            thread = frames[0]
            frames = frames[1:]
        threads[thread] += n
        seen = set()
        for f in frames:
            s = _short(f)
            if s not in seen:
                inclusive[thread][s] += n
                seen.add(s)
        if frames:
            self_time[thread][_short(frames[-1])] += n
        stage = "other (imports, start-up, exit)"
        for f in reversed(frames):
            hit = next((name for key, name in STAGES if key in f), None)
            if hit:
                stage = hit
                break
        stages[thread][stage] += n
    out = []
    for thread, total in threads.most_common(4):
        out.append(f"{thread}: {total} samples")
        out.append("  by stage (innermost matching frame):")
        for name, n in stages[thread].most_common():
            out.append(f"    {100 * n / total:5.1f}%  {name}")
        out.append("  inclusive (every frame on the stack):")
        for name, n in inclusive[thread].most_common(top):
            out.append(f"    {100 * n / total:5.1f}%  {name}")
        out.append("  self (innermost frame):")
        for name, n in self_time[thread].most_common(top):
            out.append(f"    {100 * n / total:5.1f}%  {name}")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile_summary")
    p.add_argument("path", type=Path)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    print(summarize(args.path, args.top))


if __name__ == "__main__":
    main()
