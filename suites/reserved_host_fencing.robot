*** Settings ***
Documentation    Fencing a reserved host: its servers are moved to the reserved spare, then
...              the host is disabled and forced down, as before a hardware repair. The
...              fenced host must drop out of the usable hosts, and hosts reserved by
...              other tests are never offered as usable to this one.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    host-maintenance    parallel


*** Test Cases ***
Move Servers Off A Reserved Host Then Fence It
    [Documentation]    Both servers leave the host to be fenced together (concurrent moves)
    ...    and arrive on the spare; the forced-down host is then no longer usable.
    ${fenced}    ${spare} =    Reserve Compute Hosts    2
    @{servers} =    Create Servers Concurrently    2    name=fenced    host=${fenced}
    Wait Until Servers Are Active    @{servers}
    Live Migrate Servers    @{servers}    host=${spare}    concurrency=2
    Wait Until Migrations Of Servers Are    ${servers}    completed
    Fence Compute Host    ${fenced}
    @{usable} =    Get Compute Hosts    state=usable
    Should Not Contain    ${usable}    ${fenced}
    Should Contain    ${usable}    ${spare}
    Servers Should Be On Host    ${spare}    @{servers}


*** Keywords ***
Fence Compute Host
    [Documentation]    Takes the host out of scheduling and marks its service forced down,
    ...    as an operator does before powering it off.
    [Arguments]    ${host}
    Disable Compute Service    ${host}    reason=hardware repair by ${TEST NAME}
    Force Compute Service Down    ${host}
    Compute Service Should Be    ${host}    status=disabled    state=down
