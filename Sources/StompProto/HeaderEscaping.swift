/// Header escaping by version and command (spec "Value Encoding"):
/// 1.0 none; 1.1 `\n` `\c` `\\`; 1.2 adds `\r`; CONNECT, STOMP and CONNECTED frames never escaped.
/// Any other escape is an error in 1.1/1.2 frames.
public enum HeaderEscaping {
    /// How a given frame's headers are escaped.
    enum Mode: Sendable {
        case none, v1_1, v1_2
    }

    static func mode(version: StompVersion, command: StompCommand) -> Mode {
        if command.isConnectionHandshake { return .none }
        switch version {
        case .v1_0: return .none
        case .v1_1: return .v1_1
        case .v1_2: return .v1_2
        }
    }

    /// Escapes a header name or value for the wire. Throws when the string cannot be represented
    /// (in unescaped frames: LF anywhere, or a trailing CR that a decoder would strip).
    public static func escape(_ s: String, version: StompVersion, command: StompCommand) throws -> String {
        var out: [UInt8] = []
        try appendEscaped(s, isName: false, name: s, mode: mode(version: version, command: command), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Undoes `escape`. Throws `FrameDecodingError.invalidEscape` for an undefined escape (1.1/1.2);
    /// `header` and `offset` go into the error.
    public static func unescape(_ s: String, version: StompVersion, command: StompCommand,
                                header: String = "", offset: Int = 0) throws -> String {
        let m = mode(version: version, command: command)
        if m == .none { return s }
        var copy = s
        return try copy.withUTF8 { buf in
            let bytes = try unescape(UnsafeRawBufferPointer(buf), mode: m, header: header, offset: offset)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    // MARK: - Byte level (used by the encoder and decoder)

    /// Appends the escaped UTF-8 of `s`. `isName`: ':' in an unescaped name is unrepresentable.
    static func appendEscaped(_ s: String, isName: Bool, name: String, mode: Mode, into out: inout [UInt8]) throws {
        var s = s
        try s.withUTF8 { buf in
            // Fast path: nothing to escape, nothing to reject.
            var special = false
            for b in buf where b == 0x5C || b == 0x0A || b == 0x0D || b == 0x3A {
                special = true
                break
            }
            if !special {
                out.append(contentsOf: buf)
                return
            }
            switch mode {
            case .none:
                if buf.contains(0x0A) {
                    throw FrameEncodingError.unencodableHeader(name: name, value: String(decoding: buf, as: UTF8.self),
                                                               reason: "contains a line feed, which this frame cannot escape")
                }
                if isName && buf.contains(0x3A) {
                    throw FrameEncodingError.unencodableHeader(name: name, value: String(decoding: buf, as: UTF8.self),
                                                               reason: "the name contains ':', which this frame cannot escape")
                }
                if !isName && buf.last == 0x0D {
                    throw FrameEncodingError.unencodableHeader(name: name, value: String(decoding: buf, as: UTF8.self),
                                                               reason: "ends with a carriage return, which this frame cannot escape")
                }
                out.append(contentsOf: buf)
            case .v1_1, .v1_2:
                if mode == .v1_1 && buf.last == 0x0D {
                    throw FrameEncodingError.unencodableHeader(name: name, value: String(decoding: buf, as: UTF8.self),
                                                               reason: "ends with a carriage return, which STOMP 1.1 cannot escape")
                }
                out.reserveCapacity(out.count + buf.count + 8)
                for b in buf {
                    switch b {
                    case 0x5C: out.append(0x5C); out.append(0x5C)
                    case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                    case 0x3A: out.append(0x5C); out.append(UInt8(ascii: "c"))
                    case 0x0D where mode == .v1_2: out.append(0x5C); out.append(UInt8(ascii: "r"))
                    default: out.append(b)
                    }
                }
            }
        }
    }

    /// Unescapes raw header bytes. `offset` is the stream offset of the first byte (for errors).
    static func unescape(_ p: UnsafeRawBufferPointer, mode: Mode, header: String, offset: Int) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(p.count)
        var i = 0
        let n = p.count
        while i < n {
            let b = p[i]
            if b != 0x5C {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < n else {
                throw FrameDecodingError.invalidEscape(sequence: "\\", header: header, offset: offset + i)
            }
            switch p[i + 1] {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "c"): out.append(0x3A)
            case 0x5C: out.append(0x5C)
            case UInt8(ascii: "r") where mode == .v1_2: out.append(0x0D)
            default:
                // Report the escape as the peer wrote it (the next UTF-8 scalar, lossily).
                var end = i + 2
                while end < n && end < i + 5 && (p[end] & 0xC0) == 0x80 { end += 1 }
                let seq = String(decoding: UnsafeRawBufferPointer(rebasing: p[i..<end]), as: UTF8.self)
                throw FrameDecodingError.invalidEscape(sequence: seq, header: header, offset: offset + i)
            }
            i += 2
        }
        return out
    }
}
