"""Typed errors that cross the RPC boundary intact.

Each class is registered with nameko's remote-error registry, so a caller gets the same
class back (not a generic ``RemoteError``) and can tell bad input from a missing record.
"""

from nameko.exceptions import registry


def _registered(cls):
    registry[f"{cls.__module__}.{cls.__name__}"] = cls
    return cls


class GonghuiError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"

    def __init__(self, message, details=None):
        super().__init__(message, details if details is not None else {})

    @property
    def message(self):
        return self.args[0]

    @property
    def details(self):
        return self.args[1]

    def __str__(self):
        return f"{self.message} {self.details}" if self.details else self.message


@_registered
class ValidationError(GonghuiError):
    """Bad input; ``details`` maps each field to its messages."""

    code = "validation_error"

    @property
    def fields(self):
        return self.details


@_registered
class NotFound(GonghuiError):
    """The record named by an argument does not exist."""

    code = "not_found"


@_registered
class Conflict(GonghuiError):
    """The request is well formed but clashes with the current state."""

    code = "conflict"


@_registered
class Forbidden(GonghuiError):
    """The caller may not do this: no actor in the call's context, or not allowed."""

    code = "forbidden"


@_registered
class ServiceTimeout(GonghuiError):
    """A call to another service did not answer in time."""

    code = "timeout"


EXPECTED_ERRORS = (ValidationError, NotFound, Conflict, Forbidden)


def get_or_not_found(session, model, ident, what, field=None, detail="not found"):
    """The row of ``model`` whose primary key is ``ident``, else ``NotFound`` naming it
    (``"<what> <ident> not found"``) with ``detail`` under the argument ``field`` (by default
    ``<what>_id``)."""
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{what} {ident} not found", {field or f"{what}_id": [detail]})
    return row
