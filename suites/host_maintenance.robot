*** Settings ***
Documentation    Host maintenance: take a compute host out of scheduling and empty it by
...              live-migrating every server away, as an operator does before a reboot.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    host-maintenance


*** Test Cases ***
Empty A Disabled Host By Live Migration
    [Documentation]    After disabling a host no new server may land on it, and every
    ...    server on it must move to a usable host with its allocation, leaving the
    ...    maintenance host without any of our servers.
    Require Usable Compute Hosts    2
    ${host}    @{servers} =    Put Servers On One Host    3    name=maintenance
    Disable Compute Service    ${host}    reason=maintenance
    Compute Service Should Be    ${host}    status=disabled
    FOR    ${server}    IN    @{servers}
        Live Migrate And Wait Until Completed    ${server}
        ${migration} =    Get Migration Of Server    ${server}
        Live Migration Should Have Moved Server    ${server}    ${host}    ${migration.destination}
    END
    ${late}    ${late_host} =    Create One Active Server    after-maintenance
    Should Not Be Equal    ${late_host}    ${host}    msg=New server ${late} landed on disabled ${host}.
