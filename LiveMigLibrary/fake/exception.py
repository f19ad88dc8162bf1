"""Exceptions of the fake cloud, worded and coded the way Nova and Placement word them.

Each carries the HTTP status the API layer answers with; the API layer renders
the body (``{"badRequest": {"code": 400, "message": ...}}`` for compute,
``{"errors": [...]}`` for placement, ``{"error": {...}}`` for identity).
"""

from __future__ import annotations


class FakeCloudError(Exception):
    """Base: ``code`` is the HTTP status, ``str(exc)`` the message."""

    code = 500
    msg_fmt = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs):
        self.kwargs = kwargs
        super().__init__(message or self.msg_fmt % kwargs)

    @property
    def message(self) -> str:
        return str(self)


class BadRequest(FakeCloudError):
    code = 400
    msg_fmt = "%(reason)s"


class Unauthorized(FakeCloudError):
    code = 401
    msg_fmt = "The request you have made requires authentication."


class Forbidden(FakeCloudError):
    code = 403
    msg_fmt = "%(reason)s"


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."


class NotFound(FakeCloudError):
    code = 404
    msg_fmt = "%(reason)s"


class Conflict(FakeCloudError):
    code = 409
    msg_fmt = "%(reason)s"


class NotAcceptable(FakeCloudError):
    code = 406
    msg_fmt = "%(reason)s"


# --- Nova ------------------------------------------------------------------


class InstanceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class FlavorNotFound(BadRequest):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class ImageNotFound(BadRequest):
    msg_fmt = "Image %(image_id)s could not be found."


class ComputeHostNotFound(BadRequest):
    msg_fmt = "Compute host %(host)s could not be found."


class ServiceNotFound(NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class MigrationNotFoundForInstance(NotFound):
    msg_fmt = "Migration %(migration_id)s not found for instance %(instance_id)s"


class InstanceActionNotFound(NotFound):
    msg_fmt = "Action %(request_id)s not found"


class InstanceInvalidState(Conflict):
    """``raise_http_conflict_for_instance_invalid_state``'s words.

    Without a state (a task_state of None) Nova falls back to "is in an invalid state".
    """

    msg_fmt = "Cannot '%(action)s' instance %(instance_uuid)s while it is in %(attr)s %(state)s"

    def __init__(self, message: str | None = None, **kwargs):
        if message is None and kwargs.get("state") is None:
            message = (
                f"Instance {kwargs.get('instance_uuid')} is in an invalid state for "
                f"'{kwargs.get('action')}'"
            )
        super().__init__(message, **kwargs)


class InstanceNotReady(Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready"


class ServiceUnavailable(Conflict):
    msg_fmt = "Service is unavailable at this time."


class InstanceIsLocked(Conflict):
    msg_fmt = "Instance %(instance_uuid)s is locked"


class TooManyInstances(Forbidden):
    msg_fmt = (
        "Quota exceeded for %(overs)s: Requested %(req)s, but already used %(used)s "
        "of %(allowed)s %(overs)s"
    )


class NoValidHost(BadRequest):
    msg_fmt = "No valid host was found. %(reason)s"


class UnableToMigrateToSelf(BadRequest):
    msg_fmt = "Unable to migrate instance (%(instance_id)s) to current host (%(host)s)."


class ComputeServiceUnavailable(BadRequest):
    msg_fmt = "Compute service of %(host)s is unavailable at this time."


class MigrationPreCheckError(BadRequest):
    msg_fmt = "Migration pre-check error: %(reason)s"


class InvalidMigrationState(BadRequest):
    msg_fmt = (
        "Migration %(migration_id)s state of instance %(instance_uuid)s is %(state)s. "
        "Cannot %(method)s while the migration is in this state."
    )


class MigrationError(FakeCloudError):
    code = 500
    msg_fmt = "Migration error: %(reason)s"


class ResizeError(FakeCloudError):
    code = 500
    msg_fmt = "Resize error: %(reason)s"


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor %(hypervisor)s could not be found."


# --- Placement ---------------------------------------------------------------


class ResourceProviderNotFound(NotFound):
    msg_fmt = "No resource provider with uuid %(uuid)s found"


class AllocationConflict(Conflict):
    msg_fmt = "Unable to allocate inventory: %(reason)s"


# --- the control API (the fake's own, moto style) ------------------------------


class ControlObjectNotFound(NotFound, ValueError):
    """The control API was asked about a compute host, server, migration (or its
    modelled memory copy) or fault rule the fake does not have: 404 over HTTP. A
    ValueError too, as every other refusal of the in-process control API is."""
