*** Settings ***
Documentation    Live migrations that fail inside Nova must roll back completely.
...
...              The failures are injected in the fake cloud where real Nova can fail
...              (scheduling, the destination's pre_live_migration, the hypervisor while
...              running), so these tests are fake-only.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        fake-only    live-migration    faults


*** Test Cases ***
Failure While Running Is Rolled Back
    [Documentation]    A driver failure during the running phase ends the record `failed`;
    ...    the server must be ACTIVE on its source with its allocation back there and the
    ...    migration consumer must not keep anything (no leak on either host).
    [Tags]    bug-1715182
    ${server}    ${source} =    Create One Active Server    fails-running
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    live_migration    error    server=${server.name}
    Live Migrate Server    ${server}    host=${target}
    ${migration} =    Wait Until Migration Of Server Is    ${server}    failed
    Wait Until Servers Are Active    ${server}
    Server Should Be Untouched On Host    ${server}    ${source}
    Consumer Should Hold No Allocations    ${migration}    within=${SETTLE_TIME}

Failure Preparing The Destination Is Rolled Back
    [Documentation]    A pre_live_migration failure on the destination ends the record
    ...    `error` and must release the destination's claim.
    [Tags]    bug-1715182
    ${server}    ${source} =    Create One Active Server    fails-preparing
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    pre_live_migration    error    server=${server.name}
    Live Migrate Server    ${server}    host=${target}
    ${migration} =    Wait Until Migration Of Server Is    ${server}    error
    Wait Until Servers Are Active    ${server}
    Server Should Be Untouched On Host    ${server}    ${source}
    Consumer Should Hold No Allocations    ${migration}    within=${SETTLE_TIME}

Waiting For Completion Fails Fast On A Failed Migration
    [Documentation]    A wait for `completed` must stop as soon as the record says
    ...    `failed`, with the record in the message, instead of running into its timeout.
    ${server}    ${source} =    Create One Active Server    fails-fast
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    live_migration    error    server=${server.name}
    Live Migrate Server    ${server}    host=${target}
    Run Keyword And Expect Error    *ended failed (${source} -> ${target}), expected completed.*
    ...    Wait Until Migration Of Server Is    ${server}    completed    timeout=1 hour

Unreachable Destination Is Refused Without Keeping A Claim
    [Documentation]    When the destination compute does not answer Nova's pre-check
    ...    (check_can_live_migrate_destination) after the scheduler claimed it, the claim
    ...    must be dropped (Nova bug 1712411 kept it): the server keeps one allocation,
    ...    on its source, and the record ends `error`.
    [Tags]    negative    bug-1712411
    ${server}    ${source} =    Create One Active Server    unreachable
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    conductor    unreachable    server=${server.name}
    Live Migration Of Server Should Be Refused    ${server}    BadRequest    host=${target}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
    Host Usage Should Be    ${target}    VCPU=0    MEMORY_MB=0

Failing Source Check Keeps The Server Active
    [Documentation]    If the source compute fails check_can_live_migrate_source, Nova
    ...    must refuse the move as a pre-check error and leave the server ACTIVE on its
    ...    source (Nova bug 2044235 put it in ERROR).
    [Tags]    negative    bug-2044235
    ${server}    ${source} =    Create One Active Server    source-check
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    conductor    source_check_error    server=${server.name}
    Live Migration Of Server Should Be Refused    ${server}    BadRequest    host=${target}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
