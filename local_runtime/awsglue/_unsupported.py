"""The loud failure of an ``awsglue`` call or option the local runtime does not implement."""

from __future__ import annotations

DOCS = "https://docs.aws.amazon.com/glue/latest/dg/"


class NotSupportedLocally(NotImplementedError):
    """An ``awsglue`` call, or one of its options, that the local runtime does not implement."""


def unsupported(call: str, page: str, detail: str = "") -> NotSupportedLocally:
    """The error for ``call`` (e.g. ``"DynamicFrame.spigot"``), pointing at the Glue docs ``page``.

    :param page: the documentation page's file name under :data:`DOCS`, e.g.
        ``"aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html"``.
    :param detail: what exactly is not supported (an option name and value, say).
    """
    what = f"{call}: {detail}" if detail else call
    return NotSupportedLocally(
        f"{what} is not supported by the local awsglue runtime (local_runtime/awsglue); "
        f"it runs on AWS Glue. See {DOCS}{page}"
    )
