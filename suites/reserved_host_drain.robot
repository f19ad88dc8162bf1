*** Settings ***
Documentation    Host maintenance on reserved hosts: a test that disables and drains a host
...              owns it first (Reserve Compute Hosts), so it never touches the hosts of tests
...              running beside it under pabot, and they never touch its host. The drain
...              must move exactly this test's servers: another test's server on the host
...              would mean the reservation did not hold.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    host-maintenance    parallel


*** Test Cases ***
Drain A Reserved Host Onto Its Reserved Spare
    [Documentation]    Three servers are booted onto the first reserved host; the drain
    ...    disables it and moves them, at most two at a time, to the second reserved
    ...    host, and nothing else was on the drained host.
    ${maintained}    ${spare} =    Reserve Compute Hosts    2
    @{servers} =    Create Servers Concurrently    3    name=tenant    host=${maintained}
    Wait Until Servers Are Active    @{servers}
    Servers Should Be On Host    ${maintained}    @{servers}
    @{results} =    Live Migrate All Servers Off Host    ${maintained}    target=${spare}
    ...    concurrency=2    disable=${True}    reason=maintenance by ${TEST NAME}
    Length Should Be    ${results}    3    msg=The drained host carried servers of other tests.
    Servers Should Be On Host    ${spare}    @{servers}
    Compute Service Should Be    ${maintained}    status=disabled
    Should Be Empty    ${{ [s for s in $results if s['result'] != 'moved'] }}
