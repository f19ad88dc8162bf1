"""Who is asking: Nova's RequestContext, reduced to what the fake needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestContext:
    user_id: str
    project_id: str
    is_admin: bool = False
    roles: list[str] = field(default_factory=list)
    request_id: str = field(default_factory=lambda: "req-" + str(uuid.uuid4()))

    @classmethod
    def admin(cls) -> RequestContext:
        return cls(user_id="admin", project_id="admin", is_admin=True, roles=["admin"])
