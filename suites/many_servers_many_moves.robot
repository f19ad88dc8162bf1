*** Settings ***
Documentation    Many servers moved at once: the servers of one multi-create gathered on one
...              host by concurrent live migrations, and servers booted by concurrent
...              requests then all moved at once. Each move must really happen (record,
...              host, Placement) however many run beside it, and the log must show them
...              overlapping on one time axis.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    concurrency


*** Test Cases ***
Gather The Servers Of A Multi-Create On One Host Concurrently
    [Documentation]    A four-server multi-create spreads over the hosts; the servers not on
    ...    the first server's host all move there at once. Each move is scheduled for one
    ...    instance (bug 1718455), and Nova queues moves leaving the same source.
    Require Usable Compute Hosts    2
    @{servers} =    Create Active Servers    4    name=gather
    ${target} =    Get Server Host    ${servers}[0]
    @{movers} =    Get Servers Not On Host    ${target}    @{servers}
    Should Not Be Empty    ${movers}    msg=The scheduler put all four servers on ${target}.
    Live Migrate Servers    @{movers}    host=${target}    concurrency=3
    Wait Until Migrations Of Servers Are    ${movers}    completed
    Servers Should Be On Host    ${target}    @{servers}
    Every Server Should Have Moved To Its Destination    @{movers}

Concurrent Creates Followed By Concurrent Moves
    [Documentation]    Four users boot at once (four separate requests, no shared
    ...    reservation), then every server is moved at once to a host the scheduler picks:
    ...    each must leave its source and land, with its allocation, where its record says.
    Require Usable Compute Hosts    2
    @{servers} =    Create Servers Concurrently    4    name=rush
    Wait Until Servers Are Active    @{servers}
    Live Migrate Servers    @{servers}    concurrency=4
    Wait Until Migrations Of Servers Are    ${servers}    completed
    Every Server Should Have Moved To Its Destination    @{servers}


*** Keywords ***
Every Server Should Have Moved To Its Destination
    [Documentation]    For each server: its latest live-migration record is completed
    ...    between two different hosts, and the server and its allocation are on the
    ...    record's destination while the migration consumer holds nothing.
    [Arguments]    @{servers}
    FOR    ${server}    IN    @{servers}
        ${migration} =    Get Migration Of Server    ${server}
        Should Not Be Equal    ${migration.source}    ${migration.destination}
        ...    msg=Migration ${migration.id} of ${server.name} did not change hosts.
        Live Migration Should Have Moved Server    ${server}    ${migration.source}
        ...    ${migration.destination}
    END
