import JobQueue
import Monitoring
import Persistence
import Testing

@Suite("Health hooks")
struct HealthTests {
    @Test("poll progress feeds the worker check; database errors fail the database check until the next poll")
    func healthStateMapping() {
        let health = HealthState(checks: ["database"], workerProgressStaleness: .seconds(5))
        let hooks = JobQueueHealth.reporting(to: health)
        #expect(!health.isReady())
        hooks.onPollSucceeded()
        #expect(health.isReady())
        hooks.onDatabaseError(
            .database(
                DatabaseFailure(operation: "jobs.claim", message: "connection refused", sqlState: nil, underlying: nil))
        )
        let failing = health.report()
        #expect(failing.checks["database"]?.ok == false)
        #expect(failing.checks["database"]?.detail.contains("connection refused") == true)
        #expect(failing.checks[HealthState.workerCheck]?.ok == true)
        hooks.onPollSucceeded()
        #expect(health.isReady())
    }
}
