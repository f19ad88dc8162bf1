*** Settings ***
Documentation    Evacuation: recovering servers from a dead compute host. Nova rebuilds
...              them elsewhere, the migration record goes `accepted` -> `done`, the
...              server's allocation covers both hosts until the dead host's compute comes
...              back and cleans up, which makes the record `completed`.
...
...              fake-only: the tests kill a compute (nova-compute stops and its service is
...              forced down). On a real cloud evacuation needs a host the test may kill.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        evacuation    fake-only


*** Test Cases ***
Evacuate A Server After Its Compute Dies
    [Documentation]    The server is rebuilt ACTIVE on another host; until the dead
    ...    compute returns the server holds both hosts, then only the new one, and the
    ...    host may not be forced up before (nova bug 1922053 allowed it).
    [Tags]    bug-1922053
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    evacuee
    Kill Compute Host    ${source}
    Evacuate Server    ${server}
    ${target} =    Evacuation Should Be Done    ${server}    ${source}
    Host Should Stay Forced Down Until It Cleaned Up    ${source}
    Evacuation Should Complete When The Host Returns    ${server}    ${source}
    Server Should Be Untouched On Host    ${server}    ${target}

Evacuate Every Server Of A Dead Host
    [Documentation]    The operator's recovery of a whole host: every server on it is
    ...    evacuated, each ends ACTIVE elsewhere, and the revived host ends empty.
    ${home}    @{servers} =    Put Servers On One Host    2    name=whole-host
    Kill Compute Host    ${home}
    @{moved} =    Evacuate Servers Of Host    ${home}
    Length Should Be    ${moved}    ${{ len($servers) }}
    FOR    ${server}    IN    @{moved}
        Evacuation Should Be Done    ${server}    ${home}
    END
    FOR    ${server}    IN    @{moved}
        Evacuation Should Complete When The Host Returns    ${server}    ${home}
    END

Evacuation With No Valid Host Errors Out And Keeps The Server
    [Documentation]    With nowhere to go the migration must end `error` (nova bug
    ...    1713783 left it `accepted`) and the server stays, in ERROR, on its host with
    ...    its allocation, also after that host's compute comes back.
    [Tags]    bug-1713783
    ${home}    ${server} =    Put Servers On One Host    1    name=nowhere
    Kill Compute Host    ${home}
    Disable Every Usable Host
    Evacuate Server    ${server}
    Wait Until Migration Of Server Is    ${server}    error    timeout=2 min
    Wait Until Server Status Is    ${server}    ERROR
    Server Should Be On Host    ${server}    ${home}
    Revive Compute Host    ${home}
    Migration Of Server Should Have    ${server}    type=evacuation    status=error
    Allocations Of Consumer Should Be On Host    ${server}    ${home}

Evacuate After A Resize In A Two-Host Deployment
    [Documentation]    A resize must not leave its source host excluded for later moves
    ...    (nova bug 1669054): with two hosts, a server resized from A to B is evacuated
    ...    back to A when B dies.
    [Tags]    resize    bug-1669054
    Keep Only Two Usable Hosts
    ${server}    ${source} =    Create One Active Server    edge
    Resize Server    ${server}    ${RESIZE_FLAVOR}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}    resize    ${source}
    Confirm Resize And Prove The Move    ${server}    resize    ${source}    ${target}
    Kill Compute Host    ${target}
    Evacuate Server    ${server}
    ${back} =    Evacuation Should Be Done    ${server}    ${target}
    Should Be Equal    ${back}    ${source}
    Evacuation Should Complete When The Host Returns    ${server}    ${target}
