*** Settings ***
Documentation    Variants of live migration after multi-create: more servers and hosts,
...              a scheduler-picked destination, and two migrations from one host.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration


*** Test Cases ***
Live Migrate Every Server Of A Multi-Create Spread Over Three Hosts
    [Documentation]    A bigger request (six servers over three hosts) keeps
    ...    `num_instances = 6`; each server, moved in turn, must be scheduled on its own and
    ...    really move, whatever the others did before.
    [Tags]    multi-create
    Require Usable Compute Hosts    3
    @{servers} =    Create Active Servers    6    name=spread
    FOR    ${server}    IN    @{servers}
        ${source} =    Get Server Host    ${server}
        ${target} =    Get Other Compute Host    ${server}
        Live Migrate And Wait Until Completed    ${server}    ${target}
        Live Migration Should Have Moved Server    ${server}    ${source}    ${target}
    END

Live Migrate To A Scheduler-Picked Host
    [Documentation]    Without a named host the scheduler must pick a host other than the
    ...    source (it ignores the source) and the server must end up there.
    [Tags]    scheduler
    Require Usable Compute Hosts    2
    @{servers} =    Create Active Servers    2    name=picked
    ${source} =    Get Server Host    ${servers}[0]
    ${migration} =    Live Migrate And Wait Until Completed    ${servers}[0]
    Should Not Be Equal    ${migration.destination}    ${source}
    ...    msg=The scheduler picked the source host ${source}.
    Live Migration Should Have Moved Server    ${servers}[0]    ${source}    ${migration.destination}

Second Live Migration From A Host Waits In Queue
    [Documentation]    Nova runs one live migration per source compute at a time
    ...    (max_concurrent_live_migrations=1): a second one waits `queued` and then runs.
    ...    fake-only: needs a migration slow enough to watch the queue.
    [Tags]    fake-only    queue
    Set Fake Cloud Durations    running=60
    ${source}    ${first}    ${second} =    Put Servers On One Host    2    name=queue
    ${target} =    Get Other Compute Host    ${first}
    Start Live Migration    ${first}    ${target}    until=running
    Start Live Migration    ${second}    ${target}    until=queued
    Wait Until Migration Of Server Is    ${first}    completed
    Wait Until Migration Of Server Is    ${second}    completed
    Live Migration Should Have Moved Server    ${first}    ${source}    ${target}
    Live Migration Should Have Moved Server    ${second}    ${source}    ${target}
