/// A peer's protocol violation found while decoding. Every case carries the byte offset,
/// counted from the start of the stream, where the offending element starts.
public enum FrameDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `limit` names the `StompLimits` property ("maxHeaderLineLength", ...); `value` is what was seen
    /// (possibly a lower bound: the decoder stops reading as soon as the limit is passed).
    case limitExceeded(limit: String, value: Int, maximum: Int, offset: Int)
    case unknownCommand(String, offset: Int)
    /// A header line without ':'.
    case malformedHeader(line: String, offset: Int)
    /// An escape other than those the version defines (e.g. `\t`), or a trailing `\`.
    case invalidEscape(sequence: String, header: String, offset: Int)
    /// A `content-length` that is not a non-negative decimal integer.
    case invalidContentLength(value: String, offset: Int)
    /// The byte after a `content-length` body is not NUL.
    case missingNullAfterBody(offset: Int)
    /// A header name or value (header: nil for a name) that is not valid UTF-8.
    case invalidUTF8(header: String?, offset: Int)

    public var fault: StompFault { .peer }

    /// Byte offset from the start of the stream.
    public var offset: Int {
        switch self {
        case .limitExceeded(_, _, _, let o), .unknownCommand(_, let o), .malformedHeader(_, let o),
             .invalidEscape(_, _, let o), .invalidContentLength(_, let o), .missingNullAfterBody(let o),
             .invalidUTF8(_, let o):
            return o
        }
    }

    /// The header concerned, when there is one.
    public var headerName: String? {
        switch self {
        case .invalidEscape(_, let h, _): return h
        case .invalidUTF8(let h, _): return h
        case .invalidContentLength: return "content-length"
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .limitExceeded(limit, value, maximum, offset):
            return "peer exceeded \(limit): \(value) > \(maximum) at byte \(offset)"
        case let .unknownCommand(c, offset):
            return "peer sent unknown command \(c.debugDescription) at byte \(offset)"
        case let .malformedHeader(line, offset):
            return "peer sent malformed header line \(line.debugDescription) (no ':') at byte \(offset)"
        case let .invalidEscape(seq, header, offset):
            return "peer sent undefined escape \(seq.debugDescription) in header \(header.debugDescription) at byte \(offset)"
        case let .invalidContentLength(value, offset):
            return "peer sent invalid content-length \(value.debugDescription) at byte \(offset)"
        case let .missingNullAfterBody(offset):
            return "peer's frame body is not followed by NUL at byte \(offset)"
        case let .invalidUTF8(header, offset):
            if let header { return "peer sent invalid UTF-8 in header \(header.debugDescription) at byte \(offset)" }
            return "peer sent invalid UTF-8 in a header name at byte \(offset)"
        }
    }
}
