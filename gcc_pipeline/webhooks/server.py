"""`gcc webhook`: the receiver served by uvicorn on GCC_WEBHOOK_HOST:GCC_WEBHOOK_PORT."""

import argparse
import logging
import sys

from gcc_pipeline.say import say
from gcc_pipeline.settings import ConfigError, load_settings, webhook_secret
from gcc_pipeline.webhooks.app import PATH, SECRET_HEADER, build_app


def require_secret() -> str:
    secret = webhook_secret()
    if not secret:
        raise ConfigError(
            "JOBNIMBUS_WEBHOOK_SECRET is not set: the webhook receiver does not start without "
            f"the shared secret its automations send in the {SECRET_HEADER} header"
        )
    return secret


def serve(host: str, port: int, secret: str, warehouse_url: str) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn stops gracefully on either)."""
    import uvicorn

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s webhook %(message)s", "%H:%M:%S"))
    ours = logging.getLogger("gcc.webhooks")
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False
    uvicorn.run(
        build_app(secret, warehouse_url),
        host=host,
        port=port,
        access_log=False,  # ours logs method, path, status and time only
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def _webhook(args: argparse.Namespace) -> int:
    from gcc_pipeline.environment import prepare
    from gcc_pipeline.warehouse.migrate import verify_current

    secret = require_secret()  # before anything starts: one line
    settings = load_settings()
    host = args.host or settings.webhook_host
    port = args.port or settings.webhook_port
    url = settings.warehouse_url  # set by a parent `gcc dev`
    if url:
        verify_current(url)
    else:
        url = prepare(announce=say).target.warehouse_url
    say(f"webhook receiver: POST http://{host}:{port}{PATH} (header {SECRET_HEADER})")
    serve(host, port, secret, url)
    return 0


def add_parser(verbs: argparse._SubParsersAction) -> None:
    webhook = verbs.add_parser(
        "webhook",
        help="receive JobNimbus webhooks",
        description=f"Serve POST {PATH} (GCC_WEBHOOK_HOST, default 127.0.0.1; GCC_WEBHOOK_PORT, "
        f"default 3001). Each delivery is committed to the warehouse before it is answered; the "
        f"webhook sensor then fetches the records it names. Needs JOBNIMBUS_WEBHOOK_SECRET (sent "
        f"by the automation in the {SECRET_HEADER} header).",
    )
    webhook.add_argument("--host", default=None, help="default GCC_WEBHOOK_HOST or 127.0.0.1")
    webhook.add_argument("--port", type=int, default=None, help="default GCC_WEBHOOK_PORT or 3001")
    webhook.set_defaults(handler=_webhook)
