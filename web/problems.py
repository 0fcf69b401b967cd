"""A request the web app refuses: an HTTP status and a message key. The words are in
web/templates/_messages_<lang>.j2, never here."""
from __future__ import annotations


class RequestProblem(Exception):
    """Refused with `status`; `key` names the message in _messages_<lang>.j2, `params` fill it in."""

    def __init__(self, status: int, key: str, **params):
        super().__init__(key)
        self.status, self.key, self.params = status, key, params
