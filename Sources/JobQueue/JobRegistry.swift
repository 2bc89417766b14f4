import Foundation

/// The handlers a runner knows, one per job kind, each with a typed `Decodable` payload and its own limits.
///
/// ```swift
/// var registry = JobRegistry()
/// registry.register(kind: "send_reminder", payload: ReminderPayload.self, timeout: .seconds(30), maxAttempts: 5,
///                   concurrency: 4) { payload, job in
///     try await telegram.send(payload.text, to: payload.chatID)
///     return .success
/// }
/// ```
///
/// A runner claims only the kinds registered here: a job of another kind stays `available`, untouched, for a worker
/// that runs it (during a rolling deploy, new kinds meet old workers; the sampler's `unrunnable` count reports jobs
/// no live worker registered). A job whose payload does not decode becomes `dead` at once with a readable
/// `last_error`; it is never retried (another attempt cannot fix it). The diagnostic kinds ``DiagnosticJobs``
/// (`noop`, `sleep`, `fail`) are registered unless `diagnostics` is false.
public struct JobRegistry: Sendable {
    /// One attempt, bound to its decoded payload.
    typealias Invocation = @Sendable (JobContext) async throws -> JobResult

    /// A registered kind: its limits and its payload decoder bound to the handler.
    struct Entry: Sendable {
        var kind: String
        var timeout: Duration?
        var maxAttempts: Int?
        var concurrency: Int?
        var usesDatabase: Bool
        var retry: RetryPolicy?
        /// Decodes a payload; throws ``PayloadDecodingFailure`` with a readable reason.
        var prepare: @Sendable (String) throws -> Invocation
    }

    /// Why a payload did not decode.
    struct PayloadDecodingFailure: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var entries: [String: Entry] = [:]

    /// An empty registry; with `diagnostics`, it has the diagnostic kinds (`noop`, `sleep`, `fail`).
    public init(diagnostics: Bool = true) {
        if diagnostics { DiagnosticJobs.register(in: &self) }
    }

    /// The registered kinds, sorted.
    public var kinds: [String] { entries.keys.sorted() }

    /// Registers the handler of `kind`.
    ///
    /// - Parameters:
    ///   - timeout: how long one attempt may run before its task is cancelled and the attempt counts as failed;
    ///     nil uses the runner's default.
    ///   - maxAttempts: attempt limit for jobs of this kind that set none themselves; nil uses the runner's default.
    ///   - concurrency: how many jobs of this kind one runner runs at once; nil means only the runner's limit.
    ///   - usesDatabase: the handler borrows pooled database connections (the default). Such jobs run only as many
    ///     at once as the runner has database slots (``JobRunnerConfiguration/databaseConcurrency``, by default the
    ///     pool's size), so they never queue for connections; pass false for handlers that need none (they then
    ///     run up to the runner's full concurrency).
    ///   - retry: backoff between failed attempts; nil uses the runner's policy.
    ///   - handler: runs one attempt. Return a ``JobResult``; a thrown error means "retry with backoff"
    ///     (``JobError/permanent(_:)``: dead). It should honor task cancellation (timeouts and shutdown cancel it).
    /// - Precondition: `kind` is 1 to 100 characters and not registered yet.
    public mutating func register<Payload: Decodable & Sendable>(
        kind: String,
        payload: Payload.Type = Payload.self,
        timeout: Duration? = nil,
        maxAttempts: Int? = nil,
        concurrency: Int? = nil,
        usesDatabase: Bool = true,
        retry: RetryPolicy? = nil,
        handler: @escaping @Sendable (Payload, JobContext) async throws -> JobResult
    ) {
        precondition(!kind.isEmpty && kind.count <= 100, "job kind must be 1 to 100 characters")
        precondition(entries[kind] == nil, "job kind \"\(kind)\" is registered twice")
        precondition(maxAttempts.map { $0 >= 1 } ?? true, "maxAttempts must be at least 1")
        precondition(concurrency.map { $0 >= 1 } ?? true, "concurrency must be at least 1")
        let typeName = String(describing: Payload.self)
        let decoder = JobRegistry.decoder
        entries[kind] = Entry(
            kind: kind,
            timeout: timeout,
            maxAttempts: maxAttempts,
            concurrency: concurrency,
            usesDatabase: usesDatabase,
            retry: retry,
            prepare: { json in
                let payload: Payload
                do {
                    // `{}` (payload-less kinds, bulk no-ops) skips the JSON parser when the type decodes from an
                    // empty object; anything else, failures included, goes through JSONDecoder.
                    if json == "{}", let empty = try? Payload(from: EmptyObjectDecoder()) {
                        payload = empty
                    } else {
                        payload = try decoder.decode(Payload.self, from: Data(json.utf8))
                    }
                } catch {
                    throw PayloadDecodingFailure(
                        description: "payload does not decode as \(typeName): \(JobRegistry.describe(error)); "
                            + "payload: \(json.prefix(200))"
                    )
                }
                return { context in try await handler(payload, context) }
            }
        )
    }

    /// Registers the handler of a typed kind; see
    /// ``register(kind:payload:timeout:maxAttempts:concurrency:usesDatabase:retry:handler:)``.
    public mutating func register<Payload>(
        _ kind: JobKind<Payload>,
        timeout: Duration? = nil,
        maxAttempts: Int? = nil,
        concurrency: Int? = nil,
        usesDatabase: Bool = true,
        retry: RetryPolicy? = nil,
        handler: @escaping @Sendable (Payload, JobContext) async throws -> JobResult
    ) {
        register(
            kind: kind.name,
            payload: Payload.self,
            timeout: timeout,
            maxAttempts: maxAttempts,
            concurrency: concurrency,
            usesDatabase: usesDatabase,
            retry: retry,
            handler: handler
        )
    }

    /// Attempt limits of the kinds that set one, for the rescuer.
    public var maxAttemptsByKind: [String: Int] {
        entries.compactMapValues(\.maxAttempts)
    }

    func entry(for kind: String) -> Entry? { entries[kind] }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// A one-line reason for a decoding error: what is wrong, and where.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "the top level" : String(keys.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(path(context))"
        case .valueNotFound(let type, let context):
            return "expected \(type) at \(path(context)), found null"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as? NSError)?.localizedDescription
            return "invalid data at \(path(context)): \(underlying ?? context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Decodes the JSON value `{}` without parsing it: a keyed container without keys. It succeeds exactly where
/// `JSONDecoder` succeeds on `{}` through keyed access (no keys, `contains` false, `decodeIfPresent` nil) and throws
/// on everything else; callers then decode with `JSONDecoder` for its result or error.
struct EmptyObjectDecoder: Decoder {
    struct Unsupported: Error {}

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>())
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw Unsupported() }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { throw Unsupported() }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { throw Unsupported() }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { throw Unsupported() }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw Unsupported() }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw Unsupported() }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { throw Unsupported() }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { throw Unsupported() }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { throw Unsupported() }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { throw Unsupported() }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { throw Unsupported() }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { throw Unsupported() }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { throw Unsupported() }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { throw Unsupported() }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { throw Unsupported() }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { throw Unsupported() }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { throw Unsupported() }
        func nestedContainer<NestedKey: CodingKey>(
            keyedBy type: NestedKey.Type,
            forKey key: Key
        ) throws -> KeyedDecodingContainer<NestedKey> { throw Unsupported() }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Unsupported() }
        func superDecoder() throws -> any Decoder { throw Unsupported() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported() }
    }
}
