import CLibPQ

/// Owns one libpq result and frees it when the last reference goes away.
///
/// `@unchecked Sendable` invariant: a `PGresult` is read-only once created, and libpq lets any thread read it.
final class PostgresResultHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let columnCount: Int

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        columnCount = Int(PQnfields(pointer))
    }

    deinit {
        PQclear(pointer)
    }
}
