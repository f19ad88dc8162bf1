*** Settings ***
Documentation    Evacuation: recovering servers from a dead compute host. Nova rebuilds
...              them elsewhere, the migration record goes `accepted` -> `done`, the
...              server's allocation covers both hosts until the dead host's compute comes
...              back and cleans up, which makes the record `completed`.
...
...              The tests kill computes: nova-compute stops and its service is forced
...              down. The embedded fake kills its own; a real cloud needs the library's
...              `compute_process_command` (`--variable "COMPUTE_PROCESS_COMMAND:ssh
...              {host} sudo systemctl {action} devstack@n-cpu"`), without which the
...              tests skip. Each test kills only hosts it reserved, so they are safe
...              beside other tests (pabot) on a shared cloud.

Resource         ../resources/livemig.resource

Test Setup       Require Compute Process Control
Test Teardown    Delete Created Resources

Test Tags        evacuation    compute-failure


*** Test Cases ***
Evacuate A Server After Its Compute Dies
    [Documentation]    The server is rebuilt ACTIVE on another host; until the dead
    ...    compute returns the server holds both hosts, then only the new one, and the
    ...    host may not be forced up before (nova bug 1922053 allowed it).
    [Tags]    bug-1922053
    ${source}    ${spare} =    Reserve Compute Hosts    2
    ${server} =    Create One Active Server On Host    ${source}    evacuee
    Kill Compute Host    ${source}
    Evacuate Server    ${server}    host=${spare}
    ${target} =    Evacuation Should Be Done    ${server}    ${source}    to=${spare}
    Host Should Stay Forced Down Until It Cleaned Up    ${source}
    Evacuation Should Complete When The Host Returns    ${server}    ${source}
    Server Should Be Untouched On Host    ${server}    ${target}

Evacuate Every Server Of A Dead Host
    [Documentation]    The operator's recovery of a whole host: every server on it is
    ...    evacuated, each ends ACTIVE elsewhere, and the revived host keeps none of them.
    ${home}    ${spare} =    Reserve Compute Hosts    2
    @{servers} =    Create Active Servers On Host    ${home}    2    whole-host
    Kill Compute Host    ${home}
    @{moved} =    Evacuate Servers Of Host    ${home}    target=${spare}
    Length Should Be    ${moved}    ${{ len($servers) }}
    FOR    ${server}    IN    @{moved}
        Evacuation Should Be Done    ${server}    ${home}
    END
    FOR    ${server}    IN    @{moved}
        Evacuation Should Complete When The Host Returns    ${server}    ${home}
    END

Evacuation With No Valid Host Errors Out And Keeps The Server
    [Documentation]    With nowhere to go (the only destination is disabled) the
    ...    migration must end `error` (nova bug 1713783 left it `accepted`) and the server
    ...    stays, in ERROR, on its host with its allocation, also after that host's
    ...    compute comes back.
    [Tags]    bug-1713783
    ${home}    ${spare} =    Reserve Compute Hosts    2
    ${server} =    Create One Active Server On Host    ${home}    nowhere
    Kill Compute Host    ${home}
    Disable Compute Service    ${spare}    reason=no valid host scenario
    Evacuate Server    ${server}    host=${spare}
    Evacuation Should Have Errored Out On Host    ${server}    ${home}
    Revive Compute Host    ${home}
    Evacuation Should Have Errored Out On Host    ${server}    ${home}

Evacuate After A Resize In A Two-Host Deployment
    [Documentation]    A resize must not leave its source host excluded for later moves
    ...    (nova bug 1669054): with two hosts, a server resized from A to B is evacuated
    ...    back to A, by the scheduler's own choice, when B dies.
    [Tags]    resize    bug-1669054
    ${first}    ${second} =    Keep Only Two Usable Hosts
    ${server} =    Create One Active Server On Host    ${first}    edge
    Resize Server    ${server}    ${RESIZE_FLAVOR}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}    resize    ${first}
    Should Be Equal    ${target}    ${second}
    Confirm Resize And Prove The Move    ${server}    resize    ${first}    ${target}
    Kill Compute Host    ${target}
    Evacuate Server    ${server}
    Evacuation Should Be Done    ${server}    ${target}    to=${first}
    Evacuation Should Complete When The Host Returns    ${server}    ${target}
