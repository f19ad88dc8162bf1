*** Settings ***
Documentation    What decides whether a live migration finishes: a guest that dirties its
...              memory faster than the link copies it never converges, runs into Nova's
...              completion timeout and is aborted or forced, paused or in post-copy.
...
...              The embedded fake models the guest's memory, the link and Nova's libvirt
...              monitor loop, so these scenarios set a workload, a bandwidth and the
...              `[libvirt]` options: they are fake-only. The figures in the documentation
...              come from the driver's formulas (2 GiB guest on a 100 MiB/s link:
...              a 20.48 s first pass; timeout 30 s/GiB * 2 GiB = 60 s).

Resource         ../resources/livemig.resource

Test Setup       Set Fake Libvirt Options    live_migration_bandwidth=100
Test Teardown    Delete Created Resources

Test Tags        fake-only    live-migration    dynamics


*** Variables ***
${FLAVOR_2GB}    m1.small


*** Test Cases ***
Idle Guest Converges With A Downtime Under The Maximum
    [Documentation]    An idle guest leaves nothing dirty after the first pass: pre-copy
    ...    converges at once and the switchover pause is far below the 500 ms maximum.
    [Tags]    downtime
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    idle
    Live Migrate And Wait Until Completed    ${server}    ${target}
    Migration Of Server Should Have Converged    ${server}    max_iterations=2
    Migration Downtime Should Be Less Than    ${server}    500ms
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Busy Guest Converges After Several Passes With Progress Growing
    [Documentation]    At 40 MiB/s on a 100 MiB/s link each pass leaves 0.4 of the previous
    ...    one dirty; after 7 passes 3.4 MiB fit in the first 50 ms step of the max downtime.
    ...    What Nova shows meanwhile only grows: pages sent again count as processed.
    [Tags]    progress
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    busy-converging
    Set Guest Workload    ${server}    dirty_rate=40    working_set=1024
    Start Live Migration    ${server}    ${target}
    @{samples} =    Follow Migration Progress    ${server}
    Migration Progress Should Grow Monotonically    ${samples}
    Wait Until Migration Of Server Is    ${server}    completed
    Migration Of Server Should Have Converged    ${server}    max_iterations=7
    Migration Downtime Should Be Less Than    ${server}    50ms
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Busy Guest Runs Into The Completion Timeout And Is Aborted
    [Documentation]    200 MiB/s over a 1 GiB working set never fits the max downtime:
    ...    after 60 s Nova's monitor aborts the job (the default `abort` action), the
    ...    record is `cancelled` and the server is back on its source with its allocation.
    [Tags]    abort    completion-timeout
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    timeout-abort
    Set Fake Libvirt Options    live_migration_completion_timeout=30
    Set Guest Workload    ${server}    dirty_rate=200    working_set=1024
    Start Live Migration    ${server}    ${target}
    Wait Until Migration Of Server Is    ${server}    cancelled    timeout=5 min
    Migration Of Server Should Have Ended By    ${server}    cancelled
    Migration Should Have Rolled Back    ${server}    ${source}

Completion Timeout With Force Complete Finishes The Guest Paused
    [Documentation]    With `live_migration_timeout_action=force_complete` and no post-copy
    ...    Nova pauses the guest at the timeout: nothing is dirtied any more, the copy
    ...    ends and the server is ACTIVE on the target. The pause is the downtime (~10.7 s).
    [Tags]    force-complete    completion-timeout
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    timeout-pause
    Set Fake Libvirt Options    live_migration_completion_timeout=30
    ...    live_migration_timeout_action=force_complete
    Set Guest Workload    ${server}    dirty_rate=200    working_set=1024
    Live Migrate And Wait Until Completed    ${server}    ${target}
    Migration Of Server Should Have Ended By    ${server}    paused
    Migration Downtime Should Be Less Than    ${server}    11s
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Completion Timeout Switches To Post-Copy When Permitted
    [Documentation]    With post-copy permitted the timeout's force-complete switches the
    ...    guest to the destination (`running (post-copy)`) and pulls the rest: no pause.
    [Tags]    post-copy    completion-timeout
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    timeout-postcopy
    Set Fake Libvirt Options    live_migration_completion_timeout=30
    ...    live_migration_timeout_action=force_complete    live_migration_permit_post_copy=True
    Set Guest Workload    ${server}    dirty_rate=200    working_set=1024
    Start Live Migration    ${server}    ${target}    until=running (post-copy)
    Wait Until Migration Of Server Is    ${server}    completed
    Migration Of Server Should Have Ended By    ${server}    post-copy
    Migration Downtime Should Be Less Than    ${server}    1ms
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Test Forces A Busy Guest To Complete
    [Documentation]    A migration that would run until its timeout is force-completed by
    ...    the test 40 % into the first pass: Nova pauses the guest, which dirties nothing
    ...    more, so the copy ends one pass later; the guest stays paused until then.
    [Tags]    force-complete
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    force-busy
    Set Guest Workload    ${server}    dirty_rate=200    working_set=1024
    Start Live Migration    ${server}    ${target}
    Wait Until Migration Progress Reaches    ${server}    40
    Force Complete Migration Of Server    ${server}
    Wait Until Migration Of Server Is    ${server}    completed    timeout=60s
    Migration Of Server Should Have Ended By    ${server}    paused    max_iterations=2
    Migration Downtime Should Be Less Than    ${server}    25s
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}

Auto-Converge Lets A Moderately Busy Guest Finish
    [Documentation]    150 MiB/s on a 100 MiB/s link dirties all memory in every pass;
    ...    with auto-converge QEMU throttles the vCPUs (20 %, then +10 %) until the dirty
    ...    set fits, well before the 300 s timeout that otherwise aborts it.
    [Tags]    auto-converge
    ${server}    ${source}    ${target} =    Create Guest For Dynamics    auto-converge
    Set Fake Libvirt Options    live_migration_completion_timeout=150
    ...    live_migration_permit_auto_converge=True
    Set Guest Workload    ${server}    dirty_rate=150
    Live Migrate And Wait Until Completed    ${server}    ${target}
    ${dynamics} =    Migration Of Server Should Have Converged    ${server}
    Should Be True    ${dynamics}[throttle_percent] >= 20
    ...    msg=Converged without throttling (${dynamics}[throttle_percent] %).
    Live Migration Should Have Moved Server    ${server}    ${source}    ${target}


*** Keywords ***
Create Guest For Dynamics
    [Documentation]    One ACTIVE 2 GiB server, its host and another host to move it to.
    [Arguments]    ${name}
    ${server} =    Create Server    name=${name}    flavor=${FLAVOR_2GB}
    Wait Until Servers Are Active    ${server}
    ${source} =    Get Server Host    ${server}
    ${target} =    Get Other Compute Host    ${server}
    RETURN    ${server}    ${source}    ${target}
