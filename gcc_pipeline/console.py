"""The runs' console log: INFO and above, one line per message, errors as their first line.

Dagster's own console logger prints every DEBUG event and whole stack traces; the UI keeps all of
that in the run's event log, so the terminal of `gcc run` and `gcc dev` only needs the gist.
"""

import logging
import sys

from dagster import Field, InitLoggerContext, logger
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from dagster._utils.error import SerializableErrorInfo


def root_cause(error: SerializableErrorInfo | None) -> str:
    """The innermost error's first line: what went wrong, not Dagster's wrappers around it."""
    while error is not None and error.cause is not None:
        error = error.cause
    text = (error.message if error else "").strip()
    return text.splitlines()[0] if text else "failed"


class CompactFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        message = str(meta.get("orig_message") or record.getMessage()).strip()
        event = meta.get("dagster_event")
        if event is not None and event.is_step_failure and event.step_failure_data.error:
            error = event.step_failure_data.error
            message = (
                "failed: a blocking check failed, what depends on its asset is held back"
                if error.cls_name == "DagsterAssetCheckFailedError"
                else f"failed: {root_cause(error)}"
            )
        lines = message.splitlines() or [""]
        where = meta.get("step_key") or meta.get("job_name") or "dagster"
        stamp = self.formatTime(record, "%H:%M:%S")
        # A step's own summary may hold one line per stream; anything else (an error, Dagster's
        # messages) keeps to its first line: the UI has the rest.
        shown = lines if event is None and record.levelno == logging.INFO else lines[:1]
        return "\n".join([f"{stamp} {where}: {shown[0]}", *(f"    {line}" for line in shown[1:])])


class UnevaluatedChecks(logging.Filter):
    """Drops Dagster's warning that a step did not yield some outputs: a step leaves out the
    checks of tables nothing changed (checks.Check.reads) and the streams a selection did not
    ask for, on purpose; the run's event log still has the warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        message = str(meta.get("orig_message") or record.getMessage())
        return "did not yield or return expected outputs" not in message


@logger(
    config_schema={"log_level": Field(str, default_value="INFO", is_required=False)},
    description="One line per message at INFO and above (the UI keeps the full event log).",
)
def compact_console(init_context: InitLoggerContext) -> logging.Logger:
    level = str(init_context.logger_config["log_level"]).upper()
    log = logging.Logger("gcc_pipeline.runs", level=level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(CompactFormatter())
    handler.addFilter(UnevaluatedChecks())
    log.addHandler(handler)
    return log
