"""An error whose words the user reads: the exception carries the key of its message in ``i18n``, and
the page says it in the session's language."""

from __future__ import annotations


class Refused(ValueError):
    """Raised with the i18n key of what to tell the user (``t(exc.key, lang)``)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
