"""The ``gcc sandbox`` command (also ``python -m gcc_pipeline.sandbox``): serve a company."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from gcc_pipeline.settings import load_settings
from gcc_pipeline.streams import STREAMS

from .faults import FaultConfig


def _serve(args: argparse.Namespace) -> int:
    from .server import start_sandbox

    faults = FaultConfig.parse(args.faults) if args.faults else None
    t0 = time.perf_counter()
    server = start_sandbox(
        jobs=args.jobs,
        seed=args.seed,
        api_key=args.key,
        port=args.port,
        faults=faults,
        anchor=args.anchor,
        host=args.host,
        unmapped_status_share=args.unmapped_share,
        hostile=args.hostile,
        history_days=args.history_days,
        latency_ms=args.latency_ms,
    )
    co = server.company
    total = sum(co.count(s.name) for s in STREAMS)
    print(
        f"# JobNimbus sandbox: {args.jobs} jobs, seed {args.seed}, {total} records "
        f"built in {time.perf_counter() - t0:.1f}s"
        + (f", {args.latency_ms:g} ms per API request" if args.latency_ms else "")
        + "; Ctrl-C to stop. Paste these:",
        file=sys.stderr,
        flush=True,
    )
    print(f"export JOBNIMBUS_BASE_URL={server.base_url}")
    print(f"export JOBNIMBUS_API_KEY={args.key}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("# sandbox stopped", file=sys.stderr)
    return 0


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    # The defaults are the built-in sandbox's (GCC_SANDBOX_*), so both serve the same company.
    box = load_settings().sandbox
    p.add_argument(
        "--jobs", type=int, default=box.jobs, help=f"jobs existing at the anchor ({box.jobs})"
    )
    p.add_argument("--seed", type=int, default=box.seed, help=f"random seed ({box.seed})")
    p.add_argument(
        "--history-days",
        type=int,
        default=box.history_days,
        metavar="D",
        help=f"days of history before the anchor ({box.history_days})",
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (8765; 0 = any)")
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--key", default="sandbox-key", help="API key clients must send (sandbox-key)")
    p.add_argument(
        "--faults",
        metavar="SPEC",
        default=None,
        help='fault rates, e.g. "429=0.05,500=0.02,503=0.02,slow=0.01,truncated=0.02,drop=0.02"',
    )
    p.add_argument(
        "--unmapped-share",
        type=float,
        default=0.0,
        metavar="F",
        help="share of jobs in a status missing from the stage mapping (0)",
    )
    p.add_argument(
        "--anchor",
        metavar="YYYY-MM-DD",
        default=None,
        help="date the clock starts at (default: today, midnight UTC)",
    )
    p.add_argument("--hostile", action="store_true", help="also serve malformed records")
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="N",
        help="delay before each API response, to model a distant API (0)",
    )
    p.set_defaults(handler=_serve)
    return p


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sandbox`` on the ``gcc`` command's sub-commands."""
    p = subparsers.add_parser(
        "sandbox",
        help="serve a synthetic JobNimbus account on loopback",
        description="Serve a deterministic synthetic JobNimbus account (the JobNimbus API "
        "simulator) until Ctrl-C, and print the two environment lines that point gcc at it.",
    )
    configure(p)


def main(argv: Sequence[str] | None = None) -> int:
    p = configure(argparse.ArgumentParser(prog="python -m gcc_pipeline.sandbox"))
    args = p.parse_args(argv)
    return int(args.handler(args) or 0)
