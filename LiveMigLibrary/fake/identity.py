"""Keystone v3, as much as clients need: users, projects, roles, tokens, catalog."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field

from .exception import Unauthorized

TOKEN_LIFETIME = dt.timedelta(hours=1)  # keystone's default [token] expiration
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}


@dataclass(slots=True)
class Project:
    id: str
    name: str


@dataclass(slots=True)
class User:
    id: str
    name: str
    password: str
    project: Project
    roles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Token:
    id: str
    user: User
    project: Project
    issued_at: dt.datetime
    expires_at: dt.datetime
    methods: list[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.user.roles


def _id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()  # noqa: S324 - stable ids, not security


class Identity:
    """Users and tokens. Tokens expire on the wall clock, as keystone's do."""

    def __init__(self, admin_password: str | None = None, member_password: str | None = None):
        self._lock = threading.Lock()
        admin_project = Project(_id("project-admin"), "admin")
        demo_project = Project(_id("project-demo"), "demo")
        self.projects = {p.id: p for p in (admin_project, demo_project)}
        self.users = {
            "admin": User(
                _id("user-admin"),
                "admin",
                admin_password or secrets.token_urlsafe(16),
                admin_project,
                ["admin", "member", "reader"],
            ),
            "demo": User(
                _id("user-demo"),
                "demo",
                member_password or secrets.token_urlsafe(16),
                demo_project,
                ["member", "reader"],
            ),
        }
        self.tokens: dict[str, Token] = {}

    def project_by(self, id_or_name: str | None) -> Project | None:
        for p in self.projects.values():
            if id_or_name in (p.id, p.name):
                return p
        return None

    def authenticate(
        self, username: str | None, user_id: str | None, password: str | None, project: str | None
    ) -> Token:
        user = next(
            (
                u
                for u in self.users.values()
                if (username and u.name == username) or (user_id and u.id == user_id)
            ),
            None,
        )
        given = (password or "").encode("utf-8", "surrogatepass")  # any text, ASCII or not
        if user is None or not secrets.compare_digest(user.password.encode(), given):
            raise Unauthorized("The request you have made requires authentication.")
        now = dt.datetime.now(dt.UTC)
        return self._issue(
            user, self._scope(user, project), now, now + TOKEN_LIFETIME, ["password"]
        )

    def rescope(self, token_id: str | None, project: str | None) -> Token:
        """Keystone's ``token`` auth method: a new token of the same user that expires
        when the original does, scoped to ``project`` (or the original's project)."""
        old = self.validate(token_id)
        scoped = old.project if project is None else self._scope(old.user, project)
        methods = list(dict.fromkeys([*old.methods, "token"]))
        return self._issue(old.user, scoped, dt.datetime.now(dt.UTC), old.expires_at, methods)

    def _scope(self, user: User, project: str | None) -> Project:
        """The project a token is scoped to: the user's own (its only role assignment)."""
        if project is None:
            return user.project
        scoped = self.project_by(project)
        if scoped is None or scoped.id != user.project.id:
            raise Unauthorized("The request you have made requires authentication.")
        return scoped

    def _issue(self, user, project, issued, expires, methods) -> Token:
        token = Token(secrets.token_hex(32), user, project, issued, expires, methods)
        with self._lock:
            if len(self.tokens) >= 1024:  # forget expired tokens now and then
                self._prune(issued)
            self.tokens[token.id] = token
        return token

    def _prune(self, now: dt.datetime) -> None:
        self.tokens = {k: t for k, t in self.tokens.items() if t.expires_at > now}

    def validate(self, token_id: str | None) -> Token:
        token = self.tokens.get(token_id or "")
        if token is None or token.expires_at <= dt.datetime.now(dt.UTC):
            raise Unauthorized("The request you have made requires authentication.")
        return token

    def revoke(self, token_id: str) -> None:
        """Revoke one token, and forget every expired one while at it."""
        with self._lock:
            self.tokens.pop(token_id, None)
            self._prune(dt.datetime.now(dt.UTC))
