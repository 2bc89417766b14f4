import ArgumentParser
import SlotWorkerApp

struct TemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Inspect message templates.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List broken templates (unknown placeholders, missing texts); exit 1 when there are any."
        )
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let launch = try await options.load()
            let (report, ok) = try await TemplatesCommandRunner.check(
                configuration: launch.configuration, logger: launch.logger)
            print(report)
            if !ok { throw ExitCode(1) }
        }
    }
}
