import Foundation
import Synchronization
import Testing

@testable import Monitoring

@Suite("Scrape coalescing")
struct ScrapeCoalescerTests {
    /// 8 threads × 50 scrapes against a slow render: every caller gets a render that started after its call, and
    /// far fewer renders run than scrapes.
    @Test func concurrentScrapesShareOnlyRendersThatStartedAfterThem() {
        let coalescer = ScrapeCoalescer()
        let started = Atomic<Int>(0)
        let stale = Atomic<Int>(0)
        let scrapes = Atomic<Int>(0)
        onThreads(8) {
            for _ in 0..<50 {
                let before = started.load(ordering: .sequentiallyConsistent)
                let body = coalescer.fresh(compressor: nil) { _ in
                    let number = started.add(1, ordering: .sequentiallyConsistent).newValue
                    Thread.sleep(forTimeInterval: 0.001)
                    return Array(String(number).utf8)
                }
                let number = Int(String(decoding: body.bytes, as: UTF8.self))!
                if number <= before { stale.add(1, ordering: .relaxed) }
                scrapes.add(1, ordering: .relaxed)
            }
        }
        #expect(stale.load(ordering: .relaxed) == 0)
        #expect(scrapes.load(ordering: .relaxed) == 400)
        #expect(started.load(ordering: .relaxed) < 400)
    }

    /// 8 threads × 50 scrapes asking for compression: each gets its render's bytes compressed, and the compressor
    /// runs exactly once per render, not once per scrape.
    @Test func sharedRendersAreCompressedOncePerRender() {
        let coalescer = ScrapeCoalescer()
        let renders = Atomic<Int>(0)
        let compressions = Atomic<Int>(0)
        let mismatched = Atomic<Int>(0)
        let reverse: @Sendable ([UInt8]) -> [UInt8]? = { bytes in
            compressions.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.001)
            return bytes.reversed()
        }
        onThreads(8) {
            for _ in 0..<50 {
                let exposition = coalescer.fresh(compressor: reverse) { _ in
                    let number = renders.add(1, ordering: .relaxed).newValue
                    return Array("render \(number)".utf8)
                }
                if exposition.compressed != exposition.bytes.reversed() { mismatched.add(1, ordering: .relaxed) }
            }
        }
        #expect(mismatched.load(ordering: .relaxed) == 0)
        #expect(compressions.load(ordering: .relaxed) == renders.load(ordering: .relaxed))
        #expect(renders.load(ordering: .relaxed) < 400)
    }
}

/// Runs `body` on `count` threads of its own that start together, and returns when all have finished.
///
/// Not `DispatchQueue.concurrentPerform`: on a busy machine it may run every iteration on the calling thread, and
/// then no two scrapes ever overlap (a CI run got 400 renders for 400 scrapes that way).
private func onThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for _ in 0..<count {
        done.enter()
        Thread {
            start.wait()
            body()
            done.leave()
        }.start()
    }
    for _ in 0..<count { start.signal() }
    done.wait()
}
