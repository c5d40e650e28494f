"""Kept for old habits: `python bench/backfill.py --jobs 20000` is `python -m bench --sizes 20000`.

The bench now lives in bench/run.py (one command, one table; see README "Performance").
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--history-days", type=int, default=365)
    args, rest = parser.parse_known_args()
    sys.exit(main(["--sizes", str(args.jobs), "--history-days", str(args.history_days), *rest]))
