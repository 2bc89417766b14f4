/// The operator's statements (CLI and console): job lists, bulk actions, queue pauses, the worker registry.
/// Kept apart from ``JobSQL`` (the hot path). Every filter reads the binds of ``JobFilter`` as `$1`…`$4`.
public enum OperatorSQL {
    /// The filter condition on `jobs` (binds `$1` states, `$2` kind, `$3` queue, `$4` ids). Statements run as
    /// unnamed statements, planned with the values, so unused parts fold away.
    static let filter = """
        (cardinality($1::text[]) = 0 OR jobs.state = ANY ($1::text[]))
        AND ($2::text IS NULL OR jobs.kind = $2::text)
        AND ($3::text IS NULL OR jobs.queue = $3::text)
        AND (cardinality($4::int8[]) = 0 OR jobs.id = ANY ($4::int8[]))
        """

    /// The list columns of a job (the error clipped for lists).
    static let listColumns = """
        jobs.id, jobs.kind, jobs.queue, jobs.state, jobs.priority, jobs.attempts, jobs.max_attempts,
        jobs.run_at, jobs.created_at, jobs.attempted_at, jobs.finished_at, jobs.locked_by,
        left(jobs.last_error, 300) AS last_error
        """

    /// Newest first, keyset-paginated and bounded: ids in `[$7, $5)` (the page's scan window below its cursor), at
    /// most `$6` rows. The window bounds the rows read whatever the filter matches (kind and queue have no index on
    /// the hot table, and a state's share varies); see ``JobPage``.
    static let list = """
        SELECT \(listColumns) FROM jobs
        WHERE \(filter) AND jobs.id < $5::int8 AND jobs.id >= $7::int8
        ORDER BY jobs.id DESC
        LIMIT $6
        """

    /// The newest job's id (the first page's cursor), from the primary key.
    static let newestID = "SELECT max(jobs.id) AS id FROM jobs"

    /// The newest id below `$1` (where a search continues after an empty stretch of ids), from the primary key.
    static let newestIDBelow = "SELECT max(jobs.id) AS id FROM jobs WHERE jobs.id < $1::int8"

    /// One job with its attempt errors (as JSON text). Binds: id.
    static let show = "SELECT jobs.*, jobs.errors::text AS errors_json FROM jobs WHERE jobs.id = $1"

    /// Jobs matching the filter that an action may change (`$5`: eligible states), counted up to `$6`.
    static let countEligible = """
        SELECT count(*) AS jobs FROM (
            SELECT 1 FROM jobs WHERE \(filter) AND jobs.state = ANY ($5::text[]) LIMIT $6
        ) AS matching
        """

    /// The next batch of an action: eligible matching jobs with ids above the cursor `$6`, at most `$7`, locked.
    private static let batch = """
        candidates AS (
            SELECT jobs.id, jobs.state, jobs.unique_key FROM jobs
            WHERE \(filter) AND jobs.state = ANY ($5::text[]) AND jobs.id > $6::int8
            ORDER BY jobs.id
            LIMIT $7
            FOR UPDATE SKIP LOCKED
        )
        """

    /// Result columns every batch returns: how many it saw, the cursor for the next batch, how many it changed.
    private static let batchResult = """
        SELECT (SELECT count(*) FROM candidates) AS seen, (SELECT max(id) FROM candidates) AS cursor,
            (SELECT count(*) FROM changed) AS changed
        """

    /// Retries a batch: dead or cancelled jobs become available now with fresh attempts (`attempts` never
    /// decreases, it is the completion's fencing token: `max_attempts` becomes `attempts` plus the kind's limit). A
    /// job whose unique key an unfinished job holds (or that shares its key with an earlier job of the batch) is
    /// left as it is. Binds: filter, eligible states, cursor, limit, channel, kinds, their attempt limits, the
    /// default limit.
    static let retryBatch = """
        WITH \(batch),
        picked AS (
            SELECT DISTINCT ON (coalesce(c.unique_key, '#' || c.id)) c.id FROM candidates c
            WHERE c.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM jobs live WHERE live.unique_key = c.unique_key
                    AND live.state IN \(JobSQL.liveStates))
            ORDER BY coalesce(c.unique_key, '#' || c.id), c.id
        ),
        changed AS (
            UPDATE jobs SET state = 'available', run_at = now(), finished_at = NULL,
                max_attempts = jobs.attempts + coalesce(
                    (SELECT l.max_attempts FROM unnest($9::text[], $10::int8[]) AS l(kind, max_attempts)
                        WHERE l.kind = jobs.kind),
                    $11)
            WHERE jobs.id = ANY (ARRAY(SELECT id FROM picked))
            RETURNING jobs.id, jobs.queue
        ),
        notified AS (
            SELECT pg_notify($8, json_build_object('queue', queue, 'available', count(*), 'scheduled', 0)::text)
            FROM changed GROUP BY queue
        )
        \(batchResult), (SELECT count(*) FROM notified) AS notifications
        """

    /// Cancels a batch of unfinished jobs; workers running one of them are told by NOTIFY.
    /// Binds: filter, eligible states, cursor, limit, channel, reason.
    static let cancelBatch = """
        WITH \(batch),
        changed AS (
            UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL, lease_expires_at = NULL,
                last_error = coalesce($9::text, jobs.last_error)
            WHERE jobs.id = ANY (ARRAY(SELECT id FROM candidates))
            RETURNING jobs.id
        ),
        notified AS (
            SELECT pg_notify($8, json_build_object('cancel', c.id)::text)
            FROM changed JOIN candidates c USING (id) WHERE c.state = 'running'
        )
        \(batchResult), (SELECT count(*) FROM notified) AS notifications
        """

    /// Deletes a batch of jobs that are not running. Binds: filter, eligible states, cursor, limit.
    static let deleteBatch = """
        WITH \(batch),
        changed AS (
            DELETE FROM jobs WHERE jobs.id = ANY (ARRAY(SELECT id FROM candidates)) RETURNING jobs.id
        )
        \(batchResult)
        """

    /// Pauses a queue (idempotent). Binds: queue, who.
    static let pause = """
        INSERT INTO paused_queues (queue, paused_by) VALUES ($1, $2) ON CONFLICT (queue) DO NOTHING RETURNING queue
        """

    /// Resumes a queue and wakes its workers. Binds: queue, channel.
    static let resume = """
        WITH resumed AS (DELETE FROM paused_queues WHERE queue = $1 RETURNING queue),
        notified AS (
            SELECT pg_notify($2, json_build_object('queue', queue, 'available', 1, 'scheduled', 0)::text)
            FROM resumed
        )
        SELECT (SELECT count(*) FROM resumed) AS resumed, (SELECT count(*) FROM notified) AS notifications
        """

    /// Paused queues, oldest pause first.
    static let pausedQueues = "SELECT queue, paused_at, paused_by FROM paused_queues ORDER BY paused_at, queue"

    /// Registers or refreshes a worker. Binds: id, host, pid, queue, concurrency.
    static let heartbeatWorker = """
        INSERT INTO workers (id, host, pid, queue, concurrency) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), concurrency = excluded.concurrency
        """

    /// Forgets workers silent for longer than `$1` seconds (they stopped without unregistering).
    static let forgetSilentWorkers =
        "DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => $1::float8)"

    /// Unregisters a worker at shutdown. Binds: id.
    static let unregisterWorker = "DELETE FROM workers WHERE id = $1"
}
