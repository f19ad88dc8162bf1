*** Settings ***
Documentation    Draining a compute host for maintenance, as `nova host-evacuate-live` does:
...              every server that can move is live-migrated off with bounded concurrency,
...              the ones that cannot (a stopped server) are refused with the reason, and
...              Placement is right straight after: the moved servers are held by their new
...              hosts and the drained host holds only what stayed.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    host-maintenance    concurrency


*** Test Cases ***
Drain A Host With A Stopped Server On It
    [Documentation]    Four servers share one host; one is stopped, so Nova cannot
    ...    live-migrate it. The drain disables the host, moves the three others at most two at
    ...    a time, and reports the stopped one as refused; the host then carries exactly the
    ...    stopped server's resources.
    ${host}    @{servers} =    Put Servers On One Host    4    name=drain
    Stop Server    ${servers}[0]
    Wait Until Server Status Is    ${servers}[0]    SHUTOFF
    @{results} =    Live Migrate All Servers Off Host    ${host}    concurrency=2
    ...    disable=${True}    reason=maintenance by ${TEST NAME}
    Compute Service Should Be    ${host}    status=disabled
    Drain Should Have Refused Only    ${results}    ${servers}[0]
    Moved Servers Should Be Held By Their New Hosts    ${results}
    Host Should Hold Only    ${host}    ${servers}[0]


*** Keywords ***
Drain Should Have Refused Only
    [Documentation]    The refused server is reported with a reason; every other server of
    ...    the drain moved.
    [Arguments]    ${results}    ${refused}
    FOR    ${row}    IN    @{results}
        IF    $row['id'] == $refused.id
            Should Be Equal    ${row}[result]    refused
            Should Contain    ${row}[reason]    SHUTOFF
        ELSE
            Should Be Equal    ${row}[result]    moved    msg=${row}[server]: ${row}[reason]
        END
    END

Moved Servers Should Be Held By Their New Hosts
    [Documentation]    Each moved server is ACTIVE on the destination its drain result names,
    ...    which alone holds its allocation, and its migration holds nothing.
    [Arguments]    ${results}
    FOR    ${row}    IN    @{results}
        IF    $row['result'] == 'moved'
            Should Not Be Equal    ${row}[destination]    ${row}[source]
            Live Migration Should Have Moved Server    ${row}[id]    ${row}[source]
            ...    ${row}[destination]
        END
    END

Host Should Hold Only
    [Documentation]    The host's Placement usage is exactly the server's allocation there.
    [Arguments]    ${host}    ${server}
    Allocations Of Consumer Should Be On Host    ${server}    ${host}
    &{held} =    Get Allocations Of Consumer    ${server}
    &{usage} =    Get Host Usage    ${host}
    Dictionaries Should Be Equal    ${usage}    ${held}[${host}]
    ...    msg=Host ${host} holds more than the stopped server after the drain.
