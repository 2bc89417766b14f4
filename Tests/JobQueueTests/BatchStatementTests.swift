import Foundation
import JobQueue
import Persistence
import PostgresClient
import Testing

/// The batch statements on their own: completions and heartbeats find each row's values by binary search in the
/// ids they send, so order, duplicates and mixed outcomes must not matter; array binds travel in binary format.
@Suite("Batch statements")
struct BatchStatementTests {
    static let worker = "batch-worker"

    /// Enqueues `count` noop jobs and claims them all for ``worker``.
    static func claimed(_ count: Int, database: Database) async throws -> [ClaimedJob] {
        _ = try await JobQueueClient(database: database).enqueue((0..<count).map { _ in NewJob(kind: "noop") }).get()
        let jobs = try await database.withJobs {
            await $0.claim(queue: "default", limit: count, workerID: worker, lease: .seconds(60), kinds: ["noop"])
        }.get()
        #expect(jobs.count == count)
        return jobs
    }

    @Test("one completion batch applies each outcome to its own row, whatever the order of the batch")
    func mixedOutcomes() async throws {
        let database = try await makeDatabase()
        let jobs = try await Self.claimed(7, database: database).sorted { $0.id < $1.id }
        let outcomes: [(JobCompletion.Outcome, Duration?, String?)] = [
            (.succeeded, nil, nil),
            (.dead, nil, "broken for good"),
            (.cancelled, nil, "not wanted"),
            (.retry, .seconds(60), "try later"),
            (.retry, nil, "try now"),
            (.snooze, .seconds(30), nil),
            (.release, nil, nil),
        ]
        let completions = zip(jobs, outcomes).map { job, outcome in
            JobCompletion(id: job.id, attempt: job.attempt, outcome: outcome.0, delay: outcome.1, error: outcome.2)
        }
        // The statement's now() lies between these two instants (a loaded machine may stretch them apart).
        let before = Date().addingTimeInterval(-1)
        let updated = try await database.withJobs {
            await $0.complete(completions.reversed(), workerID: Self.worker)
        }.get()
        let after = Date().addingTimeInterval(1)
        #expect(Set(updated) == Set(jobs.map(\.id)))

        let rows = try await jobs.asyncMap { try await database.job($0.id) }
        let expected: [(JobState, Int, String?, Bool)] = [
            (.succeeded, 1, nil, true),
            (.dead, 1, "broken for good", true),
            (.cancelled, 1, "not wanted", true),
            (.scheduled, 1, "try later", false),
            (.available, 1, "try now", false),
            (.scheduled, 0, nil, false),
            (.available, 0, nil, false),
        ]
        for (row, (state, attempts, lastError, finished)) in zip(rows, expected) {
            #expect(row.state == state, "job \(row.id)")
            #expect(row.attempts == attempts, "job \(row.id)")
            #expect(row.lastError == lastError, "job \(row.id)")
            #expect((row.finishedAt != nil) == finished, "job \(row.id)")
            #expect(row.lockedBy == nil && row.leaseExpiresAt == nil, "job \(row.id)")
        }
        /// Whether `date` is `delay` seconds after the statement's now().
        func isAfterNow(_ date: Date, by delay: TimeInterval) -> Bool {
            (before.addingTimeInterval(delay)...after.addingTimeInterval(delay)).contains(date)
        }
        #expect(isAfterNow(rows[3].runAt, by: 60))
        #expect(isAfterNow(rows[5].runAt, by: 30))
        #expect(isAfterNow(rows[4].runAt, by: 0))
        #expect(rows[0].runAt == jobs[0].runAt || abs(rows[0].runAt.timeIntervalSince(jobs[0].runAt)) < 0.001)
    }

    @Test("a completion applies only to the attempt this worker holds; of two for one job, the later attempt's")
    func guardsAndDuplicates() async throws {
        let database = try await makeDatabase()
        let jobs = try await Self.claimed(3, database: database)
        let updated = try await database.withJobs {
            await $0.complete(
                [
                    JobCompletion(id: jobs[0].id, attempt: jobs[0].attempt, outcome: .succeeded),
                    // A stale attempt of the same job in the same batch: dropped, the later attempt wins.
                    JobCompletion(id: jobs[0].id, attempt: jobs[0].attempt - 1, outcome: .dead, error: "stale"),
                    // A wrong attempt: this worker does not hold it.
                    JobCompletion(id: jobs[1].id, attempt: jobs[1].attempt + 1, outcome: .succeeded),
                ],
                workerID: Self.worker
            )
        }.get()
        #expect(updated == [jobs[0].id])
        #expect(try await database.job(jobs[0].id).state == .succeeded)
        #expect(try await database.job(jobs[1].id).state == .running)
        let other = try await database.withJobs {
            await $0.complete(
                [JobCompletion(id: jobs[2].id, attempt: jobs[2].attempt, outcome: .succeeded)],
                workerID: "another-worker"
            )
        }.get()
        #expect(other.isEmpty)
        #expect(try await database.job(jobs[2].id).state == .running)
    }

    @Test("2,000 completions and heartbeats in one statement each, in any order")
    func largeBatches() async throws {
        let database = try await makeDatabase()
        let jobs = try await Self.claimed(2000, database: database).shuffled()
        let held = try await database.withJobs {
            await $0.heartbeat(
                jobs.map { (id: $0.id, attempt: $0.attempt) } + [(id: jobs[0].id, attempt: jobs[0].attempt)],
                workerID: Self.worker,
                lease: .seconds(120)
            )
        }.get()
        #expect(held == Set(jobs.map(\.id)))
        #expect(try await database.count(where: "lease_expires_at > now() + interval '90 seconds'") == 2000)
        let notHeld = try await database.withJobs {
            await $0.heartbeat(
                [(id: jobs[0].id, attempt: jobs[0].attempt + 1)], workerID: Self.worker, lease: .seconds(1))
        }.get()
        #expect(notHeld.isEmpty)

        let start = ContinuousClock.now
        let updated = try await database.withJobs {
            await $0.complete(
                jobs.map { JobCompletion(id: $0.id, attempt: $0.attempt, outcome: .succeeded) },
                workerID: Self.worker
            )
        }.get()
        print("2000 completions in one statement: \(ContinuousClock.now - start)")
        #expect(updated.count == 2000)
        #expect(try await database.count(where: "state = 'succeeded'") == 2000)
    }

    @Test("array binds travel in binary format: any text, empty arrays, large values; NUL is refused")
    func arrayBinds() async throws {
        let database = try await makeDatabase()
        let texts = [
            "", "plain", "NULL", "q\"uo\\te {a,b}", "юникод ✓ 🎉", "line\nbreak\ttab",
            String(repeating: "x", count: 10_000),
        ]
        let rows = try await database.rows(
            """
            SELECT $1::text[] AS texts, $2::int8[] AS ints, cardinality($3::text[]) AS empty_texts,
                cardinality($4::int8[]) AS empty_ints, $5::int8[] AS plain_ints
            """,
            [texts, [Int64.min, -1, 0, Int64.max], [String](), [Int64](), [1, 2, 3]]
        )
        #expect(try rows[0].decode("texts", as: [String].self) == texts)
        #expect(try rows[0].decode("ints", as: [Int64].self) == [Int64.min, -1, 0, Int64.max])
        #expect(try rows[0].decode("empty_texts", as: Int?.self) == 0)
        #expect(try rows[0].decode("empty_ints", as: Int?.self) == 0)
        #expect(try rows[0].decode("plain_ints", as: [Int].self) == [1, 2, 3])
        await #expect(throws: PostgresError.self) {
            _ = try await database.rows("SELECT $1::text[] AS t", [["ok", "nul\u{0}byte"]])
        }
        // Integer arrays in results: the fast path, and the general parser for what it does not take.
        let results = try await database.rows(
            "SELECT '{}'::int8[] AS empty, ARRAY[1, NULL]::int8[] AS with_null, '{7}'::int4[] AS int4s"
        )
        #expect(try results[0].decode("empty", as: [Int64].self) == [])
        #expect(try results[0].decode("int4s", as: [Int].self) == [7])
        #expect(throws: PostgresError.self) { try results[0].decode("with_null", as: [Int64].self) }
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}

extension BatchStatementTests {
    /// The fencing token never repeats: a worker that finished attempt 1 but could not write it (stalled, cut off)
    /// must not land that completion on the run after `jobs retry`, even when it claims the job itself again.
    @Test("a stale completion cannot land on a retried job")
    func staleCompletionAfterRetry() async throws {
        let database = try await makeDatabase()
        let job = try #require(try await Self.claimed(1, database: database).first)
        #expect(job.attempt == 1)
        // Attempt 1 is lost to this worker: another process records it dead (here, directly), an operator retries.
        _ = try await database.rows(
            "UPDATE jobs SET state = 'dead', locked_by = NULL, lease_expires_at = NULL, finished_at = now() WHERE id = $1",
            [job.id])
        let retried = try await JobAdmin(database: database).retry(id: job.id).get()
        #expect(retried.attempts == 1)
        let again = try await database.withJobs {
            await $0.claim(queue: "default", limit: 1, workerID: Self.worker, lease: .seconds(60), kinds: ["noop"])
        }.get()
        #expect(again.first?.attempt == 2)
        let stale = try await database.withJobs {
            await $0.complete(
                [JobCompletion(id: job.id, attempt: 1, outcome: .dead, error: "stale")], workerID: Self.worker)
        }.get()
        #expect(stale.isEmpty)
        let row = try await database.job(job.id)
        #expect(row.state == .running)
        #expect(row.lastError != "stale")
    }
}
