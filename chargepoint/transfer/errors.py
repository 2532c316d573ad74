"""The one failure a transfer attempt reports."""

from __future__ import annotations


class TransferFailed(Exception):
    """One attempt failed; str() is one line naming the cause, with no URL credentials."""
