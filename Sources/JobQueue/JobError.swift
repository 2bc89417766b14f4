/// Errors a handler can throw to steer the outcome of its attempt.
public enum JobError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A failure retrying cannot fix: the job becomes `dead` with this message.
    case permanent(String)

    public var description: String {
        switch self {
        case .permanent(let message): message
        }
    }
}
