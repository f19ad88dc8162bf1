*** Settings ***
Documentation    Cold migration and resize, each confirmed or reverted, proven the way
...              Nova's functional tests prove them: the migration record, the server's
...              host, status and flavor, and the Placement allocations of the server and
...              of the migration (which holds the source until the move is confirmed).

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        cold-migration


*** Test Cases ***
Cold Migrate And Confirm
    [Documentation]    `migrate` moves the server to a host the scheduler picks and waits
    ...    in VERIFY_RESIZE with the source still held by the migration; `confirmResize`
    ...    releases the source.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    cold-confirm
    Cold Migrate Server    ${server}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}
    ...    migration    ${source}
    Should Not Be Equal    ${target}    ${source}
    Confirm Resize Of Server    ${server}
    Confirmed Move Should Have Moved Server    ${server}    migration    ${source}    ${target}

Cold Migrate And Revert
    [Documentation]    `revertResize` brings the server back to its source: the record is
    ...    `reverted` and the destination keeps nothing.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    cold-revert
    Cold Migrate Server    ${server}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}
    ...    migration    ${source}
    Revert Resize Of Server    ${server}
    Reverted Move Should Have Left Server On Source    ${server}    migration    ${source}
    Host Usage Should Be    ${target}    VCPU=0    MEMORY_MB=0    DISK_GB=0

Resize Up And Confirm
    [Documentation]    A resize to a bigger flavor: the server gets the new flavor on the
    ...    destination, quota and Placement count it, and confirming keeps it.
    [Tags]    resize
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    resize-confirm
    Resize Server    ${server}    ${RESIZE_FLAVOR}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}
    ...    resize    ${source}
    Server Flavor Should Be    ${server}    ${RESIZE_FLAVOR}
    Confirm Resize Of Server    ${server}
    Confirmed Move Should Have Moved Server    ${server}    resize    ${source}    ${target}
    Server Flavor Should Be    ${server}    ${RESIZE_FLAVOR}

Resize And Revert Gives The Old Flavor's Allocations Back
    [Documentation]    Reverting a resize restores the old flavor and exactly the
    ...    allocation the server had before, on its source host.
    [Tags]    resize
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    resize-revert
    &{before} =    Get Allocations Of Consumer    ${server}
    Resize Server    ${server}    ${RESIZE_FLAVOR}
    Cold Move Should Wait For Confirmation    ${server}    resize    ${source}
    Revert Resize Of Server    ${server}
    Reverted Move Should Have Left Server On Source    ${server}    resize    ${source}
    Server Flavor Should Be    ${server}    ${FLAVOR}
    &{after} =    Get Allocations Of Consumer    ${server}
    Dictionaries Should Be Equal    ${after}    ${before}
    ...    msg=After the revert the server holds ${after}, before the resize ${before}.

Cold Migrate A Stopped Server
    [Documentation]    A SHUTOFF server is cold-migrated powered off and stays SHUTOFF
    ...    after the confirmation.
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    cold-stopped
    Stop Server    ${server}
    Wait Until Server Status Is    ${server}    SHUTOFF
    Cold Migrate Server    ${server}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}
    ...    migration    ${source}
    Confirm Resize Of Server    ${server}
    Wait Until Migration Of Server Is    ${server}    confirmed
    Wait Until Server Status Is    ${server}    SHUTOFF
    Server Should Be On Host    ${server}    ${target}

Live Migrate After A Cold Migration To A Named Host
    [Documentation]    A cold migration to a named host (2.56) must not pin the server's
    ...    later moves to that host (nova bug 1797580): a live migration without a host
    ...    afterwards still finds another one.
    [Tags]    bug-1797580
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    named-then-live
    ${target} =    Get Other Compute Host    ${server}
    Cold Migrate Server    ${server}    host=${target}
    Cold Move Should Wait For Confirmation    ${server}    migration    ${source}
    Confirm Resize Of Server    ${server}
    Confirmed Move Should Have Moved Server    ${server}    migration    ${source}    ${target}
    Live Migrate Server    ${server}
    ${migration} =    Wait Until Migration Of Server Is    ${server}    completed
    Live Migration Should Have Moved Server    ${server}    ${target}    ${migration.destination}

Resize Rescheduled After A Failed Host Leaves That Host Usable
    [Documentation]    When prep_resize fails on the first host Nova reschedules to an
    ...    alternate; the failed host must not stay excluded for the server's later moves
    ...    (nova bug 1718512): a live migration to it works. fake-only: injects the fault.
    [Tags]    fake-only    resize    bug-1718512
    Require Usable Compute Hosts    3
    ${server}    ${source} =    Create One Active Server    reschedule
    ${first} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    prep_resize    error    host=${first}    count=1
    Resize Server    ${server}    ${RESIZE_FLAVOR}
    ${target} =    Cold Move Should Wait For Confirmation    ${server}
    ...    resize    ${source}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1
    Confirm Resize And Prove The Move    ${server}    resize    ${source}    ${target}
    Live Migrate And Wait Until Completed    ${server}    host=${first}
    Live Migration Should Have Moved Server    ${server}    ${target}    ${first}

Failed Finish Resize Leaves The Server Where It Is With Its Allocation
    [Documentation]    When finish_resize fails on the destination the server is in ERROR
    ...    there and its allocation must be there too, the source released (nova bug
    ...    1825537 put it back on the source). fake-only: injects the fault.
    [Tags]    fake-only    bug-1825537
    Require Usable Compute Hosts    2
    ${server}    ${source} =    Create One Active Server    finish-fails
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    finish_resize    error    host=${target}
    Cold Migrate Server    ${server}    host=${target}
    Wait Until Migration Of Server Is    ${server}    error
    Wait Until Server Status Is    ${server}    ERROR
    Server Should Be On Host    ${server}    ${target}
    Allocations Of Consumer Should Be On Host    ${server}    ${target}    within=${SETTLE_TIME}
    Host Usage Should Be    ${source}    VCPU=0    MEMORY_MB=0    DISK_GB=0
