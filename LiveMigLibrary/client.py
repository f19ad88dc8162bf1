"""The one seam between LiveMigLibrary and the cloud: everything goes through openstacksdk.

Keywords never import openstacksdk; they call this client, which returns the library's small
models (`models.py`) and turns SDK failures into `CloudError` with the cloud's own message.
Where openstacksdk has no method (multi-create with ``return_reservation_id``, Placement
allocations and usages) the client uses the SDK's raw proxy calls, still authenticated and
microversioned by the SDK.

Every HTTP request of the connection passes `ReadRetries`: a read (GET, HEAD) that a cloud
answers with 500/502/503/504, or that cannot connect, is retried a few times after a short
backoff; anything else (POST, PUT, DELETE, PATCH) is sent exactly once, because it may have
taken effect although it failed.

openstacksdk is imported at the first call that needs it (opening a connection, or an SDK
exception to tell apart), not with the library: about a fifth of a second that `libdoc`,
`robot --dryrun` and a suite failing on a wrong import argument never need.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from keystoneauth1 import exceptions as ks_exc

from . import concurrency, deadline
from .deadline import CallTimeouts
from .errors import AmbiguousName, CloudError, CloudNotAnswering
from .models import ComputeService, Migration, ServerState

if TYPE_CHECKING:
    import openstack


class _ImportedOnUse:
    """A module imported at the first read of one of its attributes."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


sdk_exc = _ImportedOnUse("openstack.exceptions")
sdk_utils = _ImportedOnUse("openstack.utils")


def _connect(**config):
    import openstack

    return openstack.connect(**config)


UUID_RE = re.compile(  # an id of Nova's servers or Glance's images, dashes optional
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)

CREATE_MICROVERSION = "2.37"  # first version with networks "none"/"auto"
REQUESTED_HOST_MICROVERSION = "2.74"  # create with "host" (checked by the scheduler)
MIGRATIONS_MICROVERSION = "2.80"
PLACEMENT_MICROVERSION = "1.28"

RETRIED_METHODS = frozenset({"GET", "HEAD"})  # idempotent reads
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
RETRY_DELAYS = (0.5, 1.0, 2.0)  # seconds before the 1st, 2nd and 3rd retry


def _path(url: str) -> str:
    return urlsplit(str(url)).path or str(url)


class CloudDidNotAnswer(ks_exc.ConnectTimeout):
    """A request that got no answer in time (keystoneauth and openstacksdk see a timeout);
    `cloud_call` turns it into `CloudNotAnswering` naming the call."""

    def __init__(self, call: str, seconds: float, why: str):
        self.call, self.seconds, self.why = call, seconds, why
        super().__init__(f"{call} got no answer within {seconds:g} seconds ({why})")


class CloudUnreachable(ks_exc.ConnectFailure):
    """A request that could not even connect (the cloud is down or unreachable)."""

    def __init__(self, call: str, reason: str, url: str = ""):
        self.call, self.reason = call, reason
        where = f" to {url.split('?')[0]}" if url.startswith(("http://", "https://")) else ""
        super().__init__(f"{call} could not connect{where}: {reason}")


class ReadRetries:
    """Retries idempotent reads that failed with a server-side or connection error.

    Installed on the keystoneauth session of one openstacksdk connection, so it sees every
    HTTP request of every proxy, the raw ones included, one request at a time: a failing
    page of a listing is asked again, not the whole keyword. keystoneauth's and
    openstacksdk's own retries (`connect_retries`, `status_code_retries`, also when set in
    `clouds.yaml`) are turned off for these requests, so a request is never retried twice
    over. Each retry is logged at INFO with the status; the backoff goes through ``sleep``,
    which advances the embedded fake cloud's clock instead of sleeping when it has a
    manual clock. ``after_request`` runs after every HTTP answer (the library logs the fake
    cloud's fired faults there). Retries are logged through ``log``, which is safe to call
    from the worker threads of a batch keyword (see `concurrency.log`).
    """

    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        after_request: Callable[[], None] | None = None,
        delays: tuple[float, ...] = RETRY_DELAYS,
        log: Callable[[str], None] = concurrency.log,
        timeouts: CallTimeouts | None = None,
    ):
        self.sleep = sleep
        self.after_request = after_request
        self.delays = delays
        self.log = log
        self.timeouts = timeouts or CallTimeouts()

    def install(self, session) -> None:
        send = session.request
        endpoints = EndpointCache(session)

        def request(url, method, *args, **kwargs):
            return self.send(send, url, method, *args, endpoints=endpoints, **kwargs)

        session.request = request

    def send(
        self,
        send: Callable,
        url: str,
        method: str,
        *args: Any,
        endpoints: EndpointCache | None = None,
        **kwargs: Any,
    ):
        kwargs["connect_retries"] = 0
        kwargs["status_code_retries"] = 0
        verb = str(method).upper()
        call = f"{verb} {_path(url)}"
        service = (kwargs.get("endpoint_filter") or {}).get("service_type")
        if service and not str(url).startswith(("http://", "https://")):
            call = f"{verb} /{str(url).lstrip('/')} of the {service} API"  # relative URLs
        retries = len(self.delays) if verb in RETRIED_METHODS else 0
        attempt = 0
        while True:
            left = deadline.remaining()
            if left is not None and left <= deadline.MIN_TIMEOUT:
                raise CloudDidNotAnswer(call, 0, deadline.WAIT_LEFT)
            if skipped := self.timeouts.skip_reason():
                raise CloudDidNotAnswer(call, 0, skipped)
            kwargs["timeout"], why = self.timeouts.for_request()
            try:
                target_url = url if endpoints is None else endpoints.absolute(url, kwargs)
                response = send(target_url, method, *args, **kwargs)
            except ks_exc.HttpError as exc:  # only when the caller asked for raise_exc
                self.timeouts.answered()
                if exc.http_status not in RETRIED_STATUSES or attempt >= retries:
                    raise
                problem = f"answered {exc.http_status}"
                target = _path(exc.url or url)
                error: Exception = exc
            except ks_exc.ConnectTimeout as exc:  # keystoneauth's name for every timeout
                self.timeouts.not_answered(call)
                raise CloudDidNotAnswer(call, kwargs["timeout"][1], why) from exc
            except ks_exc.RetriableConnectionFailure as exc:
                self.timeouts.not_answered(call)
                error = CloudUnreachable(call, _reason(exc), str(url))
                if attempt >= retries:
                    raise error from exc
                problem = f"failed to connect ({_reason(exc)})"
                target = _path(url)
            except ks_exc.ClientException:  # refused before sending (e.g. no such endpoint)
                raise
            except BaseException:  # interrupted (Robot's stop or timeout): presume the worst
                self.timeouts.not_answered(call)
                raise
            else:
                self.timeouts.answered()
                if response.status_code not in RETRIED_STATUSES or attempt >= retries:
                    if attempt and response.status_code in RETRIED_STATUSES:
                        self.log(
                            f"{verb} {_path(response.url or url)} still answered "
                            f"{response.status_code} after {attempt} retries; giving up."
                        )
                    return response
                problem = f"answered {response.status_code}"
                target = _path(response.url or url)
                error = None
            finally:
                if self.after_request is not None:
                    self.after_request()
            delay = self.delays[attempt]
            left = deadline.remaining()
            if left is not None and left < delay:  # no time left for the backoff
                if error is not None:
                    raise error
                return response
            attempt += 1
            self.log(
                f"{verb} {target} {problem}; retry {attempt} of {retries} in {delay:g}s "
                "(idempotent read)."
            )
            self.sleep(delay)


class EndpointCache:
    """The base URL of each service endpoint a connection's requests use, looked up once
    per token.

    For a request with a relative URL (every openstacksdk proxy call) keystoneauth looks
    the endpoint up in the token's service catalog, deep-copying the catalog each time:
    about a sixth of a request's cost against the embedded fake. The lookup here is
    keystoneauth's own (`Session.get_endpoint` with the request's `endpoint_filter` and
    `allow`), done once per filter and token, and the request goes out with the absolute
    URL, which keystoneauth sends as it is (microversion headers still follow the
    `endpoint_filter`). A new token (re-authentication) looks the endpoints up again; a
    request with an `endpoint_override` or an absolute URL is left alone, and one whose
    endpoint is not found goes out unchanged, so that keystoneauth refuses it as before.
    """

    def __init__(self, session):
        self.session = session
        self._bases: dict[str, tuple[object, str]] = {}

    def absolute(self, url: str, request: dict[str, Any]) -> str:
        endpoint_filter = request.get("endpoint_filter")
        if not endpoint_filter or request.get("endpoint_override") or urlsplit(url).netloc:
            return url
        auth = request.get("auth") or self.session.auth
        if auth is None:
            return url
        allow = request.get("allow")
        key = repr((id(auth), sorted(endpoint_filter.items()), allow))
        known = self._bases.get(key)
        token = getattr(auth, "auth_ref", None)
        if known is None or token is None or known[0] is not token:
            base = self.session.get_endpoint(auth, allow=allow, **endpoint_filter)
            if not base:
                return url
            known = self._bases[key] = (getattr(auth, "auth_ref", None), base)
        return "{}/{}".format(known[1].rstrip("/"), url.lstrip("/"))


class _DiscoveryFallbackToInfo(logging.Filter):
    """keystoneauth warns when the identity endpoint's version discovery fails and it falls
    back to the version in the `auth_url`. Robot shows every warning on the console, so an
    unreachable cloud printed that line before the library's own error, which already says
    what failed and what to check. The line stays in the log, at INFO."""

    PREFIX = "Failed to discover available identity versions"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(self.PREFIX):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _discovery_warning_to_info() -> None:
    log = logging.getLogger("keystoneauth.identity.generic.base")
    if not any(isinstance(f, _DiscoveryFallbackToInfo) for f in log.filters):
        log.addFilter(_DiscoveryFallbackToInfo())


def _config(connection) -> dict:
    """The cloud's settings from clouds.yaml (openstacksdk's CloudRegion), or nothing."""
    config = getattr(getattr(connection, "config", None), "config", None)
    return config if isinstance(config, dict) else {}


def _reason(exc: Exception) -> str:
    """'Connection refused' out of keystoneauth's and urllib3's nested messages."""
    text = str(exc)
    for known in (
        "Connection refused",
        "Connection reset",
        "Name or service not known",
        "No route to host",
        "Network is unreachable",
        "Remote end closed",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return text if len(text) <= 200 else text[:197] + "..."


def _message(exc: Exception) -> str:
    details = getattr(exc, "details", None)
    if details:
        return str(details)
    return str(getattr(exc, "message", None) or exc)


def _call(exc: sdk_exc.HttpException) -> str | None:
    if not exc.method or not exc.url:
        return None
    return f"{exc.method} {_path(exc.url)}"


@contextlib.contextmanager
def cloud_call(action: str) -> Iterator[None]:
    """Translate openstacksdk errors raised inside the block into `CloudError`."""
    try:
        yield
    except sdk_exc.HttpException as exc:
        raise CloudError(action, exc.status_code, _message(exc), _call(exc)) from exc
    except sdk_exc.SDKException as exc:
        raise CloudError(action, None, _message(exc)) from exc
    except CloudDidNotAnswer as exc:
        seconds = f"{exc.seconds:.1f}".removesuffix(".0")
        raise CloudNotAnswering(action, exc.call, seconds, exc.why) from exc
    except CloudUnreachable as exc:
        raise CloudNotAnswering(action, exc.call, None, exc.reason) from exc
    except ks_exc.HttpError as exc:  # keystoneauth's own, e.g. a 401 while authenticating
        raise CloudError(action, exc.http_status, _message(exc)) from exc
    except ks_exc.ClientException as exc:  # no answer: connection, discovery, bad auth_url
        raise CloudError(action, None, _message(exc), hint=UNREACHABLE_HINT) from exc


UNREACHABLE_HINT = (
    "Check the cloud's auth_url in clouds.yaml and that it is reachable from this machine."
)


def _raise_for(response, action: str) -> None:
    with cloud_call(action):
        sdk_exc.raise_from_response(response)


class CloudClient:
    """Operations the keywords need, over one openstacksdk `Connection`."""

    def __init__(
        self, connection: openstack.connection.Connection, retries: ReadRetries | None = None
    ):
        self.conn = connection
        self._pool_size = 10  # requests' default connections per host
        self._microversions: dict[str, str | None] = {}  # see sdk_microversion
        self._live_migrate_microversion: str | None = None
        self.retries = retries or ReadRetries()
        self.retries.timeouts.adopt(_config(connection).get("api_timeout"))
        self.retries.install(connection.session)

    @classmethod
    def from_cloud_name(
        cls, cloud: str, password: str | None = None, retries: ReadRetries | None = None
    ) -> CloudClient:
        _discovery_warning_to_info()
        kwargs: dict[str, Any] = {"cloud": cloud}
        if password is not None:
            kwargs["password"] = password
        with cloud_call(f"connect to cloud '{cloud}'"):
            return cls(_connect(**kwargs), retries)

    @classmethod
    def from_config(cls, config: dict, retries: ReadRetries | None = None) -> CloudClient:
        _discovery_warning_to_info()
        with cloud_call("connect to the cloud"):
            return cls(_connect(**config), retries)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def allow_concurrency(self, requests_in_flight: int) -> None:
        """Makes the connection ready for calls from several threads at once.

        Authenticates and opens the compute proxy first (once, not racing), and widens
        the HTTP connection pool (10 by default) so that no connection is thrown away.
        """
        with cloud_call("authenticate"):
            self.conn.session.get_token()
        self.conn.compute  # noqa: B018 - the proxy is created on first use
        if requests_in_flight > self._pool_size:
            from keystoneauth1.session import TCPKeepAliveAdapter

            adapter = TCPKeepAliveAdapter(
                pool_connections=requests_in_flight, pool_maxsize=requests_in_flight
            )
            for scheme in ("http://", "https://"):
                self.conn.session.session.mount(scheme, adapter)
            self._pool_size = requests_in_flight

    # -- identity ---------------------------------------------------------------------------

    def authenticate(self, cloud: str) -> None:
        """Gets a token now, so that wrong credentials or auth_url fail at once."""
        with cloud_call(f"connect to cloud '{cloud}' (authenticate)"):
            self.conn.session.get_token()

    def token(self) -> str:
        with cloud_call("authenticate"):
            return self.conn.session.get_token()

    def endpoint(self, service_type: str) -> str:
        with cloud_call(f"find the {service_type} endpoint"):
            url = self.conn.endpoint_for(service_type)
        if not url:
            raise CloudError(f"find the {service_type} endpoint", None, "not in the catalog")
        return url.rstrip("/")

    def auth_host(self) -> str | None:
        """Host (and port) of the identity endpoint, never the rest of the auth data."""
        with contextlib.suppress(Exception):
            url = (self.conn.config.get_auth_args() or {}).get("auth_url")
            if url:
                return urlsplit(url).netloc or None
        return None

    def max_microversion(self, service_type: str) -> str | None:
        """The highest microversion the cloud's `service_type` API announces."""
        with contextlib.suppress(Exception):
            proxy = getattr(self.conn, service_type)
            data = proxy.get_endpoint_data()
            if data is not None and data.max_microversion:
                return "{}.{}".format(*data.max_microversion[:2])
        return None

    # -- images, flavors, networks ------------------------------------------------------------

    def find_image_id(self, name_or_id: str) -> str | None:
        """The id of the image with this id, else of the one image with this name.

        As openstacksdk's `find_image`, from JSON: Glance's image ids are UUIDs, so only
        a UUID is tried as an id (a name skips that request). Several images of the name
        raise `AmbiguousName` listing their ids.
        """
        action = f"find image '{name_or_id}'"
        if UUID_RE.match(name_or_id):
            found = self._get_json(self.conn.image, f"/images/{name_or_id}", action)
            if found is not None:
                return found["id"]
        named = {"name": name_or_id}
        pages = self._pages("/images", "images", named, None, action, "next", self.conn.image)
        ids = [image["id"] for image in pages]
        if len(ids) > 1:
            raise AmbiguousName("image", name_or_id, "image", sorted(ids))
        return ids[0] if ids else None

    def image_names(self) -> list[str]:
        with cloud_call("list images"):
            return sorted(i.name for i in self.conn.image.images() if i.name)

    def find_flavor_id(self, name_or_id: str) -> str | None:
        """The id of the flavor with this id, else of the one flavor (public or private)
        with this name, as openstacksdk's `find_flavor` finds it, from one listing (a
        flavor id may be any text, so ids and names are matched in the same answer).
        Several flavors of the name raise `AmbiguousName` listing their ids."""
        action = f"find flavor '{name_or_id}'"
        microversion = self.sdk_microversion("flavor.Flavor")
        everyone = {"is_public": "None"}  # an admin's listing: private flavors too
        flavors = list(self._pages("/flavors", "flavors", everyone, microversion, action))
        if any(flavor.get("id") == name_or_id for flavor in flavors):
            return name_or_id
        ids = sorted(flavor["id"] for flavor in flavors if flavor.get("name") == name_or_id)
        if len(ids) > 1:
            raise AmbiguousName("flavor", name_or_id, "flavor", ids)
        return ids[0] if ids else None

    def flavor_names(self) -> list[str]:
        with cloud_call("list flavors"):
            return sorted(f.name for f in self.conn.compute.flavors() if f.name)

    def find_network_id(self, name_or_id: str) -> str | None:
        with cloud_call(f"find network '{name_or_id}'"):
            try:
                return self.conn.network.find_network(name_or_id, ignore_missing=False).id
            except sdk_exc.NotFoundException:
                return None

    # -- servers ----------------------------------------------------------------------------

    def create_servers(
        self, name: str, image_id: str, flavor_id: str, count: int, networks: Any
    ) -> str:
        """One multi-create request for exactly ``count`` servers; returns the reservation id."""
        body = {
            "server": {
                "name": name,
                "imageRef": image_id,
                "flavorRef": flavor_id,
                "min_count": count,
                "max_count": count,
                "return_reservation_id": True,
                "networks": networks,
            }
        }
        action = f"create {count} server(s) named '{name}'"
        with cloud_call(action):
            response = self.conn.compute.post(
                "/servers", json=body, microversion=CREATE_MICROVERSION, raise_exc=False
            )
        _raise_for(response, action)
        return response.json()["reservation_id"]

    def create_server(
        self, name: str, image_id: str, flavor_id: str, networks: Any, host: str | None = None
    ) -> str:
        """One create request for one server (no multi-create); returns the server's id.

        ``host`` asks for that compute host (compute API 2.74, admin): the scheduler still
        checks it, as for a live migration to a named host.
        """
        body = {
            "server": {
                "name": name,
                "imageRef": image_id,
                "flavorRef": flavor_id,
                "networks": networks,
            }
        }
        if host:
            body["server"]["host"] = host
        action = f"create server '{name}'" + (f" on host {host}" if host else "")
        with cloud_call(action):
            response = self.conn.compute.post(
                "/servers",
                json=body,
                microversion=REQUESTED_HOST_MICROVERSION if host else CREATE_MICROVERSION,
                raise_exc=False,
            )
        _raise_for(response, action)
        return response.json()["server"]["id"]

    def list_servers(
        self, *, host: str | None = None, name: str | None = None
    ) -> list[ServerState]:
        """Servers of every project, optionally on ``host`` or matching the ``name`` regex.

        One `GET /servers/detail` (and its next pages) parsed straight from JSON: the batch
        keywords poll many servers per step, and openstacksdk's resource objects cost more
        than the request.
        """
        params: dict[str, Any] = {"all_tenants": "1"}
        if host:
            params["host"] = host
        if name:
            params["name"] = name
        what = f" on host {host}" if host else (f" named '{name}'" if name else "")
        return [
            _server_from_json(body)
            for body in self._pages(
                "/servers/detail", "servers", params, LIST_MICROVERSION, f"list servers{what}"
            )
        ]

    def list_migrations(
        self,
        *,
        source: str | None = None,
        host: str | None = None,
        server_id: str | None = None,
        migration_type: str | None = "live-migration",
        changes_since: str | None = None,
    ) -> list[Migration]:
        """Migration records (`GET /os-migrations`, every page), oldest first, from JSON.

        ``changes_since`` (a time of the cloud, e.g. a server's `created`) leaves out the
        records not updated since, which a cloud keeps for ever.
        """
        params: dict[str, Any] = {}
        if changes_since:
            params["changes-since"] = changes_since
        if source:
            params["source_compute"] = source
        if host:
            params["host"] = host
        if server_id:
            params["instance_uuid"] = server_id
        if migration_type:
            params["migration_type"] = migration_type
        what = ", ".join(f"{k}={v}" for k, v in params.items())
        records = [
            _migration_from_json(body)
            for body in self._pages(
                "/os-migrations",
                "migrations",
                params,
                MIGRATIONS_MICROVERSION,
                "list migrations" + (f" ({what})" if what else ""),
            )
        ]
        return sorted(records, key=_migration_order)

    def _pages(
        self,
        path: str,
        key: str,
        params: dict,
        microversion: str | None,
        action: str,
        links: str | None = None,
        proxy=None,
    ):
        """Every item under ``key`` of ``GET path`` of ``proxy`` (compute by default) and
        its next pages: the markers of the ``links`` entry (``<key>_links`` unless named; a
        list of links in Nova, Glance's ``next`` address)."""
        proxy = proxy or self.conn.compute
        query = dict(params)
        while True:
            with cloud_call(action):
                response = proxy.get(path, params=query, microversion=microversion, raise_exc=False)
            _raise_for(response, action)
            body = response.json()
            yield from body.get(key) or []
            marker = _next_marker(body.get(links or f"{key}_links"))
            if not marker or marker == query.get("marker"):
                return
            query["marker"] = marker

    def servers_of_reservation(self, reservation_id: str) -> list[ServerState]:
        params = {"reservation_id": reservation_id, "all_tenants": "1"}
        action = f"list servers of reservation {reservation_id}"
        pages = self._pages("/servers/detail", "servers", params, LIST_MICROVERSION, action)
        return [_server_from_json(body) for body in pages]

    def server_state(self, server_id: str) -> ServerState | None:
        """The server as the cloud sees it now, or None when it does not exist.

        The most frequent call (every poll of every wait), so it reads the JSON of
        ``GET /servers/{id}`` at the microversion openstacksdk's `Server` would use,
        without building the SDK resource (three times the cost per call).
        """
        body = self.server_json(server_id)
        return None if body is None else _server_from_json(body)

    def server_json(self, server_id: str) -> dict | None:
        """``GET /servers/{id}`` as JSON (the flavor embedded from 2.47), None when gone."""
        action = f"get server {server_id}"
        with cloud_call(action):
            response = self.conn.compute.get(
                f"/servers/{server_id}", microversion=self.server_microversion(), raise_exc=False
            )
        if response.status_code == 404:
            return None
        _raise_for(response, action)
        return response.json()["server"]

    def server_microversion(self) -> str:
        """The compute microversion openstacksdk's `Server` uses on this cloud (once)."""
        return self.sdk_microversion("server.Server")

    def sdk_microversion(self, resource: str) -> str | None:
        """The compute microversion openstacksdk's resource ``resource`` (module.Class of
        `openstack.compute.v2`) negotiates with this cloud, asked once per connection.

        The reads parsed here straight from JSON use it, so that they see what the same
        call through openstacksdk's resource objects would (field names, id formats).
        """
        if resource not in self._microversions:
            module, cls = resource.split(".")
            sdk_class = getattr(importlib.import_module(f"openstack.compute.v2.{module}"), cls)
            self._microversions[resource] = sdk_class._get_microversion(self.conn.compute)
        return self._microversions[resource]

    def _get_json(self, proxy, path: str, action: str, **kwargs: Any) -> dict | None:
        """``GET path`` of ``proxy`` as JSON, None on 404; other errors raise CloudError."""
        with cloud_call(action):
            response = proxy.get(path, raise_exc=False, **kwargs)
        if response.status_code == 404:
            return None
        _raise_for(response, action)
        return response.json()

    def find_server_id(self, name_or_id: str) -> str | None:
        with cloud_call(f"find server '{name_or_id}'"):
            try:
                found = self.conn.compute.find_server(
                    name_or_id, ignore_missing=False, all_projects=True
                )
            except sdk_exc.NotFoundException:
                return None
            except sdk_exc.DuplicateResource:
                servers = self.conn.compute.servers(
                    details=False, name="^" + re.escape(name_or_id) + "$", all_projects=True
                )
                ids = sorted(s.id for s in servers if s.name == name_or_id)
                raise AmbiguousName("server", name_or_id, "server", ids) from None
        return found.id

    def server_names(self, prefix: str) -> list[str]:
        """Names of the servers (any project) whose name starts with ``prefix``."""
        with cloud_call(f"list servers named '{prefix}*'"):
            servers = self.conn.compute.servers(
                details=False, name="^" + re.escape(prefix), all_projects=True
            )
            return sorted(s.name for s in servers if (s.name or "").startswith(prefix))

    def delete_server(self, server_id: str) -> None:
        """``DELETE /servers/{id}`` as openstacksdk's `delete_server(ignore_missing=True)`
        sends it (its `Server` microversion; a 404 is no error), without building its
        `Server` resource: that cost more than the request in load runs and drains."""
        action = f"delete server {server_id}"
        with cloud_call(action):
            response = self.conn.compute.delete(
                f"/servers/{server_id}", microversion=self.server_microversion(), raise_exc=False
            )
        if response.status_code != 404:
            _raise_for(response, action)

    def stop_server(self, server_id: str) -> None:
        with cloud_call(f"stop server {server_id}"):
            self.conn.compute.stop_server(server_id)

    # -- live migration -----------------------------------------------------------------------

    def live_migrate(self, server_id: str, host: str | None, block_migration: str | bool) -> None:
        """``os-migrateLive`` as openstacksdk sends it (microversion 2.30, scheduler checks).

        At 2.30 the request is sent directly, with the body openstacksdk's
        `live_migrate_server(force=False)` sends (``host``, ``block_migration``), without
        building its `Server` resource (which cost more than the request); on older clouds
        through openstacksdk, which picks the body of 2.25 or 2.1.
        """
        target = f"to {host}" if host else "to a scheduler-picked host"
        action = f"live-migrate server {server_id} {target}"
        if self.live_migrate_microversion() != "2.30":
            with cloud_call(action):
                self.conn.compute.live_migrate_server(
                    server_id, host=host, force=False, block_migration=block_migration
                )
            return
        body = {"host": host or None, "block_migration": block_migration}
        if block_migration is None:
            body["block_migration"] = "auto"
        with cloud_call(action):
            response = self.conn.compute.post(
                f"/servers/{server_id}/action",
                json={"os-migrateLive": body},
                microversion="2.30",
                raise_exc=False,
            )
        _raise_for(response, action)

    def migrations(self, server_id: str) -> list[Migration]:
        """Every migration record of the server, of any type, oldest first.

        Polled by every migration wait, so read from the JSON, without building
        openstacksdk resources.
        """
        return self.list_migrations(server_id=server_id, migration_type=None)

    def in_progress_migrations(self, server_id: str) -> list[Migration]:
        with cloud_call(f"list in-progress migrations of server {server_id}"):
            return [
                self._migration(m, server_id)
                for m in self.conn.compute.server_migrations(server_id)
            ]

    def abort_migration(self, server_id: str, migration_id: int | str) -> None:
        with cloud_call(f"abort migration {migration_id} of server {server_id}"):
            self.conn.compute.abort_server_migration(
                str(migration_id), server_id, ignore_missing=False
            )

    def force_complete_migration(self, server_id: str, migration_id: int | str) -> None:
        with cloud_call(f"force-complete migration {migration_id} of server {server_id}"):
            self.conn.compute.force_complete_server_migration(str(migration_id), server_id)

    def server_addresses(self, server_id: str) -> list[str]:
        """The server's IP addresses, floating ones first (``addresses`` of GET /servers/{id})."""
        with cloud_call(f"get the addresses of server {server_id}"):
            server = self.conn.compute.get_server(server_id)
        found = []
        for entries in (server.addresses or {}).values():
            for entry in entries:
                floating = entry.get("OS-EXT-IPS:type") == "floating"
                found.append((0 if floating else 1, entry.get("addr")))
        return [addr for _, addr in sorted(found) if addr]

    def server_migration(self, server_id: str, migration_id: int | str) -> dict | None:
        """``GET /servers/{id}/migrations/{mid}`` (2.23): an in-progress live migration with
        its memory and disk counters; None once Nova no longer lists it as in progress."""
        action = f"get live migration {migration_id} of server {server_id}"
        with cloud_call(action):
            response = self.conn.compute.get(
                f"/servers/{server_id}/migrations/{migration_id}",
                microversion="2.23",
                raise_exc=False,
            )
        if response.status_code == 404:
            return None
        _raise_for(response, action)
        return dict(response.json().get("migration") or {})

    @staticmethod
    def _migration(record, server_id: str | None = None) -> Migration:
        return Migration(
            id=record.id,
            uuid=record.uuid,
            server_id=getattr(record, "server_id", None) or server_id or "",
            status=(record.status or "").lower(),
            migration_type=getattr(record, "migration_type", None) or "live-migration",
            source=record.source_compute,
            destination=record.dest_compute,
            created_at=record.created_at,
            updated_at=getattr(record, "updated_at", None),
            source_node=getattr(record, "source_node", None),
            destination_node=getattr(record, "dest_node", None),
        )

    def live_migrate_microversion(self) -> str:
        """The compute microversion openstacksdk sends `os-migrateLive` with on this cloud."""
        if self._live_migrate_microversion is not None:
            return self._live_migrate_microversion
        found, known = "2.1", True
        for version in ("2.30", "2.25"):
            try:
                if sdk_utils.supports_microversion(self.conn.compute, version):
                    found = version
                    break
            except Exception:  # noqa: BLE001 - not known now (no answer): ask again next time
                known = False
        if known:  # the cloud's versions do not change while connected
            self._live_migrate_microversion = found
        return found

    def server_action(
        self, server_id: str, action: str, not_after: str | None = None
    ) -> dict | None:
        """The server's latest instance action named ``action`` (e.g. `live-migration`)
        started at or before ``not_after`` (the migration record's `created_at`: the API
        records the action before the conductor creates the migration), with its events."""
        microversion = self.sdk_microversion("server_action.ServerAction")
        path = f"/servers/{server_id}/os-instance-actions"
        actions = [
            a
            for a in self._pages(
                path,
                "instanceActions",
                {},
                microversion,
                f"list the instance actions of server {server_id}",
                links="links",
            )
            if a.get("action") == action
            and (not_after is None or (a.get("start_time") or "")[:19] <= not_after[:19])
        ]
        if not actions:
            return None
        latest = max(actions, key=lambda a: a.get("start_time") or "")
        request_id = latest.get("request_id")
        body = self._get_json(
            self.conn.compute,
            f"{path}/{request_id}",
            f"get instance action {request_id} of server {server_id}",
            microversion=microversion,
        )
        detail = (body or {}).get("instanceAction")
        if not detail:
            return None
        events = [
            {
                "event": event.get("event"),
                "host": event.get("host"),
                "start": event.get("start_time"),
                "finish": event.get("finish_time"),
                "result": event.get("result"),
                "details": event.get("details"),  # the error's message for admins (2.84)
            }
            for event in detail.get("events") or []
        ]
        events.sort(key=lambda e: (e["start"] or "", e["finish"] or ""))
        return {
            "action": detail.get("action"),
            "request_id": detail.get("request_id"),
            "start": detail.get("start_time"),
            "message": detail.get("message"),
            "events": events,
        }

    # -- cold migration, resize, evacuation -------------------------------------------------

    def server_action_request(
        self, server_id: str, body: dict, microversion: str, action: str
    ) -> dict | None:
        """``POST /servers/{id}/action`` at an explicit microversion; the JSON answer."""
        with cloud_call(action):
            response = self.conn.compute.post(
                f"/servers/{server_id}/action",
                json=body,
                microversion=microversion,
                raise_exc=False,
            )
        _raise_for(response, action)
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    def cold_migrate(self, server_id: str, host: str | None) -> None:
        """``migrate``: a named host needs compute API 2.56."""
        target = f"to {host}" if host else "to a scheduler-picked host"
        self.server_action_request(
            server_id,
            {"migrate": {"host": host} if host else None},
            "2.56" if host else "2.1",
            f"cold-migrate server {server_id} {target}",
        )

    def resize(self, server_id: str, flavor_id: str) -> None:
        self.server_action_request(
            server_id,
            {"resize": {"flavorRef": flavor_id}},
            "2.1",
            f"resize server {server_id} to flavor {flavor_id}",
        )

    def confirm_resize(self, server_id: str) -> None:
        self.server_action_request(
            server_id, {"confirmResize": None}, "2.1", f"confirm the resize of server {server_id}"
        )

    def revert_resize(self, server_id: str) -> None:
        self.server_action_request(
            server_id, {"revertResize": None}, "2.1", f"revert the resize of server {server_id}"
        )

    def evacuate(self, server_id: str, host: str | None, leave_stopped: bool) -> None:
        """``evacuate`` at 2.29 (the scheduler checks a named host: no ``force``), or at
        2.95 when the evacuated server is to stay stopped."""
        body: dict[str, Any] = {"host": host} if host else {}
        target = f"to {host}" if host else "to a scheduler-picked host"
        self.server_action_request(
            server_id,
            {"evacuate": body},
            "2.95" if leave_stopped else "2.29",
            f"evacuate server {server_id} {target}",
        )

    def flavor_details(self, flavor_id: str) -> dict | None:
        """``vcpus``, ``ram``, ``disk`` and ``name`` of a flavor (None if unreadable)."""
        try:
            with cloud_call(f"get flavor {flavor_id}"):
                f = self.conn.compute.get_flavor(flavor_id)
        except CloudError:
            return None
        return {"vcpus": f.vcpus, "ram": f.ram, "disk": f.disk, "name": f.name}

    def server_ids_on_host(self, host: str) -> list[str]:
        """Every server (all projects) Nova places on ``host``, oldest first."""
        servers = self.list_servers(host=host)
        return [s.id for s in sorted(servers, key=lambda s: (s.created or "", s.id))]

    def server_flavor_name(self, server_id: str) -> str | None:
        """The name of the flavor the server has now (``original_name`` from 2.47)."""
        body = self.server_json(server_id)
        if body is None:
            return None
        flavor = body.get("flavor") or {}
        if "original_name" in flavor:
            return flavor["original_name"]
        flavor_id = flavor.get("id")
        if flavor_id is None:
            return None
        with cloud_call(f"get flavor {flavor_id}"):
            return self.conn.compute.get_flavor(flavor_id).name

    # -- hosts --------------------------------------------------------------------------------

    def compute_services(self) -> list[ComputeService]:
        """The nova-compute services, by host (ids as openstacksdk's `Service` has them,
        for `update_service`)."""
        return sorted(
            (
                ComputeService(
                    id=str(s["id"]),
                    host=s.get("host") or "",
                    status=s.get("status") or "",
                    state=s.get("state") or "",
                    forced_down=bool(s.get("forced_down")),
                    disabled_reason=s.get("disabled_reason"),
                )
                for s in self.compute_service_details()
            ),
            key=lambda s: s.host,
        )

    def update_service(self, service: ComputeService, **changes: Any) -> None:
        with cloud_call(f"update the compute service of {service.host} with {changes}"):
            self.conn.compute.update_service(service.id, **changes)

    def hypervisor_names_by_host(self) -> dict[str, list[str]]:
        """Compute host -> the node names (`hypervisor_hostname`) of its hypervisors."""
        result: dict[str, list[str]] = {}
        microversion = self.sdk_microversion("hypervisor.Hypervisor")
        for hypervisor in self._pages(
            "/os-hypervisors/detail", "hypervisors", {}, microversion, "list hypervisors"
        ):
            name = hypervisor.get("hypervisor_hostname")
            host = (hypervisor.get("service") or {}).get("host") or name
            result.setdefault(host, []).append(name)
        return result

    def compute_service_details(self) -> list[dict]:
        """``GET /os-services?binary=nova-compute`` as JSON, at the microversion
        openstacksdk's `Service` uses: also `updated_at` (down since)."""
        body = self._get_json(
            self.conn.compute,
            "/os-services",
            "list compute services",
            params={"binary": "nova-compute"},
            microversion=self.sdk_microversion("service.Service"),
        )
        return list((body or {}).get("services") or [])

    def flavor_json(self, flavor_id: str) -> dict | None:
        action = f"get flavor {flavor_id}"
        with cloud_call(action):
            response = self.conn.compute.get(f"/flavors/{flavor_id}", raise_exc=False)
        if response.status_code == 404:
            return None
        _raise_for(response, action)
        return response.json().get("flavor")

    # -- placement ----------------------------------------------------------------------------

    def inventories(self, provider_uuid: str) -> dict[str, dict]:
        """Resource class -> inventory (`total`, `reserved`, `allocation_ratio`...)."""
        action = f"get the inventories of resource provider {provider_uuid}"
        with cloud_call(action):
            response = self.conn.placement.get(
                f"/resource_providers/{provider_uuid}/inventories",
                microversion=PLACEMENT_MICROVERSION,
                raise_exc=False,
            )
        _raise_for(response, action)
        return dict(response.json().get("inventories") or {})

    def resource_provider_names(self) -> dict[str, str]:
        """Resource provider uuid -> name."""
        body = self._get_json(
            self.conn.placement,
            "/resource_providers",
            "list resource providers",
            microversion=PLACEMENT_MICROVERSION,
        )
        return {rp["uuid"]: rp.get("name") for rp in (body or {}).get("resource_providers") or []}

    def allocations(self, consumer: str) -> dict[str, dict[str, int]]:
        """Resource provider uuid -> resources the consumer holds there (empty when none)."""
        action = f"get the allocations of consumer {consumer}"
        with cloud_call(action):
            response = self.conn.placement.get(
                f"/allocations/{consumer}", microversion=PLACEMENT_MICROVERSION, raise_exc=False
            )
        _raise_for(response, action)
        allocations = response.json().get("allocations") or {}
        return {rp: dict(a.get("resources") or {}) for rp, a in allocations.items()}

    def usages(self, provider_uuid: str) -> dict[str, int]:
        action = f"get the usages of resource provider {provider_uuid}"
        with cloud_call(action):
            response = self.conn.placement.get(
                f"/resource_providers/{provider_uuid}/usages",
                microversion=PLACEMENT_MICROVERSION,
                raise_exc=False,
            )
        _raise_for(response, action)
        return dict(response.json().get("usages") or {})


LIST_MICROVERSION = "2.37"  # `locked` in server details since 2.9


def _next_marker(links: list[dict] | str | None) -> str | None:
    """The marker of the next page: from Nova's ``rel: next`` link, or Glance's ``next``."""
    if isinstance(links, str):
        links = [{"rel": "next", "href": links}]
    for link in links or []:
        if link.get("rel") == "next" and link.get("href"):
            markers = parse_qs(urlsplit(link["href"]).query).get("marker")
            return markers[0] if markers else None
    return None


def _server_from_json(body: dict) -> ServerState:
    fault = body.get("fault") or None
    if isinstance(fault, dict):
        fault = fault.get("message") or str(fault)
    return ServerState(
        created=body.get("created"),
        launched_at=body.get("OS-SRV-USG:launched_at"),
        id=body["id"],
        name=body.get("name") or "",
        status=(body.get("status") or "").upper(),
        task_state=body.get("OS-EXT-STS:task_state"),
        vm_state=body.get("OS-EXT-STS:vm_state"),
        host=body.get("OS-EXT-SRV-ATTR:host"),
        fault=fault,
        locked=body.get("locked"),
    )


def _migration_from_json(body: dict) -> Migration:
    return Migration(
        id=body.get("id"),
        uuid=body.get("uuid"),
        server_id=body.get("instance_uuid") or "",
        status=(body.get("status") or "").lower(),
        migration_type=body.get("migration_type") or "live-migration",
        source=body.get("source_compute"),
        destination=body.get("dest_compute"),
        created_at=body.get("created_at"),
        updated_at=body.get("updated_at"),
        source_node=body.get("source_node"),
        destination_node=body.get("dest_node"),
    )


def _migration_order(migration: Migration):
    key = migration.id
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return (0, int(key), migration.created_at or "")
    return (1, 0, migration.created_at or "")
