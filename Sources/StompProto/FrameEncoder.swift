#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes frames to bytes: the exact inverse of `FrameDecoder`. Escapes headers per version and
/// command, and adds `content-length` per the policy. On error nothing is written.
public struct FrameEncoder: Sendable {
    public var version: StompVersion
    public var contentLength: ContentLengthPolicy

    public init(version: StompVersion = .v1_2, contentLength: ContentLengthPolicy = .whenNeeded) {
        self.version = version
        self.contentLength = contentLength
    }

    /// One EOL: what a heart-beat looks like on the wire.
    public static let heartbeat: [UInt8] = [0x0A]

    /// Appends the encoded frame to `buffer`.
    public func encode(_ frame: StompFrame, into buffer: inout [UInt8]) throws {
        let start = buffer.count
        do {
            try write(frame, into: &buffer)
        } catch {
            buffer.removeSubrange(start...)
            throw error
        }
    }

    /// The encoded frame.
    public func encode(_ frame: StompFrame) throws -> [UInt8] {
        var out: [UInt8] = []
        try write(frame, into: &out)
        return out
    }

    private func write(_ frame: StompFrame, into out: inout [UInt8]) throws {
        let mode = HeaderEscaping.mode(version: version, command: frame.command)
        let body = frame.body
        out.reserveCapacity(out.count + body.count + 64 + frame.headers.count * 32)
        out.append(contentsOf: frame.command.rawValue.utf8)
        out.append(0x0A)

        var explicitLength = false
        for e in frame.headers.entries {
            if !explicitLength && e.name == "content-length" {
                explicitLength = true   // the first one is what the peer will use
                guard e.value == String(body.count) else {
                    throw FrameEncodingError.contentLengthMismatch(declared: e.value, actual: body.count)
                }
            }
            try HeaderEscaping.appendEscaped(e.name, isName: true, name: e.name, mode: mode, into: &out)
            out.append(0x3A)
            try HeaderEscaping.appendEscaped(e.value, isName: false, name: e.name, mode: mode, into: &out)
            out.append(0x0A)
        }

        if !explicitLength {
            let hasNull = body.withUnsafeBytes { p in
                p.isEmpty ? false : memchr(p.baseAddress!, 0, p.count) != nil
            }
            let add: Bool
            switch contentLength {
            case .whenNeeded: add = hasNull
            case .always: add = frame.command.allowsBody || !body.isEmpty
            case .never:
                if hasNull { throw FrameEncodingError.nullInBodyWithoutContentLength }
                add = false
            }
            if add {
                out.append(contentsOf: "content-length:".utf8)
                out.append(contentsOf: String(body.count).utf8)
                out.append(0x0A)
            }
        }
        out.append(0x0A)
        out.append(contentsOf: body)
        out.append(0)
    }
}
