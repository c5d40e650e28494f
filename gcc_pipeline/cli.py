"""The `gcc` command: one entry point for the warehouse, the sandbox and the pipeline."""

import argparse
import sys
import warnings
from collections.abc import Sequence

from gcc_pipeline import run_command
from gcc_pipeline.sandbox import command as sandbox_command
from gcc_pipeline.say import say
from gcc_pipeline.settings import ConfigError, load_settings
from gcc_pipeline.webhooks import server as webhook_server


def _db_url(args: argparse.Namespace) -> int:
    from gcc_pipeline.warehouse.server import loopback_url, resolve_target
    from gcc_pipeline.warehouse.urls import redact

    settings = load_settings()
    target = resolve_target(settings)
    say(f"using {target.describe()}")
    if target.embedded and not args.socket:
        tcp = loopback_url(settings.home)
        print(tcp)
        say(
            "that is the TCP address, for desktop SQL tools and other programs (psql, BI tools); "
            "gcc itself uses the unix socket (`gcc db url --socket`)"
        )
        return 0
    print(target.warehouse_url if args.reveal else redact(target.warehouse_url))
    return 0


def _db_migrate(args: argparse.Namespace) -> int:
    from gcc_pipeline.environment import prepare

    env = prepare(announce=say)
    applied = env.migration.applied
    print(
        f"schema: applied {len(applied)} file(s){': ' + ', '.join(applied) if applied else ''}; "
        f"{len(env.migration.already)} already in place"
    )
    return 0


def _db_stop(args: argparse.Namespace) -> int:
    from gcc_pipeline.warehouse.server import stop_embedded

    settings = load_settings()
    stopped = stop_embedded(settings.home)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def _db_grant_reader(args: argparse.Namespace) -> int:
    from gcc_pipeline.environment import prepare
    from gcc_pipeline.warehouse.roles import grant_reader, reader_config, reader_url
    from gcc_pipeline.warehouse.server import loopback_url

    settings = load_settings()
    config = reader_config(settings)  # before anything starts: a bad role name is one line
    env = prepare(announce=say)
    done = grant_reader(env.target.warehouse_url, config)
    for warning in done.warnings:
        say(f"warning: {warning}")
    print(done.describe())
    tcp = loopback_url(settings.home) if env.target.embedded else env.target.warehouse_url
    if tcp:
        print(reader_url(tcp, config, reveal=config.generated))
    if config.generated:
        say(
            "the password was generated (GCC_READER_PASSWORD is not set) and is shown only in "
            "the URL above: keep it, or set GCC_READER_PASSWORD and run this again"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gcc",
        description="gcc-pipeline: keep a PostgreSQL warehouse in step with a JobNimbus account.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    db = verbs.add_parser(
        "db", help="the warehouse database", description="The warehouse database."
    )
    db_verbs = db.add_subparsers(dest="db_verb", required=True, metavar="ACTION")
    url = db_verbs.add_parser(
        "url",
        help="print the warehouse connection URL",
        description="Print the warehouse URL. For the embedded server: its TCP address on "
        "127.0.0.1 (for SQL tools); --socket prints the unix-socket URL gcc uses.",
    )
    url.add_argument("--reveal", action="store_true", help="print the password too")
    url.add_argument(
        "--socket",
        action="store_true",
        help="embedded server: the unix-socket URL gcc uses (default: its 127.0.0.1 address)",
    )
    url.set_defaults(handler=_db_url)
    db_verbs.add_parser(
        "migrate",
        help="apply the schema (idempotent)",
        description="Apply the sql/ files the database lacks; a second call changes nothing.",
    ).set_defaults(handler=_db_migrate)
    db_verbs.add_parser(
        "stop", help="stop the embedded PostgreSQL", description="Stop the embedded PostgreSQL."
    ).set_defaults(handler=_db_stop)
    db_verbs.add_parser(
        "grant-reader",
        help="create or update the read-only role for dashboards and AI agents",
        description="Create or update the login role GCC_READER_ROLE (default gcc_reader) with "
        "password GCC_READER_PASSWORD: SELECT on the normalized tables (not their raw payloads) "
        "and on every analytics view, nothing else. Idempotent.",
    ).set_defaults(handler=_db_grant_reader)

    sandbox_command.add_parser(verbs)
    run_command.add_parser(verbs)
    webhook_server.add_parser(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR noise
    try:
        args = build_parser().parse_args(argv)  # the sandbox's defaults read the settings
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        say(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
