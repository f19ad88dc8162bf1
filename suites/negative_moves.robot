*** Settings ***
Documentation    Cold migrations, resizes and evacuations the cloud must refuse, and proof
...              that a refusal moved nothing and left nothing behind.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        cold-migration    negative


*** Test Cases ***
Resize To The Same Flavor Is Refused
    [Documentation]    Nova's API: "When resizing, instances must change flavor!" (400).
    ${server}    ${source} =    Create One Active Server    same-flavor
    ${message} =    Move Of Server Should Be Refused    ${server}    resize    BadRequest
    ...    flavor=${FLAVOR}
    Should Contain    ${message}    must change flavor
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Cold Migration To The Same Host Is Refused
    [Documentation]    A named target equal to the server's host is refused by the API
    ...    before anything starts (400).
    ${server}    ${source} =    Create One Active Server    same-host
    ${message} =    Move Of Server Should Be Refused    ${server}    cold-migration
    ...    BadRequest    host=${source}
    Should Contain    ${message}    Cannot migrate to the host where the server exists
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Evacuation While The Source Compute Is Up Is Refused
    [Documentation]    Nova evacuates only from a host whose compute service is down:
    ...    "Compute service of <host> is still in use." (400), no migration record.
    ${server}    ${source} =    Create One Active Server    still-up
    ${message} =    Move Of Server Should Be Refused    ${server}    evacuation    BadRequest
    Should Contain    ${message}    is still in use
    Refused Live Migration Should Leave No Trace    ${server}    ${source}

Confirm Without A Resize Is Refused
    [Documentation]    confirmResize and revertResize need a server in VERIFY_RESIZE: 409.
    ${server}    ${source} =    Create One Active Server    nothing-to-confirm
    Move Of Server Should Be Refused    ${server}    confirm-resize    Conflict
    Move Of Server Should Be Refused    ${server}    revert-resize    Conflict
    Server Should Be Untouched On Host    ${server}    ${source}

Member User Is Forbidden To Cold Migrate Or Evacuate
    [Documentation]    Cold migration and evacuation are admin-only under Nova's default
    ...    policy: a member gets 403 for their own server, which stays where it is.
    Use Member User
    ${server} =    Create Server    name=member-cold
    Wait Until Servers Are Active    ${server}
    ${message} =    Move Of Server Should Be Refused    ${server}    cold-migration    Forbidden
    Should Contain    ${message}    os-migrate-server:migrate
    ${message} =    Move Of Server Should Be Refused    ${server}    evacuation    Forbidden
    Should Contain    ${message}    os-evacuate
    Use Admin User
    ${source} =    Get Server Host    ${server}
    Server Should Be Untouched On Host    ${server}    ${source}

Cold Migration And Resize From A Down Host Are Refused
    [Documentation]    The source compute takes part in a cold move, so Nova refuses one
    ...    from a host whose compute service is down (409, "Service is unavailable at this
    ...    time.") and moves nothing, also when the host is disabled as well (nova bug
    ...    1938326 accepted that, and the move then waited for a compute that never
    ...    answered). The test owns the host it takes down.
    [Tags]    resize    bug-1938326
    ${source}    ${spare} =    Reserve Compute Hosts    2
    ${server} =    Create One Active Server On Host    ${source}    from-down-host
    Disable Compute Service    ${source}    reason=hardware failure
    Force Compute Service Down    ${source}
    ${message} =    Move Of Server Should Be Refused    ${server}    cold-migration    Conflict
    ...    host=${spare}
    Should Contain    ${message}    Service is unavailable at this time
    Move Of Server Should Be Refused    ${server}    resize    Conflict    flavor=${RESIZE_FLAVOR}
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
