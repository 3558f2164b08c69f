/// Our own misuse found while encoding: the frame cannot be written so that the peer
/// decodes exactly what we meant. Nothing is written when this is thrown. A struct over a private enum
/// so that new kinds can be added without breaking callers.
public struct FrameEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case unencodableHeader(name: String, value: String, reason: String)
        case contentLengthMismatch(declared: String, actual: Int)
        case nullInBodyWithoutContentLength
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The header cannot be represented without escaping in this version/command
    /// (LF, or ':' in a name, or a trailing CR, in 1.0 or CONNECT/CONNECTED).
    public static func unencodableHeader(name: String, value: String, reason: String) -> FrameEncodingError {
        .init(.unencodableHeader(name: name, value: value, reason: reason))
    }
    /// An explicit `content-length` header that does not match the body.
    public static func contentLengthMismatch(declared: String, actual: Int) -> FrameEncodingError {
        .init(.contentLengthMismatch(declared: declared, actual: actual))
    }
    /// The body contains NUL but the policy forbids `content-length`: the peer would cut it short.
    public static let nullInBodyWithoutContentLength = FrameEncodingError(.nullInBodyWithoutContentLength)

    /// Always `.local`: we asked to encode something the protocol cannot carry.
    public var fault: StompFault { .local }

    /// The header that cannot be written unescaped, when that is the error.
    public var unencodableHeader: (name: String, value: String)? {
        if case let .unencodableHeader(name, value, _) = kind { return (name, value) }
        return nil
    }

    public var description: String {
        switch kind {
        case let .unencodableHeader(name, _, reason):
            return "cannot encode header \(name.debugDescription): \(reason)"
        case let .contentLengthMismatch(declared, actual):
            return "content-length header \(declared.debugDescription) does not match the body (\(actual) bytes)"
        case .nullInBodyWithoutContentLength:
            return "the body contains a NUL byte but content-length is disabled (policy .never)"
        }
    }
}
