/// What the standard library's `Result` lacks for the guide's Result pattern. A `switch` with patterns is the
/// guide's `match`; `get()` is its `unwrap`; `map`/`flatMap` exist for synchronous transforms.
extension Result {
    /// The success value, or `defaultValue` on failure (the guide's `unwrap_or`).
    public func value(or defaultValue: @autoclosure () -> Success) -> Success {
        switch self {
        case .success(let value): value
        case .failure: defaultValue()
        }
    }

    /// True for `.success` (the guide's `is_success`).
    public var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }

    /// True for `.failure` (the guide's `is_failure`).
    public var isFailure: Bool { !isSuccess }

    /// The failure, if any.
    public var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    /// Transforms the success value with an async function.
    public func asyncMap<NewSuccess>(
        _ transform: (Success) async throws(Failure) -> NewSuccess
    ) async -> Result<NewSuccess, Failure> {
        switch self {
        case .success(let value):
            do { return .success(try await transform(value)) } catch { return .failure(error) }
        case .failure(let error):
            return .failure(error)
        }
    }

    /// Chains an async call that itself returns a `Result` (e.g. a second repository call).
    public func asyncFlatMap<NewSuccess>(
        _ transform: (Success) async -> Result<NewSuccess, Failure>
    ) async -> Result<NewSuccess, Failure> {
        switch self {
        case .success(let value): await transform(value)
        case .failure(let error): .failure(error)
        }
    }
}

extension Sequence {
    /// Collects results into one result of an array; the first failure wins (the guide's `collect_results`).
    public func collect<Value, Failure: Error>() -> Result<[Value], Failure>
    where Element == Result<Value, Failure> {
        var values: [Value] = []
        for result in self {
            switch result {
            case .success(let value): values.append(value)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(values)
    }
}
