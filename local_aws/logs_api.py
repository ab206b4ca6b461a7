"""CloudWatch Logs ``FilterLogEvents`` paging as log tailers expect it.

moto returns a ``nextToken`` only when a page is full, so a tailer that resumes from its last
token (the amazon provider's Glue log printer does) re-reads a run's whole log on every poll.
Here a page with events always ends with a token for its last event; an empty page has none.
"""

from __future__ import annotations

import json

from moto.logs.responses import LogsResponse

_moto_filter_log_events = LogsResponse.filter_log_events


def filter_log_events(self: LogsResponse) -> str:
    result = json.loads(_moto_filter_log_events(self))
    if result["events"] and not result.get("nextToken"):
        last = result["events"][-1]
        result["nextToken"] = f"{self._get_param('logGroupName')}@{last['logStreamName']}@{last['eventId']}"
    return json.dumps(result)


def install() -> None:
    LogsResponse.filter_log_events = filter_log_events
