"""Logs name the component and the worker; CITYOPS_LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from cityops.runtime import log_handler


def emit(handler: logging.Handler, message: str, **extra: object) -> str:
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logger = logging.getLogger("cityops.test.logging")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning(message, extra=extra)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_carry_component_worker_and_the_incident() -> None:
    line = emit(log_handler("alerts", "vm:42", "json"), "事件 17 升级", incident_id=17)
    record = json.loads(line)
    assert record["component"] == "alerts" and record["worker"] == "vm:42"
    assert record["level"] == "WARNING" and record["logger"] == "cityops.test.logging"
    assert record["message"] == "事件 17 升级"
    assert record["incident_id"] == 17 and "time" in record
    assert "\\u" not in line  # Chinese written as itself, readable in a log viewer


def test_text_lines_name_component_and_worker() -> None:
    line = emit(log_handler("ingest", "ingest-2", "text"), "batch stored", device_id="rg-1")
    assert "ingest[ingest-2] cityops.test.logging: batch stored" in line


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="CITYOPS_LOG_FORMAT"):
        log_handler("ingest", "w", "xml")
