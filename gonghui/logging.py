"""Masking of personal data (mobile numbers, e-mail addresses) in every log line."""

import logging
import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")


def mask_personal_data(text):
    """138 1234 5678 → 138****5678; zhang.san@example.com → z***@example.com."""
    text = _MOBILE.sub(r"\1****\3", text)
    return _EMAIL.sub(r"\1***@\2", text)


class MaskPersonalData(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install(logger=None):
    """Attach the filter to every handler of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
