*** Settings ***
Documentation    Live migrations the cloud must refuse, and proof that a refusal moved
...              nothing and leaked nothing in Placement.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    negative


*** Test Cases ***
Unknown Destination Host Is Refused
    [Documentation]    Nova's API looks the named host up before anything else runs:
    ...    400 `Compute host ... could not be found`, no migration starts.
    ${server}    ${source} =    Create One Active Server    unknown-host
    ${message} =    Live Migration Of Server Should Be Refused    ${server}    HostNotFound
    ...    host=no-such-host-${server.id}
    Should Contain    ${message}    no-such-host-${server.id}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Destination Equal To Source Is Refused
    [Documentation]    A named host is only a scheduler hint and the scheduler ignores the
    ...    source host, so naming the source finds no valid host.
    ${server}    ${source} =    Create One Active Server    same-host
    Live Migration Of Server Should Be Refused    ${server}    NoValidHost    host=${source}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Disabled Destination Is Refused
    [Documentation]    The ComputeFilter rejects a disabled compute service even when it is
    ...    named as destination (no `force`).
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    disabled-target
    ${target} =    Get Other Compute Host    ${server}
    Disable Compute Service    ${target}    reason=negative test
    Live Migration Of Server Should Be Refused    ${server}    NoValidHost    host=${target}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Forced Down Destination Is Refused
    [Documentation]    A forced-down compute service counts as down for the ComputeFilter.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    down-target
    ${target} =    Get Other Compute Host    ${server}
    Force Compute Service Down    ${target}
    Live Migration Of Server Should Be Refused    ${server}    NoValidHost    host=${target}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Destination Without Capacity Is Refused
    [Documentation]    Placement has no allocation candidate on a host too small for the
    ...    flavor, so the scheduler finds no valid host; the small host stays empty.
    ...    fake-only: needs a host of a chosen size.
    [Tags]    fake-only
    ${server}    ${source} =    Create One Active Server    no-capacity
    ${small} =    Add Fake Compute Host    small-${server.id}    vcpus=1    memory_mb=128
    ...    disk_gb=1
    Live Migration Of Server Should Be Refused    ${server}    NoValidHost    host=${small}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
    Host Usage Should Be    ${small}    VCPU=0    MEMORY_MB=0    DISK_GB=0

Stopped Server Is Refused
    [Documentation]    Only ACTIVE or PAUSED servers can be live-migrated: a SHUTOFF one
    ...    gets 409 from the API and keeps its host.
    ${server}    ${source} =    Create One Active Server    stopped
    Stop Server    ${server}
    Wait Until Server Status Is    ${server}    SHUTOFF
    Live Migration Of Server Should Be Refused    ${server}    Conflict
    Server Status Should Be    ${server}    SHUTOFF
    Server Should Be On Host    ${server}    ${source}
    Allocations Of Consumer Should Be On Host    ${server}    ${source}    within=${SETTLE_TIME}

Server Already Migrating Is Refused
    [Documentation]    The API sets task_state `migrating` before it answers, so a second
    ...    request is refused with 409 while the first migration goes on undisturbed.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    busy
    ${target} =    Get Other Compute Host    ${server}
    Live Migrate Server    ${server}    host=${target}
    ${message} =    Live Migration Of Server Should Be Refused    ${server}    Conflict
    Should Contain    ${message}    migrating
    Wait Until Migration Of Server Is    ${server}    completed
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Member User Is Forbidden To Live Migrate
    [Documentation]    Live migration is admin-only under Nova's default policy: a member
    ...    gets 403 for their own server, which stays where it is.
    Use Member User
    ${server} =    Create Server    name=member
    Wait Until Servers Are Active    ${server}
    ${message} =    Live Migration Of Server Should Be Refused    ${server}    Forbidden
    Should Contain    ${message}    migrate_live
    Use Admin User
    ${source} =    Get Server Host    ${server}
    Server Should Be Untouched On Host    ${server}    ${source}

Disabled Destination Fails Asynchronously Through REST
    [Documentation]    From microversion 2.34 the pre-checks run after Nova answers 202:
    ...    the refusal shows only as a migration in `error`, with the server back ACTIVE on
    ...    its source and nothing left allocated on the target.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    async-refusal
    ${target} =    Get Other Compute Host    ${server}
    Disable Compute Service    ${target}    reason=negative test
    Live Migrate Server Through REST    ${server}    ${target}
    Wait Until Migration Of Server Is    ${server}    error
    Wait Until Servers Are Active    ${server}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
