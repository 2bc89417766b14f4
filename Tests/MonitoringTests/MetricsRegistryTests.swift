import CoreMetrics
import Monitoring
import Prometheus
import Testing

@Suite("MetricsRegistry")
struct MetricsRegistryTests {
    @Test("defining a name again returns the same series and keeps the first help text; label order is irrelevant")
    func redefinitionReturnsExisting() throws {
        let registry = makeRegistry()
        let first = registry.counter("demo_events_total", help: "Events.", labels: ["a": "1", "b": "2"])
        let again = registry.counter("demo_events_total", help: "Other help.", labels: ["b": "2", "a": "1"])
        #expect(first === again)
        let sibling = registry.counter("demo_events_total", help: "Events.", labels: ["a": "1", "b": "3"])
        #expect(first !== sibling)
        first.increment(by: Int64(3))
        sibling.increment()
        let exposition = try registry.parsed()
        #expect(exposition.helps["demo_events_total"] == "Events.")
        #expect(exposition.value("demo_events_total", ["a": "1", "b": "2"]) == 3)
        #expect(exposition.value("demo_events_total", ["a": "1", "b": "3"]) == 1)
        #expect(exposition.duplicateSeries.isEmpty)
        #expect(registry.renderString().contains(#"demo_events_total{a="1",b="2"} 3"#))
        #expect(registry.conflicts.isEmpty)
    }

    @Test("histograms defined again keep the first buckets")
    func histogramRedefinition() throws {
        let registry = makeRegistry()
        let first = registry.valueHistogram("demo_sizes", help: "Sizes.", buckets: [1, 10])
        let again = registry.valueHistogram("demo_sizes", help: "Sizes.", buckets: [5])
        #expect(first === again)
        first.record(Double(7))
        let exposition = try registry.parsed()
        #expect(exposition.value("demo_sizes_bucket", ["le": "1.0"]) == 0)
        #expect(exposition.value("demo_sizes_bucket", ["le": "10.0"]) == 1)
        #expect(exposition.value("demo_sizes_bucket", ["le": "+Inf"]) == 1)
        #expect(exposition.samples(named: "demo_sizes_bucket").count == 3)
    }

    @Test("contradicting definitions never trap: they are recorded and not exported")
    func conflictingDefinitions() throws {
        let registry = makeRegistry()
        registry.counter("demo_total", help: "Demo.").increment()
        let gauge = registry.gauge("demo_total", help: "Demo.")
        gauge.set(to: 42)
        let labeled = registry.counter("demo_total", help: "Demo.", labels: ["kind": "x"])
        labeled.increment()
        let durations = registry.durationHistogram("demo_sizes", help: "Sizes.", buckets: [.seconds(1)])
        durations.record(.milliseconds(5))
        _ = registry.valueHistogram("demo_sizes", help: "Sizes.", buckets: [1])
        #expect(registry.conflicts == ["demo_total", "demo_total", "demo_sizes"])
        let exposition = try registry.parsed()
        #expect(exposition.types["demo_total"] == "counter")
        #expect(exposition.samples(named: "demo_total") == [Sample(name: "demo_total", labels: [:], value: 1)])
        #expect(exposition.types["demo_sizes"] == "histogram")
        #expect(exposition.value("demo_sizes_count") == 1)
    }

    @Test("pre-scrape hooks run before every render, in order")
    func preScrapeHooks() throws {
        let registry = makeRegistry()
        let gauge = registry.gauge("demo_snapshot", help: "Snapshot.")
        let calls = registry.counter("demo_hook_calls_total", help: "Hook calls.")
        registry.addPreScrapeHook { calls.increment() }
        registry.addPreScrapeHook { gauge.set(to: 7) }
        #expect(try registry.parsed().value("demo_snapshot") == 7)
        #expect(try registry.parsed().value("demo_hook_calls_total") == 2)
    }

    @Test("the swift-metrics factory writes into the same registry with sorted labels; own names are protected")
    func swiftMetricsFactory() throws {
        let registry = makeRegistry()
        let own = registry.counter("demo_owned_total", help: "Owned.")
        let factory = registry.makeMetricsFactory()
        let library = factory.makeCounter(label: "lib_calls_total", dimensions: [("z", "1"), ("a", "2")])
        library.increment(by: 2)
        let clash = factory.makeCounter(label: "demo_owned_total", dimensions: [])
        clash.increment(by: 5)
        own.increment()
        // The name is taken by swift-metrics now: an own definition is refused instead of trapping.
        _ = registry.counter("lib_calls_total", help: "Library calls.", labels: ["a": "2", "z": "1"])
        #expect(registry.conflicts == ["lib_calls_total"])
        let text = registry.renderString()
        #expect(text.contains(#"lib_calls_total{a="2",z="1"} 2"#))
        let exposition = try Exposition(text)
        #expect(exposition.value("demo_owned_total") == 1)
        #expect(exposition.value("demo_owned_total_swift_metrics") == 5)
    }

    @Test("label values with quotes, backslashes and newlines are escaped and read back exactly")
    func labelEscaping() throws {
        let registry = makeRegistry()
        let awkward = "say \"hi\"\\path\nline two"
        registry.gauge("demo_escaped", help: "Escaping test.", labels: ["value": awkward]).set(to: 1)
        let text = registry.renderString()
        #expect(text.contains(#"demo_escaped{value="say \"hi\"\\path\nline two"} 1.0"#))
        #expect(try Exposition(text).value("demo_escaped", ["value": awkward]) == 1)
        try expectPromtoolAccepts(text)
        let parsed = try parseWithPythonClient(text)
        let labels = parsed.first { ($0[2] as? String) == "demo_escaped" }?[3] as? [String: String]
        #expect(labels == ["value": awkward])
    }

    @Test("histograms: a value equal to a bound counts in it, buckets are cumulative, labels and help escaped")
    func histogramExposition() throws {
        let registry = makeRegistry()
        let awkward = "say \"hi\"\\path\nline two"
        let durations = registry.durationHistogram(
            "demo_wait_seconds",
            help: "Waits \\ with a\nsecond line.",
            labels: ["queue": awkward],
            buckets: [.microseconds(100), .milliseconds(2500), .seconds(5)]
        )
        durations.record(.microseconds(100))
        durations.record(.milliseconds(3))
        durations.record(.seconds(60))
        let plain = registry.valueHistogram("demo_batch_size", help: "Batches.", buckets: [1, 10])
        plain.record(Double(10))
        let text = registry.renderString()
        #expect(text.contains("# HELP demo_wait_seconds Waits \\\\ with a\\nsecond line.\n"))
        #expect(text.contains(#"demo_wait_seconds_bucket{queue="say \"hi\"\\path\nline two",le="0.0001"} 1"#))
        #expect(text.contains(#"demo_wait_seconds_bucket{queue="say \"hi\"\\path\nline two",le="2.5"} 2"#))
        #expect(text.contains(#"demo_wait_seconds_bucket{queue="say \"hi\"\\path\nline two",le="5.0"} 2"#))
        #expect(text.contains(#"demo_wait_seconds_bucket{queue="say \"hi\"\\path\nline two",le="+Inf"} 3"#))
        #expect(text.contains(#"demo_wait_seconds_count{queue="say \"hi\"\\path\nline two"} 3"#))
        #expect(text.contains("demo_batch_size_bucket{le=\"10.0\"} 1\ndemo_batch_size_bucket{le=\"+Inf\"} 1\n"))
        #expect(text.contains("demo_batch_size_sum 10.0\ndemo_batch_size_count 1\n"))
        let exposition = try Exposition(text)
        let sum = try #require(exposition.value("demo_wait_seconds_sum", ["queue": awkward]))
        #expect(abs(sum - 60.0031) < 1e-9)
        #expect(exposition.helps["demo_wait_seconds"] == #"Waits \\ with a\nsecond line."#)
        try expectPromtoolAccepts(text)
        let parsed = try parseWithPythonClient(text)
        let labels = parsed.first { ($0[2] as? String) == "demo_wait_seconds_count" }?[3] as? [String: String]
        #expect(labels == ["queue": awkward])
    }

    @Test("a histogram series renders its new observations in the next scrape and the same bytes while idle")
    func histogramRenderCache() throws {
        let registry = makeRegistry()
        let busy = registry.valueHistogram("demo_size", help: "Sizes.", labels: ["kind": "busy"], buckets: [1, 10])
        let idle = registry.valueHistogram("demo_size", help: "Sizes.", labels: ["kind": "idle"], buckets: [1, 10])
        idle.record(Double(5))
        var previous = try registry.parsed()
        for round in 1...3 {
            busy.record(Double(round * 4))
            let text = registry.renderString()
            let exposition = try Exposition(text)
            #expect(exposition.value("demo_size_count", ["kind": "busy"]) == Double(round))
            #expect(exposition.value("demo_size_sum", ["kind": "busy"]) == Double(4 * round * (round + 1) / 2))
            #expect(exposition.value("demo_size_bucket", ["kind": "busy", "le": "10.0"]) == Double(min(round, 2)))
            for name in ["demo_size_count", "demo_size_sum"] {
                #expect(exposition.value(name, ["kind": "idle"]) == previous.value(name, ["kind": "idle"]))
            }
            #expect(registry.renderString() == text)
            previous = exposition
        }
    }
}
