*** Settings ***
Documentation    Faults of a data centre, injected into the embedded fake cloud: migrations
...              that hang or crawl, a conductor that finds no host, compute processes that
...              die mid-migration, builds that fail or crawl, and API answers of 503.
...
...              Each test proves the cloud ends consistent and that the library reports the
...              failure clearly; the teardown proves that nothing leaked (no server, and
...              every host's usage back to what it was before the test). The faults need
...              the fake's control API, so every test is fake-only.

Resource         ../resources/livemig.resource

Test Setup       Remember Host Usages
Test Teardown    Cleanup Should Leave Nothing

Test Tags        fake-only    faults


*** Test Cases ***
Hanging Migration Is Rolled Back When Aborted
    [Documentation]    A copy that never converges keeps the migration `running` however
    ...    long one waits; aborting it is the operator's way out and must roll it back
    ...    completely: `cancelled`, server ACTIVE on its source, no claim left on the target.
    [Tags]    live-migration    abort
    ${server}    ${source} =    Create One Active Server    hang-abort
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    live_migration    hang    server=${server.name}
    Start Live Migration    ${server}    ${target}    until=running
    Advance Fake Cloud Clock    1 hour
    Migration Of Server Should Still Be Running    ${server}
    Abort Migration Of Server    ${server}
    Wait Until Migration Of Server Is    ${server}    cancelled
    Migration Should Have Rolled Back    ${server}    ${source}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Hanging Migration Completes When Forced
    [Documentation]    Force-complete is the other way out of a copy that never converges:
    ...    it must end `completed` with the server on the target and the source released.
    [Tags]    live-migration    force-complete
    ${server}    ${source} =    Create One Active Server    hang-force
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    live_migration    hang    server=${server.name}
    Start Live Migration    ${server}    ${target}    until=running
    Advance Fake Cloud Clock    1 hour
    Migration Of Server Should Still Be Running    ${server}
    Force Complete Migration Of Server    ${server}
    Wait Until Migration Of Server Is    ${server}    completed
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Slow Migration Still Completes
    [Documentation]    A copy that takes minutes longer than usual is not a failure: the
    ...    wait (default migration timeout) must see it through to a complete move.
    [Tags]    live-migration
    ${server}    ${source} =    Create One Active Server    slow-copy
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    live_migration    slow    delay=5 min
    ...    server=${server.name}
    Live Migrate And Wait Until Completed    ${server}    ${target}
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Too Short A Wait For A Slow Migration Fails Clearly
    [Documentation]    A wait shorter than the copy must fail with the record's state and
    ...    the timeout in the message; deleting the still-migrating server in the teardown
    ...    must then free both hosts (no leak of the migration's allocation).
    [Tags]    live-migration
    ${server}    ${source} =    Create One Active Server    slow-timeout
    ${target} =    Get Other Compute Host    ${server}
    Inject Fake Cloud Fault    live_migration    slow    delay=10 min    server=${server.name}
    Live Migrate Server    ${server}    host=${target}
    Run Keyword And Expect Error
    ...    Migration of server * is migration * running, expected completed within 60 seconds.
    ...    Wait Until Migration Of Server Is    ${server}    completed    timeout=1 min
    Migration Of Server Should Still Be Running    ${server}
    Server Should Be On Host    ${server}    ${source}

Conductor Finding No Valid Host Refuses The Migration
    [Documentation]    When the conductor's scheduling pre-check finds no host, the request
    ...    is refused with NoValidHost and the server keeps running where it was: no
    ...    claim on the target, the record (if any) `error`.
    [Tags]    live-migration    negative
    ${server}    ${source} =    Create One Active Server    no-valid-host
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    conductor    no_valid_host    server=${server.name}
    ${message} =    Live Migration Of Server Should Be Refused    ${server}    NoValidHost
    ...    host=${target}
    Should Contain    ${message}    No valid host
    Refused Live Migration Should Leave No Trace    ${server}    ${source}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Source Compute Dying Mid-Migration Errors It Out On Restart
    [Documentation]    Nova does not notice that the source's nova-compute died: the
    ...    migration stays `running` and the server MIGRATING while the service is down.
    ...    Its restart (init_host) must error the migration out and roll it back: server
    ...    ACTIVE on the source, allocation only there, migration consumer empty.
    [Tags]    live-migration    compute-failure
    ${server}    ${source} =    Create One Active Server    source-dies
    ${target} =    Get Other Compute Host    ${server}
    Start Live Migration    ${server}    ${target}    until=running
    Stop Compute Service Process    ${source}
    Advance Fake Cloud Clock    2 min
    Compute Service Should Be    ${source}    state=down
    Migration Of Server Should Still Be Running    ${server}
    Start Compute Service Process    ${source}
    Wait Until Migration Of Server Is    ${server}    error
    Migration Should Have Rolled Back    ${server}    ${source}

Destination Compute Dying Fails The Migration
    [Documentation]    When the destination's nova-compute dies during the copy, the
    ...    hypervisor loses it: the migration ends `failed` and rolls back to the source,
    ...    and the target keeps no claim for the server.
    [Tags]    live-migration    compute-failure
    ${server}    ${source} =    Create One Active Server    target-dies
    ${target} =    Get Other Compute Host    ${server}
    Start Live Migration    ${server}    ${target}    until=running
    Stop Compute Service Process    ${target}
    Wait Until Migration Of Server Is    ${server}    failed
    Migration Should Have Rolled Back    ${server}    ${source}
    Start Compute Service Process    ${target}
    Compute Service Should Be    ${target}    state=up

Source Compute Dying As The Copy Starts Is Cleaned Up On Restart
    [Documentation]    A fault rule kills the source's nova-compute at the exact moment
    ...    the copy starts. Nova does not notice a dead source (the record stays `running`);
    ...    only its restart errors the migration out and rolls it back.
    [Tags]    live-migration    compute-failure
    ${server}    ${source} =    Create One Active Server    source-dies-at-copy
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    live_migration    source_down    server=${server.name}
    Start Live Migration    ${server}    ${target}    until=running
    Fake Cloud Fault Should Have Fired    ${rule}
    Advance Fake Cloud Clock    61s
    Migration Of Server Should Still Be Running    ${server}
    Start Compute Service Process    ${source}
    Wait Until Migration Of Server Is    ${server}    error
    Migration Should Have Rolled Back    ${server}    ${source}

Second Server Of A Multi-Create Failing To Build Fails The Wait Fast
    [Documentation]    When one server of a multi-create fails to build, the wait for all
    ...    of them must stop at once, naming that server and its fault, not run into its
    ...    timeout; the others still come up, and the teardown leaves nothing.
    [Tags]    build
    ${rule} =    Inject Fake Cloud Fault    build    error    skip=1    count=1
    @{servers} =    Create Servers    count=3    name=second-fails
    Run Keyword And Expect Error
    ...    Server ${servers}[1] went to ERROR while waiting for ACTIVE: *aborted*
    ...    Wait Until Servers Are Active    @{servers}    timeout=1 hour
    Server Status Should Be    ${servers}[1]    ERROR
    Wait Until Servers Are Active    ${servers}[0]    ${servers}[2]
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Slow Build Still Ends Active
    [Documentation]    A build that takes minutes longer than usual is not a failure: a
    ...    short wait times out with the server's state, a long enough one sees it ACTIVE.
    [Tags]    build
    ${rule} =    Inject Fake Cloud Fault    build    slow    delay=2 min
    ${server} =    Create Server    name=slow-build
    Run Keyword And Expect Error    Server * is BUILD *, expected all ACTIVE within 60 seconds.
    ...    Wait Until Servers Are Active    ${server}    timeout=1 min
    Wait Until Servers Are Active    ${server}
    Server Status Should Be    ${server}    ACTIVE
    Fake Cloud Fault Should Have Fired    ${rule}    times=1

Read Answered 503 Once Is Retried
    [Documentation]    A GET is idempotent: when the API answers it 503 once, the library
    ...    retries it (and logs the retry), so a passing check is not lost to a blip.
    [Tags]    api-retries
    ${server}    ${source} =    Create One Active Server    flaky-read
    ${rule} =    Inject Fake Cloud Fault    api    status    status=503    method=GET
    ...    path=*/servers/${server.id}
    Server Status Should Be    ${server}    ACTIVE
    Fake Cloud Fault Should Have Fired    ${rule}    times=1
    Server Should Be On Host    ${server}    ${source}

Live Migration Request Answered 503 Is Not Retried
    [Documentation]    A POST may have taken effect although it failed, so it is never
    ...    retried: Live Migrate Server fails with the status, and nothing moved.
    [Tags]    api-retries    live-migration
    ${server}    ${source} =    Create One Active Server    flaky-post
    ${target} =    Get Other Compute Host    ${server}
    ${rule} =    Inject Fake Cloud Fault    api    status    status=503    method=POST
    ...    path=*/servers/${server.id}/action
    Run Keyword And Expect Error    *live-migrate server*HTTP 503*
    ...    Live Migrate Server    ${server}    host=${target}
    Fake Cloud Fault Should Have Fired    ${rule}    times=1
    Server Should Be Untouched On Host    ${server}    ${source}
