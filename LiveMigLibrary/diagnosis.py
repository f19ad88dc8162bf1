"""Why a move was refused or failed: the facts an operator would look up, read from the cloud.

When Nova refuses a move (often with only "No valid host was found.") or a migration ends
in `error`/`failed`, `explain_move` reads what an operator would check next and returns
it as one labelled sentence to append to the failure message:

- the server's status, task state and host (a server that is not ACTIVE, or busy with
  another task, cannot be moved; a destination that is the server's own host is refused);
- the destination's nova-compute service: disabled and why, forced down, down since when
  (for a scheduler-picked destination: every other host that cannot take the server);
- the destination's free Placement capacity against the server's flavor;
- the instance action's failed events with their details, and the server's fault.

Only facts read from the cloud are given, labelled as such, never guesses; a read that
fails is skipped. The move keywords (live migration here, the other move operations
likewise) and the evidence records can call it with the server id, the destination asked
for (or None) and the migration record if there is one.
"""

from __future__ import annotations

from collections.abc import Callable

from robot.api import logger

LABEL = "Read from the cloud afterwards:"

# Placement resource class -> the flavor field that requests it
FLAVOR_RESOURCES = (("VCPU", "vcpus"), ("MEMORY_MB", "ram"), ("DISK_GB", "disk"))


def explain_move(
    client,
    server_id: str,
    destination: str | None = None,
    *,
    action: str = "live-migration",
    migration=None,
    already_said: str = "",
    flavor: dict | None = None,
) -> str:
    """One sentence of facts read from the cloud about a refused or failed move, or ''.

    ``already_said`` is the cloud's message the failure shows anyway: an instance action
    event that only repeats it is left out. ``action`` is the instance action of the move
    (`live-migration`, `migrate`, `resize`, `evacuate`). ``flavor`` (`vcpus`, `ram`, `disk`,
    `name`) is what the destination must fit when it is not the server's own flavor, e.g.
    the new flavor of a resize.
    """
    facts: list[str] = []
    server = _read(lambda: client.server_json(server_id), "the server")
    if server is not None and flavor:
        server = {**server, "flavor": flavor}
    source = server.get("OS-EXT-SRV-ATTR:host") if server else None
    if migration is not None:
        source = source or migration.source
        destination = destination or migration.destination
    if server:
        facts += _server_facts(server)
    if destination and source and destination == source:
        facts.append(f"{destination} is already the server's host")
    services = _read(lambda: client.compute_service_details(), "the compute services") or []
    if destination:
        facts += _destination_facts(client, server, destination, services)
    elif services:
        facts += _other_hosts_facts(client, server, source, services)
    # an event that repeats the failure message or the server's fault adds nothing
    fault = (server or {}).get("fault")
    fault_message = (fault.get("message") or "") if isinstance(fault, dict) else ""
    said = f"{already_said} {fault_message}"
    facts += _event_facts(client, server_id, action, migration, _plain(said))
    if not facts:
        return ""
    return f"{LABEL} " + "; ".join(facts) + "."


def where_to_look(migration, logged: str | None = None) -> str:
    """What to do when the cloud's API holds no reason for a failed migration.

    Nova keeps the cause of, e.g., a failed live-migration copy only in its services'
    logs (the instance action's events all succeeded, the server has no fault).
    ``logged`` is what the embedded fake's compute logged as the cause, if known.
    """
    hosts = [h for h in (migration.source, migration.destination) if h]
    on = f" on {' and '.join(dict.fromkeys(hosts))}" if hosts else ""
    fake = f" (the embedded fake's says: {_plain(logged)})" if logged else ""
    return (
        "The cloud's API gives no reason (no failed instance action event, no server "
        f"fault): look for server {migration.server_id} in the nova-compute logs{on} and in "
        f"nova-conductor's log{fake}."
    )


def _read(read: Callable, what: str):
    try:
        return read()
    except Exception as error:  # the explanation must never hide the failure it explains
        logger.debug(f"Could not read {what} to explain the failure: {error}")
        return None


def _server_facts(server: dict) -> list[str]:
    status = (server.get("status") or "").upper()
    task = server.get("OS-EXT-STS:task_state")
    host = server.get("OS-EXT-SRV-ATTR:host")
    facts = []
    if status not in ("ACTIVE", "PAUSED") or task:
        where = f" on {host}" if host else ""
        facts.append(f"the server is {status} (task_state {task or 'none'}){where}")
    if server.get("locked"):
        facts.append("the server is locked")
    fault = server.get("fault")
    if isinstance(fault, dict) and fault.get("message"):
        facts.append(f"the server's fault says {fault['message']!r}")
    return facts


def _service_problems(service: dict) -> list[str]:
    problems = []
    if service.get("status") == "disabled":
        reason = service.get("disabled_reason")
        problems.append(f"disabled ({reason!r})" if reason else "disabled (no reason given)")
    if service.get("forced_down"):
        problems.append("forced down")
    if service.get("state") == "down":
        since = service.get("updated_at")
        problems.append(f"down since {since}" if since else "down")
    return problems


def _destination_facts(client, server, destination: str, services: list[dict]) -> list[str]:
    service = next((s for s in services if s.get("host") == destination), None)
    if services and service is None:
        known = ", ".join(sorted(s.get("host") or "?" for s in services))
        return [f"no nova-compute service runs on host {destination} (hosts: {known})"]
    facts = []
    if service is not None:
        problems = _service_problems(service)
        if problems:
            facts.append(f"{destination}'s nova-compute is " + " and ".join(problems))
    capacity = _capacity_fact(client, server, destination)
    if capacity:
        facts.append(capacity)
    return facts


def _other_hosts_facts(client, server, source: str | None, services: list[dict]) -> list[str]:
    """For a scheduler-picked destination: why each other host could not take the server."""
    candidates = [s for s in services if s.get("host") != source]
    if not candidates:
        return [f"no compute host other than {source} exists"]
    facts = []
    for service in sorted(candidates, key=lambda s: s.get("host") or ""):
        host = service.get("host")
        problems = _service_problems(service)
        if problems:
            facts.append(f"{host}'s nova-compute is " + " and ".join(problems))
            continue
        capacity = _capacity_fact(client, server, host)
        if capacity:
            facts.append(capacity)
    return facts


def _flavor(client, server: dict | None) -> dict | None:
    if not server:
        return None
    flavor = server.get("flavor") or {}
    if "vcpus" in flavor:  # embedded from compute 2.47
        return flavor
    if flavor.get("id"):
        return _read(lambda: client.flavor_json(flavor["id"]), "the flavor")
    return None


def _capacity_fact(client, server: dict | None, host: str) -> str | None:
    """'compute2 has 0 VCPU free, the flavor needs 1' when the host's capacity is short."""
    flavor = _flavor(client, server)
    if not flavor:
        return None
    providers = _read(lambda: client.resource_provider_names(), "the resource providers") or {}
    names = (_read(lambda: client.hypervisor_names_by_host(), "the hypervisors") or {}).get(
        host, [host]
    )
    uuid = next((u for u, name in providers.items() if name in names), None)
    if uuid is None:
        return None
    inventories = _read(lambda: client.inventories(uuid), f"the inventories of {host}")
    usages = _read(lambda: client.usages(uuid), f"the usages of {host}")
    if inventories is None or usages is None:
        return None
    name = flavor.get("original_name") or flavor.get("name")
    label = f"flavor {name}" if name else "the flavor"
    short = []
    for resource_class, field in FLAVOR_RESOURCES:
        needed = int(flavor.get(field) or 0)
        if not needed:
            continue
        inventory = inventories.get(resource_class)
        if inventory is None:  # e.g. nova.conf reserves more than the host has
            short.append(f"no {resource_class} inventory ({label} needs {needed})")
            continue
        # placement's capacity: (total - reserved) * allocation_ratio, and at most
        # max_unit in one allocation
        capacity = (inventory["total"] - inventory.get("reserved", 0)) * inventory.get(
            "allocation_ratio", 1.0
        )
        free = int(capacity) - int(usages.get(resource_class, 0))
        max_unit = inventory.get("max_unit")
        if free < needed:
            short.append(f"{max(free, 0)} {resource_class} free ({label} needs {needed})")
        elif max_unit is not None and needed > int(max_unit):
            short.append(f"at most {max_unit} {resource_class} per server ({label} needs {needed})")
    if not short:
        return None
    return f"{host} has " + ", ".join(short) + " in Placement"


def _plain(text: str | None) -> str:
    return " ".join(str(text or "").split()).rstrip(".")


def _event_facts(client, server_id: str, action: str, migration, said: str) -> list[str]:
    not_after = getattr(migration, "created_at", None)
    found = _read(
        lambda: client.server_action(server_id, action, not_after=not_after),
        "the instance actions",
    )
    if not found:
        return []
    facts = []
    failed = [e for e in found.get("events") or [] if (e.get("result") or "").lower() == "error"]
    for event in failed:
        details = _plain(event.get("details"))
        if details and said and details in said:
            continue  # the failure message says it already
        where = f" on {event['host']}" if event.get("host") else ""
        details = f": {details}" if details else ""
        facts.append(f"instance action event {event.get('event')}{where} failed{details}")
    message = found.get("message")
    if not failed and message and message.lower() != "error":
        facts.append(f"the {action} instance action says {message!r}")
    return facts
