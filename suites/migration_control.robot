*** Settings ***
Documentation    Controlling an in-progress live migration: abort and force-complete.
...
...              These tests need a migration that stays running long enough to act on
...              it, which only the fake cloud's durations guarantee: they are fake-only.

Resource         ../resources/livemig.resource

Test Setup       Set Fake Cloud Durations    running=600
Test Teardown    Delete Created Resources

Test Tags        fake-only    live-migration


*** Test Cases ***
Abort A Running Live Migration
    [Documentation]    An abort must roll back: the record is `cancelled`, the server is
    ...    ACTIVE on its source, the source alone carries its allocation again and the
    ...    migration consumer holds nothing (no leak on the target).
    [Tags]    abort    bug-1715182
    ${server}    ${source} =    Create One Active Server    abort
    ${target} =    Get Other Compute Host    ${server}
    Start Live Migration    ${server}    ${target}    until=running
    Abort Migration Of Server    ${server}
    ${migration} =    Wait Until Migration Of Server Is    ${server}    cancelled
    Wait Until Servers Are Active    ${server}
    Server Should Be Untouched On Host    ${server}    ${source}
    Consumer Should Hold No Allocations    ${migration}    within=${SETTLE_TIME}

Abort A Queued Live Migration
    [Documentation]    From microversion 2.65 a `queued` migration can be aborted too
    ...    (openstacksdk sends 2.80): it ends `cancelled` without running, and the one
    ...    ahead of it is not disturbed.
    [Tags]    abort    queue    bug-1949808
    [Setup]    Set Fake Cloud Durations    running=60
    ${source}    ${first}    ${second} =    Put Servers On One Host    2    name=abort-queued
    ${target} =    Get Other Compute Host    ${first}
    Start Live Migration    ${first}    ${target}    until=running
    Start Live Migration    ${second}    ${target}    until=queued
    Abort Migration Of Server    ${second}
    Wait Until Migration Of Server Is    ${second}    cancelled
    Wait Until Migration Of Server Is    ${first}    completed
    Server Should Be Untouched On Host    ${second}    ${source}
    Live Migration Should Have Moved Server    ${first}    ${source}    ${target}

Force Complete A Running Live Migration
    [Documentation]    Force-complete must finish a migration that would otherwise run on
    ...    (a guest dirtying memory faster than the 100 MiB/s link copies it) and leave
    ...    the same proof as a normal completion: Nova pauses the guest, the copy ends.
    [Tags]    force-complete
    ${server}    ${source} =    Create One Active Server    force
    ${target} =    Get Other Compute Host    ${server}
    Set Fake Libvirt Options    live_migration_bandwidth=100
    Set Guest Workload    ${server}    dirty_rate=200
    Start Live Migration    ${server}    ${target}    until=running
    Force Complete Migration Of Server    ${server}
    Wait Until Migration Of Server Is    ${server}    completed    timeout=60s
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Aborting The Running Migration Lets The Queued One Proceed
    [Documentation]    When the migration holding the host's only slot is aborted, the
    ...    queued one must get the slot and complete, not stay `queued` forever.
    [Tags]    abort    queue
    [Setup]    Set Fake Cloud Durations    running=60
    ${source}    ${first}    ${second} =    Put Servers On One Host    2    name=abort-first
    ${target} =    Get Other Compute Host    ${first}
    Start Live Migration    ${first}    ${target}    until=running
    Start Live Migration    ${second}    ${target}    until=queued
    Abort Migration Of Server    ${first}
    Wait Until Migration Of Server Is    ${first}    cancelled
    Wait Until Migration Of Server Is    ${second}    completed
    Server Should Be Untouched On Host    ${first}    ${source}
    Live Migration Should Have Moved Server    ${second}    ${source}    ${target}

Deleting A Migrating Server Frees Both Hosts
    [Documentation]    Deleting a server while it live-migrates must release every
    ...    allocation of the move: the server's on the target and the migration's on the
    ...    source (Nova bug 1848343 leaked the latter).
    [Tags]    delete    bug-1848343
    ${server}    ${source} =    Create One Active Server    delete-migrating
    ${target} =    Get Other Compute Host    ${server}
    ${migration} =    Start Live Migration    ${server}    ${target}    until=running
    Delete Servers    ${server}
    Consumer Should Hold No Allocations    ${server}    within=${SETTLE_TIME}
    Consumer Should Hold No Allocations    ${migration}    within=${SETTLE_TIME}
    Host Usage Should Be    ${source}    VCPU=0    MEMORY_MB=0
