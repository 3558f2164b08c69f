/// Our own misuse found while encoding: the frame cannot be written so that the peer
/// decodes exactly what we meant. Nothing is written when this is thrown.
public enum FrameEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header cannot be represented without escaping in this version/command
    /// (LF, or ':' in a name, or a trailing CR, in 1.0 or CONNECT/CONNECTED).
    case unencodableHeader(name: String, value: String, reason: String)
    /// An explicit `content-length` header that does not match the body.
    case contentLengthMismatch(declared: String, actual: Int)
    /// The body contains NUL but the policy forbids `content-length`: the peer would cut it short.
    case nullInBodyWithoutContentLength

    public var fault: StompFault { .local }

    public var description: String {
        switch self {
        case let .unencodableHeader(name, _, reason):
            return "cannot encode header \(name.debugDescription): \(reason)"
        case let .contentLengthMismatch(declared, actual):
            return "content-length header \(declared.debugDescription) does not match the body (\(actual) bytes)"
        case .nullInBodyWithoutContentLength:
            return "the body contains a NUL byte but content-length is disabled (policy .never)"
        }
    }
}
