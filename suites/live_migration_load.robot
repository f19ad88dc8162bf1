*** Settings ***
Documentation    Live migration under load, as Rally's `boot_and_live_migrate_server`: many
...              iterations of create -> ACTIVE -> live-migrate -> completed -> delete run at
...              once, and the run must meet its SLA: no failed iteration and bounded
...              migration times. The log shows every iteration, the per-phase statistics
...              and the migrations on one time axis.

Resource         ../resources/livemig.resource

Test Teardown    Delete Created Resources

Test Tags        live-migration    load    concurrency


*** Variables ***
# Iterations and concurrency of the load; the project's quota must allow CONCURRENCY servers.
${ITERATIONS}                 8
${CONCURRENCY}                4
# SLA: slowest live migration, its slowest memory copy and slowest create accepted.
${MAX_MIGRATION_TIME}         2 min
${MAX_RUNNING_TIME}           90s
${MAX_CREATE_TIME}            5 min


*** Test Cases ***
Boot And Live Migrate Servers Under Load Within The SLA
    [Documentation]    Every iteration must pass (failure rate 0%), every create and
    ...    live migration must end within the SLA (the run's statistics, and each migration's
    ...    own record), and nothing of the run may be left behind.
    Require Usable Compute Hosts    2
    ${run} =    Run Live Migration Load    iterations=${ITERATIONS}    concurrency=${CONCURRENCY}
    Should Be Equal As Integers    ${run.phases.live_migration.count}    ${ITERATIONS}
    Load Run Should Meet SLA    ${run}    max_failure_rate=0%
    ...    live_migration_max=${MAX_MIGRATION_TIME}    create_max=${MAX_CREATE_TIME}
    Migrations Should Meet SLA    max_seconds=${MAX_MIGRATION_TIME}    running=${MAX_RUNNING_TIME}
    ...    max_failure_rate=0%
    No Server Of This Run Should Exist
