import Foundation
import PostgresClient

// slot-worker-bench NAME [--option value]… — run by scripts/bench, which starts the database and the baselines.
let arguments = BenchArguments(Array(CommandLine.arguments.dropFirst()))
guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
    FileHandle.standardError.write(Data("slot-worker-bench: DATABASE_URL is not set (use scripts/bench)\n".utf8))
    exit(2)
}
let configuration = try PostgresConfiguration(url)
switch arguments.name {
case "db-roundtrip":
    try await DatabaseRoundTripBench.run(arguments, configuration: configuration)
case "instrumentation":
    try await InstrumentationBench.run(arguments, configuration: configuration)
case "http":
    try await HTTPBench.run(arguments, configuration: configuration)
case "queue-drain":
    try await QueueDrainBench.run(arguments, server: configuration)
case "queue-sql":
    try await QueueSQLBench.run(arguments, server: configuration)
case "queue-enqueue":
    try await QueueEnqueueBench.run(arguments, server: configuration)
case "queue-latency":
    try await QueueLatencyBench.latency(arguments, server: configuration)
case "console":
    try await ConsoleBench.run(arguments, server: configuration)
case "queue-sustained":
    try await QueueSustainedBench.run(arguments, server: configuration)
case "queue-delay":
    try await QueueLatencyBench.delay(arguments, server: configuration)
case "reminders":
    try await ReminderBench.run(arguments, server: configuration)
default:
    FileHandle.standardError.write(Data("slot-worker-bench: unknown benchmark \"\(arguments.name)\"\n".utf8))
    exit(2)
}
