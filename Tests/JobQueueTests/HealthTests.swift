import Foundation
import JobQueue
import Monitoring
import MonitoringAdapters
import Persistence
import Testing

@Suite("Job-queue health observer")
struct HealthTests {
    @Test("poll progress feeds the worker check; database errors fail the database check until the next poll")
    func healthStateMapping() {
        let health = HealthState(checks: ["database"], workerProgressStaleness: .seconds(5))
        let hooks = JobQueueHealthObserver(health: health)
        #expect(!health.isReady())
        hooks.pollSucceeded(at: Date())
        #expect(health.isReady())
        hooks.databaseFailed(
            .database(
                DatabaseFailure(operation: "jobs.claim", message: "connection refused", sqlState: nil, underlying: nil))
        )
        let failing = health.report()
        #expect(failing.checks["database"]?.ok == false)
        #expect(failing.checks["database"]?.detail.contains("connection refused") == true)
        #expect(failing.checks[HealthState.workerCheck]?.ok == true)
        hooks.pollSucceeded(at: Date())
        #expect(health.isReady())
    }
}
