import Persistence
import Testing

@Suite("Result helpers")
struct ResultHelperTests {
    typealias R = Result<Int, RepositoryError>
    let missing = RepositoryError.notFound(entity: "Slot", id: "1")
    let invalid = RepositoryError.validation(field: "status", message: "taken")

    @Test func valueOrDefault() {
        #expect(R.success(3).value(or: 9) == 3)
        #expect(R.failure(missing).value(or: 9) == 9)
    }

    @Test func defaultIsEvaluatedOnlyOnFailure() {
        var evaluated = 0
        func fallback() -> Int {
            evaluated += 1
            return 0
        }
        _ = R.success(1).value(or: fallback())
        #expect(evaluated == 0)
        _ = R.failure(missing).value(or: fallback())
        #expect(evaluated == 1)
    }

    @Test func successAndFailureFlags() {
        #expect(R.success(1).isSuccess)
        #expect(!R.success(1).isFailure)
        #expect(R.success(1).failure == nil)
        #expect(R.failure(missing).isFailure)
        #expect(!R.failure(missing).isSuccess)
        #expect(R.failure(missing).failure == missing)
    }

    @Test func asyncMapTransformsSuccessAndCatchesTypedThrows() async {
        let doubled = await R.success(21).asyncMap { value throws(RepositoryError) in value * 2 }
        #expect(doubled == .success(42))
        let thrown = await R.success(21).asyncMap { _ throws(RepositoryError) -> Int in throw invalid }
        #expect(thrown == .failure(invalid))
        var called = false
        let passed = await R.failure(missing).asyncMap { value throws(RepositoryError) -> Int in
            called = true
            return value
        }
        #expect(passed == .failure(missing))
        #expect(!called)
    }

    @Test func asyncFlatMapChainsAndShortCircuits() async {
        let chained = await R.success(2).asyncFlatMap { value in R.success(value + 1) }
        #expect(chained == .success(3))
        let failed = await R.success(2).asyncFlatMap { _ in R.failure(invalid) }
        #expect(failed == .failure(invalid))
        var called = false
        let skipped = await R.failure(missing).asyncFlatMap { value -> R in
            called = true
            return .success(value)
        }
        #expect(skipped == .failure(missing))
        #expect(!called)
    }

    @Test func collectKeepsOrderAndTheFirstFailureWins() {
        #expect([R.success(1), .success(2), .success(3)].collect() == .success([1, 2, 3]))
        #expect([R]().collect() == .success([]))
        #expect([R.success(1), .failure(invalid), .failure(missing)].collect() == .failure(invalid))
        #expect([R.failure(missing), .success(1), .failure(invalid)].collect() == .failure(missing))
    }

    @Test func guidesMatchIsASwitch() {
        func describe(_ result: R) -> String {
            switch result {
            case .success(let value): "found \(value)"
            case .failure(.notFound(let entity, _)): "no \(entity)"
            case .failure(let error): "error \(error.errorClass.rawValue)"
            }
        }
        #expect(describe(.success(5)) == "found 5")
        #expect(describe(.failure(missing)) == "no Slot")
        #expect(describe(.failure(invalid)) == "error validation")
    }
}
