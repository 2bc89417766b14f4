/// Every SQL statement of the job queue, in one place. Values always travel as `$n` binds; arrays travel as one
/// bind each and are expanded with `unnest`, so a batch of any size is one statement. Empty strings and zeros in
/// array binds stand for NULL (the client's array binds carry no NULL elements).
///
/// Plans must stay good as prepared statements, whose generic plans guess 10 rows for every array bind, and as
/// custom plans, whose guesses come from statistics that rarely see `running` rows:
/// - The claim finds its rows with `id = ANY (ARRAY(…))`, a primary-key lookup (joined to the CTE alone, the
///   planner may hash-join against a sequential scan of the whole table: 4 ms of a 5 ms claim on 20,000 rows).
/// - Batches with per-row values (completions, heartbeats) join nothing: `jobs.id = ANY ($1)` finds the rows in
///   the primary key, and each row finds its values at its id's position in `$1` by binary search
///   (`width_bucket(jobs.id, $1)`; the client sends ids ascending and unique) in arrays of fixed-width elements
///   (constant-time subscripts). A join with `unnest(…)` let both plan kinds nest a loop over the whole batch
///   inside a scan of `jobs`: quadratic, measured 270 ms to 10 s instead of 9 ms for 1,000 completions. Their
///   guard says `locked_by = $w AND lease_expires_at IS NOT NULL`, which `jobs_running_lease_check` makes
///   equivalent to `state = 'running' AND locked_by = $w`, so no plan can start from `jobs_lease_idx`.
///
package enum JobSQL {
    /// The states whose unique keys deduplicate (must match `jobs_unique_key_idx`'s predicate exactly).
    static let liveStates = "('scheduled', 'available', 'running')"

    /// "No value" in the µs arrays of ``enqueue`` and ``enqueuePlain`` (`Int64.min`).
    static let noMicroseconds = "(-9223372036854775807 - 1)"

    /// The rows of an enqueue batch. Binds: kinds, queues, payloads, priorities, run_at (µs since the epoch),
    /// delays (µs), max_attempts (0: none), unique keys ('' none; keyed statement only), as arrays of equal
    /// length; µs values ``noMicroseconds`` are unset.
    private static func enqueueInput(keyed: Bool) -> String {
        let uniqueKey = keyed ? "NULLIF(i.unique_key, '') AS unique_key, " : ""
        let uniqueKeyArray = keyed ? ", $8::text[]" : ""
        let uniqueKeyColumn = keyed ? ", unique_key" : ""
        return """
            SELECT i.kind, i.queue, i.payload::jsonb AS payload, i.priority::int2 AS priority,
                    CASE
                        WHEN i.run_at_us <> \(noMicroseconds) THEN to_timestamp(i.run_at_us / 1e6::float8)
                        WHEN i.delay_us <> \(noMicroseconds)
                        THEN now() + make_interval(secs => i.delay_us / 1e6::float8)
                        ELSE now()
                    END AS run_at,
                    NULLIF(i.max_attempts, 0)::int4 AS max_attempts, \(uniqueKey)i.ord
                FROM unnest(
                    $1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[]\(uniqueKeyArray)
                ) WITH ORDINALITY
                    AS i(kind, queue, payload, priority, run_at_us, delay_us, max_attempts\(uniqueKeyColumn), ord)
            """
    }

    /// One NOTIFY per queue for the rows of `inserted`. Bind: `$n`, the channel.
    private static func notifyInserted(channel: String) -> String {
        """
        SELECT pg_notify(\(channel), json_build_object(
                'queue', queue,
                'available', count(*) FILTER (WHERE state = 'available'),
                'scheduled', count(*) FILTER (WHERE state = 'scheduled'),
                'priority', min(priority) FILTER (WHERE state = 'available'),
                'run_at', extract(epoch FROM min(run_at) FILTER (WHERE state = 'available')),
                'requeued', bool_or(state = 'available' AND run_at < now()))::text)
            FROM inserted
            GROUP BY queue
        """
    }

    /// Inserts a batch, skipping rows whose unique key an unfinished job holds; one NOTIFY per queue.
    ///
    /// Binds: the eight arrays of the input (see `enqueueInput`), channel.
    static let enqueue = """
        WITH input AS (
            \(enqueueInput(keyed: true))
        ),
        inserted AS (
            INSERT INTO jobs (kind, queue, payload, priority, run_at, state, max_attempts, unique_key)
            SELECT kind, queue, payload, priority, run_at,
                CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END, max_attempts, unique_key
            FROM input
            ORDER BY ord
            ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN \(liveStates) DO NOTHING
            RETURNING id, queue, state, unique_key, priority, run_at
        ),
        notified AS (
            \(notifyInserted(channel: "$9"))
        )
        SELECT id, unique_key, (SELECT count(*) FROM notified) AS notifications FROM inserted
        """

    /// ``enqueue`` for batches without unique keys (the bulk path): a plain INSERT, without the arbiter index's
    /// speculative insertion per row. Rows take ids from the sequence in input order, so one row comes back: the
    /// first id and the count, plus every id (unordered) only when other inserts took ids in between.
    ///
    /// Binds: the first seven arrays of the input (see `enqueueInput`), channel.
    static let enqueuePlain = """
        WITH input AS (
            \(enqueueInput(keyed: false))
        ),
        inserted AS (
            INSERT INTO jobs (kind, queue, payload, priority, run_at, state, max_attempts)
            SELECT kind, queue, payload, priority, run_at,
                CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END, max_attempts
            FROM input
            ORDER BY ord
            RETURNING id, queue, state, priority, run_at
        ),
        notified AS (
            \(notifyInserted(channel: "$8"))
        )
        SELECT min(id) AS first_id, count(*) AS inserted,
            CASE WHEN max(id) - min(id) + 1 <> count(*) THEN array_agg(id) END AS ids,
            (SELECT count(*) FROM notified) AS notifications
        FROM inserted
        """

    /// The unfinished jobs holding some unique keys. Binds: keys.
    static let existingUnique = """
        SELECT id, unique_key FROM jobs
        WHERE unique_key = ANY ($1::text[]) AND unique_key IS NOT NULL AND state IN \(liveStates)
        """

    /// Claims up to `$3` ready jobs of queue `$1` in priority order, skipping rows other workers hold and kinds
    /// this runner does not start now (not registered here: left untouched for a worker that runs them, as during a
    /// rolling deploy; or at their concurrency limit), unless the queue is in `paused_queues` (a one-time
    /// primary-key lookup). Times come back as epoch seconds (cheaper to decode than timestamp text on this hot
    /// path).
    ///
    /// Rows are taken from the floor key `(priority, run_at) >= ($6, $7)` on (see `ClaimFloor`): an index condition, so
    /// the scan starts there instead of walking the dead entries of jobs claimed before (which a held snapshot keeps
    /// by the million).
    ///
    /// Binds: queue, the kinds to claim, limit, worker id, lease seconds, floor priority, floor run_at (epoch s).
    package static let claim = """
        WITH candidates AS (
            SELECT id FROM jobs
            WHERE state = 'available' AND queue = $1 AND run_at <= now() AND kind = ANY ($2::text[])
                AND (priority, run_at) >= ($6::int2, to_timestamp($7::float8))
                AND NOT EXISTS (SELECT 1 FROM paused_queues WHERE paused_queues.queue = $1) -- pause (issue 14)
            ORDER BY priority, run_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        )
        UPDATE jobs SET
            state = 'running',
            attempts = jobs.attempts + 1,
            locked_by = $4,
            lease_expires_at = now() + make_interval(secs => $5::float8),
            attempted_at = now()
        WHERE jobs.id = ANY (ARRAY(SELECT id FROM candidates))
        RETURNING jobs.id, jobs.kind, jobs.queue, jobs.priority, jobs.payload, jobs.attempts, jobs.max_attempts,
            extract(epoch FROM jobs.run_at)::float8 AS run_at_epoch,
            extract(epoch FROM jobs.created_at)::float8 AS created_at_epoch,
            jobs.unique_key, greatest(extract(epoch FROM now() - jobs.run_at), 0)::float8 AS wait_seconds,
            jobs.releases
        """

    /// The smallest `(priority, run_at)` of the ready jobs of queue `$1` and kinds `$2` below the floor
    /// `($3, $4)` (see `ClaimFloorTracker`): a read, no lock, no row when there is none. It walks the claim index
    /// from the front to the first ready row or the floor, dead entries included.
    ///
    /// Binds: queue, kinds, floor priority, floor run_at (epoch s).
    static let probeBelowFloor = """
        SELECT priority, extract(epoch FROM run_at)::float8 AS run_at_epoch FROM jobs
        WHERE state = 'available' AND queue = $1 AND run_at <= now() AND kind = ANY ($2::text[])
            AND (priority, run_at) < ($3::int2, to_timestamp($4::float8))
        ORDER BY priority, run_at, id
        LIMIT 1
        """

    /// The position of a row's id in the ascending id array `$1` (see the type's notes).
    private static let slot = "width_bucket(jobs.id, $1::int8[])"

    /// The states a completion writes, by code (1-based, as ``complete``'s `$3` carries them).
    static let completionStates = ["succeeded", "dead", "cancelled", "scheduled", "available"]

    /// Records finished attempts; each row only while this worker still holds that attempt's lease; an attempt
    /// that did not succeed and carries an error is appended to `errors`. Returns one row: the ids it updated, as
    /// an array (NULL for none).
    ///
    /// Binds (arrays aligned with the ids): ids (ascending, unique), attempts, new state codes (1-based into
    /// ``completionStates``), attempts given back (0 none, 1 given back, 2 given back by a release at shutdown,
    /// which also counts in `releases`), delays in µs until the next `run_at` (-1 keeps
    /// `run_at`), errors ('' keeps `last_error`; read only for rows that did not succeed); then worker id, channel.
    package static let complete = """
        WITH updated AS (
            UPDATE jobs SET
                state = (ARRAY['\(completionStates.joined(separator: "', '"))'])[($3::int8[])[\(slot)]],
                attempts = jobs.attempts - least(($4::int8[])[\(slot)], 1),
                releases = jobs.releases + (($4::int8[])[\(slot)] / 2)::int4,
                run_at = CASE
                    WHEN ($5::int8[])[\(slot)] >= 0
                    THEN now() + make_interval(secs => ($5::int8[])[\(slot)] / 1e6::float8)
                    ELSE jobs.run_at
                END,
                finished_at = CASE WHEN ($3::int8[])[\(slot)] <= 3 THEN now() END,
                last_error = CASE
                    WHEN ($3::int8[])[\(slot)] = 1 THEN jobs.last_error
                    ELSE coalesce(NULLIF(($6::text[])[\(slot)], ''), jobs.last_error)
                END,
                errors = CASE
                    WHEN ($3::int8[])[\(slot)] = 1 OR ($6::text[])[\(slot)] = '' THEN jobs.errors
                    ELSE jobs.errors || jsonb_build_array(jsonb_build_object(
                        'attempt', jobs.attempts, 'at', extract(epoch FROM now()), 'error', ($6::text[])[\(slot)]))
                END,
                locked_by = NULL,
                lease_expires_at = NULL
            WHERE jobs.id = ANY ($1::int8[]) AND jobs.attempts = ($2::int8[])[\(slot)]
                AND jobs.locked_by = $7 AND jobs.lease_expires_at IS NOT NULL
            RETURNING jobs.id, jobs.queue, jobs.state
        ),
        notified AS (
            SELECT pg_notify($8, json_build_object(
                'queue', queue,
                'available', count(*) FILTER (WHERE state = 'available'),
                'scheduled', count(*) FILTER (WHERE state = 'scheduled'),
                'requeued', true)::text)
            FROM updated
            WHERE state IN ('available', 'scheduled')
            GROUP BY queue
        )
        SELECT array_agg(id) AS ids, (SELECT count(*) FROM notified) AS notifications FROM updated
        """

    /// Extends the leases of this worker's running attempts; returns the ones it still holds (one row, an array).
    ///
    /// Binds: ids (ascending, unique), attempts (arrays), lease seconds, worker id.
    static let heartbeat = """
        WITH renewed AS (
            UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8)
            WHERE jobs.id = ANY ($1::int8[]) AND jobs.attempts = ($2::int8[])[\(slot)]
                AND jobs.locked_by = $4 AND jobs.lease_expires_at IS NOT NULL
            RETURNING jobs.id
        )
        SELECT array_agg(id) AS ids FROM renewed
        """

    /// Gives back the jobs `$1` holds that it does not know of (`$2`: every attempt it runs or has yet to write):
    /// claimed by a statement whose answer was lost with its connection. No handler ran for them, so their attempt
    /// is given back. Only valid while no claim of `$1` is in flight. Returns the ids (one row, an array).
    ///
    /// Binds: worker id, known ids, channel.
    static let releaseOrphans = """
        WITH released AS (
            UPDATE jobs SET state = 'available', attempts = jobs.attempts - 1, locked_by = NULL,
                lease_expires_at = NULL
            WHERE jobs.state = 'running' AND jobs.locked_by = $1 AND jobs.id <> ALL ($2::int8[])
            RETURNING jobs.id, jobs.queue
        ),
        notified AS (
            SELECT pg_notify($3, json_build_object(
                'queue', queue, 'available', count(*), 'scheduled', 0, 'requeued', true)::text)
            FROM released
            GROUP BY queue
        )
        SELECT array_agg(id) AS ids, (SELECT count(*) FROM notified) AS notifications FROM released
        """

    /// Makes due scheduled jobs available (one NOTIFY per queue) and reports when the next one is due.
    ///
    /// Each notification carries the smallest `priority` and `run_at` it made ready, taken apart (as an enqueue's
    /// does), so runners lower their claim floors to where the promoted rows start without a probe (see
    /// `ClaimFloor`); the same key for queue `$3` comes back in the result row (`floor_priority`, `floor_run_at`;
    /// NULL when none of that queue was promoted).
    ///
    /// Binds: limit, channel, queue.
    static let promote = """
        WITH due AS (
            SELECT id FROM jobs
            WHERE state = 'scheduled' AND run_at <= now()
            ORDER BY run_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ),
        promoted AS (
            UPDATE jobs SET state = 'available' WHERE jobs.id = ANY (ARRAY(SELECT id FROM due))
            RETURNING jobs.queue, jobs.priority, jobs.run_at
        ),
        notified AS (
            SELECT pg_notify($2, json_build_object(
                'queue', queue, 'available', count(*), 'scheduled', 0,
                'priority', min(priority), 'run_at', extract(epoch FROM min(run_at)))::text)
            FROM promoted
            GROUP BY queue
        )
        SELECT
            (SELECT count(*) FROM promoted) AS promoted,
            (SELECT count(*) FROM notified) AS notifications,
            (SELECT min(priority) FROM promoted WHERE queue = $3)::int8 AS floor_priority,
            (SELECT extract(epoch FROM min(run_at)) FROM promoted WHERE queue = $3)::float8 AS floor_run_at,
            (SELECT extract(epoch FROM min(run_at) - clock_timestamp()) FROM jobs
                WHERE state = 'scheduled' AND run_at > now())::float8 AS next_due_seconds
        """

    /// Returns running jobs whose lease lapsed to `available` (the attempt stays spent), or `dead` when that was
    /// their last attempt, among leases from `$6` (epoch s; see `RescueFloor`) on. Always returns one row at least,
    /// with the statement's time (`scanned_at`, epoch s); its job columns are NULL when none was taken.
    ///
    /// Binds: limit, kinds, their max attempts (arrays), default max attempts, channel, floor.
    static let rescue = """
        WITH limits AS (
            SELECT * FROM unnest($2::text[], $3::int8[]) AS l(kind, max_attempts)
        ),
        expired AS (
            SELECT j.id, j.attempts >= coalesce(j.max_attempts, l.max_attempts, $4) AS exhausted
            FROM jobs j
            LEFT JOIN limits l ON l.kind = j.kind
            WHERE j.state = 'running' AND j.lease_expires_at < now()
                AND j.lease_expires_at >= to_timestamp($6::float8)
            ORDER BY j.lease_expires_at
            LIMIT $1
            FOR UPDATE OF j SKIP LOCKED
        ),
        rescued AS (
            UPDATE jobs SET
                state = CASE WHEN expired.exhausted THEN 'dead' ELSE 'available' END,
                finished_at = CASE WHEN expired.exhausted THEN now() END,
                last_error = 'lease expired: worker ' || jobs.locked_by || ' stopped renewing attempt '
                    || jobs.attempts || ' (crashed, stalled or cut off from the database)',
                errors = jobs.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', jobs.attempts, 'at', extract(epoch FROM now()), 'error', 'lease expired: worker ' || jobs.locked_by
                    || ' stopped renewing the attempt')),
                locked_by = NULL,
                lease_expires_at = NULL
            FROM expired
            WHERE jobs.id = ANY (ARRAY(SELECT id FROM expired)) AND jobs.id = expired.id
            RETURNING jobs.id, jobs.kind, jobs.queue, jobs.state
        ),
        notified AS (
            SELECT pg_notify($5, json_build_object(
                'queue', queue, 'available', count(*), 'scheduled', 0, 'requeued', true)::text)
            FROM rescued
            WHERE state = 'available'
            GROUP BY queue
        )
        SELECT rescued.id, rescued.kind, rescued.state, (SELECT count(*) FROM notified) AS notifications,
            extract(epoch FROM now())::float8 AS scanned_at
        FROM (SELECT 1) AS statement LEFT JOIN rescued ON true
        """

    /// Deletes a batch of succeeded and cancelled jobs finished before the cutoff. Binds: age (s), limit.
    static let pruneCompleted = """
        DELETE FROM jobs WHERE id IN (
            SELECT id FROM jobs
            WHERE state IN ('succeeded', 'cancelled') AND finished_at < now() - make_interval(secs => $1::float8)
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        """

    /// Deletes a batch of dead jobs finished before the cutoff. Binds: age (s), limit.
    static let pruneDead = """
        DELETE FROM jobs WHERE id IN (
            SELECT id FROM jobs
            WHERE state = 'dead' AND finished_at < now() - make_interval(secs => $1::float8)
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        """

    /// Forgets periodic periods older than the cutoff. Binds: age (s).
    static let prunePeriodicRuns = """
        DELETE FROM periodic_runs WHERE period_start < now() - make_interval(secs => $1::float8)
        """

    /// Enqueues the job of one period unless some worker already did.
    ///
    /// Binds: name, period start (epoch s), kind, queue, payload, priority, max_attempts, unique key, channel.
    static let enqueuePeriodic = """
        WITH run AS (
            INSERT INTO periodic_runs (name, period_start) VALUES ($1, to_timestamp($2::float8))
            ON CONFLICT DO NOTHING
            RETURNING name
        ),
        job AS (
            INSERT INTO jobs (kind, queue, payload, priority, max_attempts, unique_key)
            SELECT $3, $4, $5::jsonb, $6::int2, $7::int4, $8 FROM run
            RETURNING id, queue, priority, run_at
        ),
        notified AS (
            SELECT pg_notify($9, json_build_object(
                'queue', queue, 'available', 1, 'scheduled', 0, 'priority', priority,
                'run_at', extract(epoch FROM run_at))::text) FROM job
        )
        SELECT (SELECT id FROM job) AS id, (SELECT count(*) FROM notified) AS notifications
        """

    /// A recursive CTE `heads (queue, priority, run_at)`, for `WITH RECURSIVE`: the head (smallest `run_at`) of the
    /// ready jobs of each queue and priority, by a skip scan of `jobs_claim_idx` (one index descent per queue and
    /// priority) instead of a walk over every ready job's entry (a backlog can be the whole table).
    package static let readyHeads = """
        heads AS (
            (SELECT queue, priority, run_at FROM jobs WHERE state = 'available'
                ORDER BY queue, priority, run_at LIMIT 1)
            UNION ALL
            SELECT next.* FROM heads, LATERAL (
                SELECT jobs.queue, jobs.priority, jobs.run_at FROM jobs
                WHERE jobs.state = 'available' AND (jobs.queue, jobs.priority) > (heads.queue, heads.priority)
                ORDER BY jobs.queue, jobs.priority, jobs.run_at LIMIT 1) AS next
        )
        """

    /// Queue depth of the unfinished states and dead jobs, and the age of the oldest ready job (``readyHeads``);
    /// every part is read from a partial index.
    private static let depthColumns = """
        (SELECT count(*) FROM jobs WHERE state = 'scheduled') AS scheduled,
            (SELECT count(*) FROM jobs WHERE state = 'available') AS available,
            (SELECT count(*) FROM jobs WHERE state = 'running') AS running,
            (SELECT count(*) FROM jobs WHERE state = 'dead') AS dead,
            (WITH RECURSIVE \(readyHeads)
            SELECT greatest(extract(epoch FROM now() - min(run_at)), 0) FROM heads)::float8 AS oldest_ready_seconds
        """

    /// ``depthColumns`` alone (for `slot-worker jobs status`).
    static let depth = "SELECT \(depthColumns)"

    /// ``depthColumns``, and the ready jobs older than `$5` s whose kind no live worker runs (among the first 50,000
    /// such jobs). That count is read only when the oldest ready job is older than `$5` s: a healthy queue has none,
    /// and the scan (of the whole claim index, `run_at` is not its leading column) is skipped. Refreshes this
    /// worker's row in `job_workers` first; live workers are those seen in the last `$4` s, plus this one; rows
    /// unseen for an hour are deleted.
    ///
    /// Binds: worker id, queue, kinds (this worker's), live window (s), age (s).
    static let sample = """
        WITH registered AS (
            INSERT INTO job_workers (worker_id, queue, kinds, seen_at) VALUES ($1, $2, $3::text[], now())
            ON CONFLICT (worker_id) DO UPDATE SET queue = EXCLUDED.queue, kinds = EXCLUDED.kinds, seen_at = now()
        ),
        forgotten AS (
            DELETE FROM job_workers WHERE seen_at < now() - interval '1 hour' AND worker_id <> $1
        ),
        live AS (
            \(liveKinds(within: "$4"))
            UNION
            SELECT $2, unnest($3::text[])
        )
        SELECT depth.*,
            CASE WHEN depth.oldest_ready_seconds > $5::float8 THEN (SELECT count(*) FROM (
                SELECT queue, kind FROM jobs
                WHERE state = 'available' AND run_at < now() - make_interval(secs => $5::float8)
                LIMIT 50000
            ) old WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.queue = old.queue AND live.kind = old.kind))
            ELSE 0 END AS unrunnable
        FROM (SELECT \(depthColumns) OFFSET 0) AS depth -- a fence: the skip scan runs once, not again for the CASE
        """

    /// The age of the oldest transaction or snapshot pinning the xmin horizon (what keeps VACUUM from removing dead
    /// rows) from `pg_stat_activity` and prepared transactions, and what holds it without a readable start, for
    /// ``HorizonWatch``: sessions whose start is hidden from this role (other roles' sessions without
    /// `pg_read_all_stats`: their `backend_xmin` shows, their `xact_start` does not) and replication slots with an
    /// `xmin` (a standby's feedback, kept while the standby is away), as `pid N` or `slot NAME` with the xmin.
    ///
    /// Counted: sessions of this database and sessions of none (a walsender's standby feedback holds every
    /// database's horizon); sessions of other databases hold only their own (and shared catalogs'), and autovacuum
    /// workers' snapshots are ignored by other vacuums. A logical slot's `catalog_xmin` holds only the catalogs.
    /// Binds: none.
    static let horizon = """
        WITH holders AS (
            SELECT 'pid ' || pid AS holder, coalesce(xact_start, query_start) AS since,
                coalesce(backend_xmin, backend_xid)::text::int8 AS xmin
            FROM pg_stat_activity
            WHERE (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid()
                AND backend_type IS DISTINCT FROM 'autovacuum worker'
                AND (datname IS NULL OR datname = current_database())
            UNION ALL
            SELECT 'slot ' || slot_name, NULL, xmin::text::int8 FROM pg_replication_slots WHERE xmin IS NOT NULL
        )
        SELECT greatest(
                (SELECT extract(epoch FROM now() - min(since)) FROM holders),
                (SELECT extract(epoch FROM now() - min(prepared)) FROM pg_prepared_xacts),
                0)::float8 AS horizon_seconds,
            (SELECT array_agg(holder ORDER BY holder) FROM holders WHERE since IS NULL) AS hidden_holders,
            (SELECT array_agg(xmin ORDER BY holder) FROM holders WHERE since IS NULL) AS hidden_xmins
        """

    /// One row per queue table: its dead and live tuples, size (heap and TOAST; its indexes) and seconds since its
    /// last vacuum or autovacuum (since the server started when never). Binds: none.
    static let tableStats = """
        SELECT c.relname AS name, coalesce(s.n_dead_tup, 0) AS dead_tuples, coalesce(s.n_live_tup, 0) AS live_tuples,
            pg_table_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS index_bytes,
            extract(epoch FROM now() - coalesce(
                greatest(s.last_vacuum, s.last_autovacuum), pg_postmaster_start_time()))::float8 AS vacuum_age_seconds
        FROM pg_class c
        LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.oid IN (to_regclass('jobs'), to_regclass('periodic_runs'), to_regclass('job_workers'))
        ORDER BY c.relname
        """

    /// The (queue, kind) pairs of the workers registered in `job_workers` within the last `bind` seconds (a bind
    /// placeholder such as `$4`): the kinds live workers run.
    private static func liveKinds(within bind: String) -> String {
        """
        SELECT w.queue, k.kind FROM job_workers w, unnest(w.kinds) AS k(kind)
            WHERE w.seen_at >= now() - make_interval(secs => \(bind)::float8)
        """
    }

    /// Ready jobs by queue and kind that no live worker runs: none registered that kind for that queue in
    /// `job_workers` within the last `$1` s (a scan of the ready jobs: for operators, not for metrics).
    ///
    /// Binds: live window (s).
    static let unrunnableByKind = """
        WITH live AS (\(liveKinds(within: "$1")))
        SELECT queue, kind, count(*) AS jobs FROM jobs
        WHERE state = 'available' AND NOT EXISTS (SELECT 1 FROM live WHERE live.queue = jobs.queue AND live.kind = jobs.kind)
        GROUP BY queue, kind ORDER BY queue, kind
        """

    /// Job counts by kind and state (a full scan: for operators, not for metrics).
    static let countsByKindAndState = """
        SELECT kind, state, count(*) AS jobs FROM jobs GROUP BY kind, state ORDER BY kind, state
        """

    /// Makes a dead or cancelled job available again with a fresh set of attempts. `attempts` is never lowered (it
    /// is the fencing token of completions and heartbeats: a stale worker's late completion of attempt 1 must not
    /// land on the retried run's attempt 1); the job gets its kind's limit of attempts on top of those spent.
    ///
    /// Binds: id, channel, kinds, their max attempts (arrays), default max attempts.
    static let retry = """
        WITH retried AS (
            UPDATE jobs SET state = 'available', run_at = now(), finished_at = NULL,
                max_attempts = jobs.attempts + coalesce(
                    (SELECT l.max_attempts FROM unnest($3::text[], $4::int8[]) AS l(kind, max_attempts)
                        WHERE l.kind = jobs.kind),
                    $5)
            WHERE id = $1 AND state IN ('dead', 'cancelled')
            RETURNING *
        ),
        notified AS (
            SELECT pg_notify($2, json_build_object(
                'queue', queue, 'available', 1, 'scheduled', 0, 'requeued', true)::text)
            FROM retried
        )
        SELECT retried.*, (SELECT count(*) FROM notified) AS notifications FROM retried
        """

    /// One job's state. Binds: id.
    static let stateOf = "SELECT state FROM jobs WHERE id = $1"

    /// Locks one job and reads its state (first step of a cancel). Binds: id.
    static let lockState = "SELECT state FROM jobs WHERE id = $1 FOR UPDATE"

    /// Cancels one unfinished job (second step of a cancel). Binds: id, reason.
    static let cancel = """
        UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL, lease_expires_at = NULL,
            last_error = coalesce($2, last_error)
        WHERE id = $1 AND state IN \(liveStates)
        """

    /// Tells the worker running a job that it was cancelled. Binds: channel, payload.
    static let notify = "SELECT pg_notify($1, $2)"
}
