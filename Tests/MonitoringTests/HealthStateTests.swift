import Foundation
import Testing

@testable import Monitoring

@Suite("HealthState")
struct HealthStateTests {
    @Test("checks that were never reported fail as not yet measured")
    func neverReported() {
        let health = HealthState(checks: ["database"], workerProgressStaleness: .seconds(60))
        let report = health.report()
        #expect(!report.isReady)
        #expect(report.checks["database"] == ReadinessReport.Check(ok: false, detail: "not yet measured", age: nil))
        #expect(report.checks["worker"] == ReadinessReport.Check(ok: false, detail: "no progress yet", age: nil))
        #expect(report.checks["shutdown"] == ReadinessReport.Check(ok: true, detail: "serving", age: nil))
    }

    @Test("ready when every check passes; a failing check or stale progress makes it unready")
    func readiness() {
        let health = HealthState(checks: ["database"], workerProgressStaleness: .seconds(60))
        let start = ContinuousClock.now
        health.update(check: "database", ok: true, detail: "SELECT 1 in 2 ms", at: start)
        health.recordProgress(at: start)
        #expect(health.isReady(at: start.advanced(by: .seconds(1))))
        let report = health.report(at: start.advanced(by: .milliseconds(1500)))
        #expect(report.checks["database"]?.age == .milliseconds(1500))
        #expect(report.checks["worker"]?.detail == "last progress 1.5 s ago")

        let stale = health.report(at: start.advanced(by: .seconds(61)))
        #expect(!stale.isReady)
        #expect(stale.checks["worker"]?.ok == false)
        #expect(stale.checks["worker"]?.detail == "no progress for 61.0 s (limit 60.0 s)")
        #expect(stale.checks["database"]?.ok == true)

        health.recordProgress(at: start.advanced(by: .seconds(60)))
        health.update(check: "database", ok: false, detail: "connection refused", at: start.advanced(by: .seconds(60)))
        let failing = health.report(at: start.advanced(by: .seconds(61)))
        #expect(failing.checks["worker"]?.ok == true)
        #expect(
            failing.checks["database"]
                == ReadinessReport.Check(ok: false, detail: "connection refused", age: .seconds(1)))
        #expect(!failing.isReady)
    }

    @Test("progress never moves backwards")
    func progressMonotonic() {
        let health = HealthState(checks: [], workerProgressStaleness: .seconds(10))
        let start = ContinuousClock.now
        health.recordProgress(at: start.advanced(by: .seconds(5)))
        health.recordProgress(at: start)
        #expect(health.report(at: start.advanced(by: .seconds(14))).checks["worker"]?.ok == true)
    }

    @Test("results older than resultMaxAge fail as stale")
    func staleResults() {
        let health = HealthState(checks: ["database"], resultMaxAge: .seconds(30))
        let start = ContinuousClock.now
        health.update(check: "database", ok: true, detail: "ok", at: start)
        #expect(health.isReady(at: start.advanced(by: .seconds(30))))
        let report = health.report(at: start.advanced(by: .seconds(31)))
        #expect(report.checks["database"]?.ok == false)
        #expect(report.checks["database"]?.detail == "stale: last measured 31.0 s ago (limit 30.0 s): ok")
    }

    @Test("shutting down makes readiness fail for good")
    func shuttingDown() {
        let health = HealthState(checks: [])
        #expect(health.isReady())
        health.markShuttingDown()
        #expect(health.isShuttingDown)
        #expect(
            health.report().checks["shutdown"] == ReadinessReport.Check(ok: false, detail: "shutting down", age: nil))
        #expect(!health.isReady())
    }

    @Test("details are cut and credentials masked")
    func sanitizedDetails() {
        #expect(
            HealthState.sanitized("cannot connect to postgres://app:s3cret@db:5432/slots")
                == "cannot connect to postgres://***@db:5432/slots"
        )
        #expect(
            HealthState.sanitized("host=db user=app PASSWORD=hunter2 dbname=x")
                == "host=db user=app PASSWORD=*** dbname=x"
        )
        #expect(HealthState.sanitized("http://db/path@x") == "http://db/path@x")
        #expect(HealthState.sanitized(String(repeating: "x", count: 500)).count == HealthState.maxDetailLength)
        let health = HealthState(checks: ["database"])
        health.update(check: "database", ok: false, detail: "postgresql://u:pw@h/db refused")
        #expect(health.report().checks["database"]?.detail == "postgresql://***@h/db refused")
    }

    @Test("the readiness JSON has the documented shape and escapes details")
    func json() throws {
        let report = ReadinessReport(checks: [
            "database": .init(ok: true, detail: "quote \" and \\ and \n", age: .milliseconds(1234)),
            "shutdown": .init(ok: true, detail: "serving", age: nil),
        ])
        #expect(
            report.json
                == #"{"status":"ok","checks":{"database":{"status":"ok","detail":"quote \" and \\ and \n","age_seconds":1.234},"#
                + #""shutdown":{"status":"ok","detail":"serving","age_seconds":null}}}"#
        )
        let decoded = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
        let checks = decoded?["checks"] as? [String: [String: Any]]
        #expect(checks?["database"]?["detail"] as? String == "quote \" and \\ and \n")
    }
}
