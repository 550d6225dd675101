"""Exceptions the CLI turns into one clear line and a non-zero exit."""


class FcastError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class DataError(FcastError):
    """Market data that breaks a validation rule or cannot be read."""


class TickerError(FcastError):
    """A ticker symbol that is malformed or cannot be served."""


class StoreError(FcastError):
    """The local store is unreadable or a write failed."""


class SourceError(FcastError):
    """A data source (Yahoo Finance, a file) failed to deliver.

    Structured fields, so nobody has to search the message text: `reason` says why in a
    word callers can branch on (``unreachable``, ``rate_limited``, ``no_data``,
    ``mixed_sources``, ``failed``); `detail` is the cause in a few words, without the
    ticker or advice, for a line that names the ticker and offers its own way out (the
    whole message when not given).
    """

    def __init__(self, message: str, *, reason: str = "failed", detail: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.detail = message if detail is None else detail


class ConfigError(FcastError):
    """Bad parameters: unknown model or strategy, a span too short, a wrong type."""
