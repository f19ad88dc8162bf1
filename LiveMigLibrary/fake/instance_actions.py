"""Instance actions and their events (``os-instance-actions``), as Nova records them."""

from __future__ import annotations

import traceback as tb

from .context import RequestContext
from .objects import InstanceAction, InstanceActionEvent
from .store import Store


class InstanceActions:
    def __init__(self, store: Store):
        self.store = store

    def start(self, ctx: RequestContext, instance_uuid: str, action: str) -> InstanceAction:
        now = self.store.clock.now()
        record = InstanceAction(
            action=action,
            instance_uuid=instance_uuid,
            request_id=ctx.request_id,
            user_id=ctx.user_id,
            project_id=ctx.project_id,
            start_time=now,
            updated_at=now,
        )
        self.store.actions.setdefault(instance_uuid, []).append(record)
        return record

    def event_start(
        self, action: InstanceAction | None, event: str, host: str | None = None
    ) -> InstanceActionEvent | None:
        if action is None:
            return None
        now = self.store.clock.now()
        ev = InstanceActionEvent(event=event, start_time=now, host=host)
        action.events.append(ev)
        action.updated_at = now
        return ev

    def event_finish(
        self,
        action: InstanceAction | None,
        ev: InstanceActionEvent | None,
        error: BaseException | str | None = None,
    ) -> None:
        if action is None or ev is None:
            return
        now = self.store.clock.now()
        ev.finish_time = now
        ev.result = "Success" if error is None else "Error"
        if error is not None:
            action.message = "Error"
            if isinstance(error, BaseException):
                ev.traceback = "".join(tb.format_exception_only(type(error), error))
                ev.details = str(error)
            else:
                ev.details = error
        action.updated_at = now

    def event(
        self,
        action: InstanceAction | None,
        event: str,
        host: str | None = None,
        error: BaseException | str | None = None,
    ) -> None:
        """Record an event that starts and finishes now."""
        self.event_finish(action, self.event_start(action, event, host), error)

    def latest(self, instance_uuid: str, action_name: str) -> InstanceAction | None:
        for record in reversed(self.store.actions.get(instance_uuid, [])):
            if record.action == action_name:
                return record
        return None
