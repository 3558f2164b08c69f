/// A peer's protocol violation found while decoding. Every kind carries the byte offset,
/// counted from the start of the stream, where the offending element starts. A struct over a private
/// enum so that new kinds can be added without breaking callers.
public struct FrameDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case limitExceeded(limit: String, value: Int, maximum: Int, offset: Int)
        case unknownCommand(String, offset: Int)
        case malformedHeader(line: String, offset: Int)
        case invalidEscape(sequence: String, header: String, offset: Int)
        case invalidContentLength(value: String, offset: Int)
        case missingNullAfterBody(offset: Int)
        case invalidUTF8(header: String?, offset: Int)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// `limit` names the `StompLimits` property ("maxHeaderLineLength", ...); `value` is what was seen
    /// (possibly a lower bound: the decoder stops reading as soon as the limit is passed).
    public static func limitExceeded(limit: String, value: Int, maximum: Int, offset: Int) -> FrameDecodingError {
        .init(.limitExceeded(limit: limit, value: value, maximum: maximum, offset: offset))
    }
    public static func unknownCommand(_ command: String, offset: Int) -> FrameDecodingError {
        .init(.unknownCommand(command, offset: offset))
    }
    /// A header line without ':'.
    public static func malformedHeader(line: String, offset: Int) -> FrameDecodingError {
        .init(.malformedHeader(line: line, offset: offset))
    }
    /// An escape other than those the version defines (e.g. `\t`), or a trailing `\`.
    public static func invalidEscape(sequence: String, header: String, offset: Int) -> FrameDecodingError {
        .init(.invalidEscape(sequence: sequence, header: header, offset: offset))
    }
    /// A `content-length` that is not a non-negative decimal integer.
    public static func invalidContentLength(value: String, offset: Int) -> FrameDecodingError {
        .init(.invalidContentLength(value: value, offset: offset))
    }
    /// The byte after a `content-length` body is not NUL.
    public static func missingNullAfterBody(offset: Int) -> FrameDecodingError { .init(.missingNullAfterBody(offset: offset)) }
    /// A header name or value (header: nil for a name) that is not valid UTF-8.
    public static func invalidUTF8(header: String?, offset: Int) -> FrameDecodingError {
        .init(.invalidUTF8(header: header, offset: offset))
    }

    /// Always `.peer`: the bytes came from the other side.
    public var fault: StompFault { .peer }

    /// Byte offset from the start of the stream.
    public var offset: Int {
        switch kind {
        case .limitExceeded(_, _, _, let o), .unknownCommand(_, let o), .malformedHeader(_, let o),
             .invalidEscape(_, _, let o), .invalidContentLength(_, let o), .missingNullAfterBody(let o),
             .invalidUTF8(_, let o):
            return o
        }
    }

    /// The header concerned, when there is one.
    public var headerName: String? {
        switch kind {
        case .invalidEscape(_, let h, _): return h
        case .invalidUTF8(let h, _): return h
        case .invalidContentLength: return "content-length"
        default: return nil
        }
    }

    /// The `StompLimits` property passed and its maximum, when a limit is the error.
    public var exceededLimit: (name: String, maximum: Int)? {
        if case let .limitExceeded(limit, _, maximum, _) = kind { return (limit, maximum) }
        return nil
    }

    public var description: String {
        switch kind {
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
