import CLibPQ

/// The libpq results of one request, in the order the server sent them. The owner must call ``clear()`` once.
///
/// `@unchecked Sendable` invariant: a value is handed from the poller thread to the awaiting task exactly once and
/// then used by that task alone.
struct PostgresResults: @unchecked Sendable {
    var pointers: [OpaquePointer] = []

    /// Frees every result.
    func clear() {
        pointers.forEach { PQclear($0) }
    }
}
