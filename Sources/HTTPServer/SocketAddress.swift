#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A resolved IPv4 or IPv6 socket address to bind to.
struct SocketAddress {
    /// The address bytes (a `sockaddr_in` or `sockaddr_in6` at the start of the storage).
    var storage: sockaddr_storage
    /// Whether the address is IPv6 (libmicrohttpd then needs `MHD_USE_IPv6`).
    var isIPv6: Bool

    /// Resolves `host` (numeric address or name; the first result wins) with `port` for a TCP listener.
    ///
    /// - Returns: the address, or nil with the resolver's message when `host` cannot be resolved.
    static func resolve(host: String, port: Int) -> Result<SocketAddress, ResolutionFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            let message = status == 0 ? "no address" : String(cString: gai_strerror(status))
            return .failure(ResolutionFailure(message: message))
        }
        defer { freeaddrinfo(results) }
        guard let address = first.pointee.ai_addr,
            first.pointee.ai_family == AF_INET || first.pointee.ai_family == AF_INET6
        else {
            return .failure(ResolutionFailure(message: "no IPv4 or IPv6 address"))
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { destination in
            destination.copyMemory(
                from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen))
            )
        }
        return .success(SocketAddress(storage: storage, isIPv6: first.pointee.ai_family == AF_INET6))
    }

    /// Why ``resolve(host:port:)`` failed.
    struct ResolutionFailure: Error {
        var message: String
    }
}
