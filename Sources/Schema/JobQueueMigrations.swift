public import Persistence

/// The job queue's migrations, versions 100 and up: the `jobs` table and the `periodic_runs` ledger.
///
/// ## States
/// `scheduled` (run_at in the future: delayed jobs, retries waiting for their backoff, snoozed jobs) →
/// `available` (ready) → `running` (leased by one worker) → `succeeded`, `dead` (out of attempts or failed
/// permanently) or `cancelled`. A running job goes back to `available`/`scheduled` on retry, snooze, release at
/// shutdown and lease expiry.
///
/// Future jobs live in their own state so the claim index holds only runnable rows: with one mixed index, a claim
/// on a short queue would walk every future row of every priority (PostgreSQL 15 has no B-tree skip scan). Runners
/// promote due `scheduled` rows to `available` with one statement, woken by a timer armed for the next `run_at`.
///
/// ## Indexes
/// Each index covers only the rows its one query reads, so finished rows (the bulk of the table between prunes)
/// stay out of every hot index:
/// - `jobs_claim_idx` — the claim: `queue = $1 ORDER BY priority, run_at, id` over `available` rows;
/// - `jobs_scheduled_idx` — promotion of due rows and the `min(run_at)` the runners' timers are armed from;
/// - `jobs_lease_idx` — the rescuer's scan for expired leases;
/// - `jobs_unique_key_idx` — deduplication of unfinished jobs;
/// - `jobs_finished_idx` — the pruner and dead-job counts.
///
/// `fillfactor = 85` leaves room on each page so the new version of an updated row (claim, heartbeat, completion)
/// usually lands on the same page. The state changes themselves cannot be HOT updates (partial-index predicates
/// read `state`), but same-page updates keep the heap compact between vacuums.
public enum JobQueueMigrations {
    /// Every job-queue migration in version order.
    public static let all: [Migration] = [jobs, workers, autovacuum]

    static let jobs = Migration(
        version: 100,
        name: "jobs",
        sql: """
            CREATE TABLE jobs (
                id bigserial PRIMARY KEY,
                kind text NOT NULL CONSTRAINT jobs_kind_check CHECK (kind <> '' AND length(kind) <= 100),
                queue text NOT NULL DEFAULT 'default'
                    CONSTRAINT jobs_queue_check CHECK (queue <> '' AND length(queue) <= 100),
                state text NOT NULL DEFAULT 'available'
                    CONSTRAINT jobs_state_check
                    CHECK (state IN ('scheduled', 'available', 'running', 'succeeded', 'dead', 'cancelled')),
                priority smallint NOT NULL DEFAULT 0,
                payload jsonb NOT NULL DEFAULT '{}',
                attempts integer NOT NULL DEFAULT 0 CONSTRAINT jobs_attempts_check CHECK (attempts >= 0),
                -- NULL: the limit registered for the kind, else the runner's default.
                max_attempts integer CONSTRAINT jobs_max_attempts_check CHECK (max_attempts >= 1),
                run_at timestamptz NOT NULL DEFAULT now(),
                locked_by text,
                lease_expires_at timestamptz,
                last_error text,
                unique_key text CONSTRAINT jobs_unique_key_check CHECK (unique_key <> ''),
                created_at timestamptz NOT NULL DEFAULT now(),
                attempted_at timestamptz,
                finished_at timestamptz,
                CONSTRAINT jobs_running_lease_check
                    CHECK ((state = 'running') = (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
                CONSTRAINT jobs_finished_check
                    CHECK ((state IN ('succeeded', 'dead', 'cancelled')) = (finished_at IS NOT NULL))
            ) WITH (fillfactor = 85);

            CREATE INDEX jobs_claim_idx ON jobs (queue, priority, run_at, id) WHERE state = 'available';
            CREATE INDEX jobs_scheduled_idx ON jobs (run_at) WHERE state = 'scheduled';
            CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
            CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (unique_key)
                WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running');
            CREATE INDEX jobs_finished_idx ON jobs (state, finished_at)
                WHERE state IN ('succeeded', 'dead', 'cancelled');

            -- One row per periodic job and period: its primary key makes the enqueue of a period happen once across
            -- every worker, even after the period's job finished and left jobs_unique_key_idx.
            CREATE TABLE periodic_runs (
                name text NOT NULL,
                period_start timestamptz NOT NULL,
                enqueued_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (name, period_start)
            );
            """
    )

    /// The live workers and the kinds they run, so the sampler can count ready jobs no live worker runs (during a
    /// rolling deploy a new kind meets old workers, which leave it untouched). Each worker's sampler refreshes its
    /// row every sample and forgets rows not refreshed for an hour.
    static let workers = Migration(
        version: 101,
        name: "job_workers",
        sql: """
            CREATE TABLE job_workers (
                worker_id text PRIMARY KEY,
                queue text NOT NULL,
                kinds text[] NOT NULL,
                seen_at timestamptz NOT NULL DEFAULT now()
            );
            """
    )

    /// Autovacuum settings of the hot table, which churns thousands of rows a second: the server's defaults (vacuum
    /// after 20% of the table changed, analyze after 10%) let dead rows pile up for minutes on a large table. Here a
    /// vacuum is due after 10,000 dead rows or 50,000 inserts whatever the table's size, runs without cost-based
    /// sleeps (it is short when frequent), and statistics follow after 50,000 changed rows. Autovacuum still looks
    /// at the database only every `autovacuum_naptime` (server-wide, default 60 s); the runner's claim floor keeps
    /// claims independent of the dead entries in between (see the runner's `ClaimFloor`).
    static let autovacuum = Migration(
        version: 102,
        name: "jobs_autovacuum",
        sql: """
            ALTER TABLE jobs SET (
                autovacuum_vacuum_scale_factor = 0,
                autovacuum_vacuum_threshold = 10000,
                autovacuum_vacuum_insert_scale_factor = 0,
                autovacuum_vacuum_insert_threshold = 50000,
                autovacuum_analyze_scale_factor = 0,
                autovacuum_analyze_threshold = 50000,
                autovacuum_vacuum_cost_delay = 0
            );
            """
    )
}
