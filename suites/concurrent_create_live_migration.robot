*** Settings ***
Documentation    Live-migrating one server of a multi-create request (Nova bug 1718455).
...
...              Nova stored `num_instances = 2` in the request spec of a two-server
...              multi-create and later checked a live migration's host count against
...              it, so moving one of the two failed with NoValidHost. The move must be
...              scheduled for one instance, and must leave the other server alone.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    multi-create    bug-1718455    bug-1712045


*** Test Cases ***
Live Migrate One Server Of A Two-Server Multi-Create
    [Documentation]    The regression scenario of bug 1718455 through openstacksdk
    ...    (microversion 2.30, synchronous pre-checks): the move must be scheduled for one
    ...    instance; the first server moves to the second one's host, and the record and
    ...    Placement must show a real move while the second server stays untouched.
    Require Usable Compute Hosts    2
    ${first}    ${second} =    Create Active Servers    2    name=bug1718455
    Servers Should Be On Different Hosts    ${first}    ${second}
    ${source} =    Get Server Host    ${first}
    ${target} =    Get Server Host    ${second}
    Live Migrate And Wait Until Completed    ${first}    ${target}    block_migration=auto
    Live Migration Should Have Moved Server    ${first}    ${source}    ${target}
    Server Should Be Untouched On Host    ${second}    ${target}

Live Migrate One Server Of A Two-Server Multi-Create Through REST
    [Documentation]    The same move sent by RequestsLibrary at microversion 2.34+, where
    ...    Nova answers 202 before its pre-checks: a NoValidHost would only show as a
    ...    migration in `error`, so the record and the host must be checked.
    Require Usable Compute Hosts    2
    ${first}    ${second} =    Create Active Servers    2    name=bug1718455-rest
    Servers Should Be On Different Hosts    ${first}    ${second}
    ${source} =    Get Server Host    ${first}
    ${target} =    Get Server Host    ${second}
    Live Migrate Server Through REST    ${first}    ${target}
    Wait Until Migration Of Server Is    ${first}    completed
    Live Migration Should Have Moved Server    ${first}    ${source}    ${target}
    Server Should Be Untouched On Host    ${second}    ${target}
