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
        try write(frame, into: &buffer)   // throws before writing anything
    }

    /// The encoded frame.
    public func encode(_ frame: StompFrame) throws -> [UInt8] {
        var out: [UInt8] = []
        try write(frame, into: &out)
        return out
    }

    /// Measures first (validating every header, so nothing is written on error), then writes
    /// the whole frame through one pointer.
    private func write(_ frame: StompFrame, into out: inout [UInt8]) throws {
        let mode = HeaderEscaping.mode(version: version, command: frame.command)
        let entries = frame.headers.entries
        let body = frame.body

        var explicitLength = false
        for e in entries where e.name == "content-length" {
            explicitLength = true   // the first one is what the peer will use, read as the decoder reads it
            let declared = HeaderEscaping.withUTF8(e.value) { FrameDecoder.parseLength(UnsafeRawBufferPointer($0)) }
            guard declared == body.count else {
                throw FrameEncodingError.contentLengthMismatch(declared: e.value, actual: body.count)
            }
            break
        }
        var addedLength: String?
        if !explicitLength {
            let hasNull = body.withUnsafeBytes { p in
                p.isEmpty ? false : memchr(p.baseAddress!, 0, p.count) != nil
            }
            switch contentLength {
            case .whenNeeded:
                if hasNull { addedLength = String(body.count) }
            case .always:
                if frame.command.allowsBody || !body.isEmpty { addedLength = String(body.count) }
            case .never:
                if hasNull { throw FrameEncodingError.nullInBodyWithoutContentLength }
            }
        }

        let command = frame.command.rawValue
        var total = command.utf8.count + 1
        for e in entries {
            total += try HeaderEscaping.withUTF8(e.name) {
                try HeaderEscaping.escapedCount($0, isName: true, name: e.name, mode: mode)
            }
            total += try HeaderEscaping.withUTF8(e.value) {
                try HeaderEscaping.escapedCount($0, isName: false, name: e.name, mode: mode)
            }
            total += 2
        }
        let lengthPrefix: StaticString = "content-length:"
        if let addedLength { total += lengthPrefix.utf8CodeUnitCount + addedLength.utf8.count + 1 }
        total += 1 + body.count + 1

        let start = out.count
        out.append(contentsOf: repeatElement(0, count: total))
        out.withUnsafeMutableBufferPointer { p in
            var d = p.baseAddress! + start
            func put(_ s: String) {
                d += HeaderEscaping.withUTF8(s) { HeaderEscaping.writeEscaped($0, mode: .none, to: d) }
            }
            put(command)
            d.pointee = 0x0A; d += 1
            for e in entries {
                d += HeaderEscaping.withUTF8(e.name) { HeaderEscaping.writeEscaped($0, mode: mode, to: d) }
                d.pointee = 0x3A; d += 1
                d += HeaderEscaping.withUTF8(e.value) { HeaderEscaping.writeEscaped($0, mode: mode, to: d) }
                d.pointee = 0x0A; d += 1
            }
            if let addedLength {
                d.update(from: lengthPrefix.utf8Start, count: lengthPrefix.utf8CodeUnitCount)
                d += lengthPrefix.utf8CodeUnitCount
                put(addedLength)
                d.pointee = 0x0A; d += 1
            }
            d.pointee = 0x0A; d += 1
            body.withUnsafeBufferPointer { b in
                if let src = b.baseAddress { d.update(from: src, count: b.count) }
                d += b.count
            }
            d.pointee = 0
            assert(d - p.baseAddress! == start + total - 1)
        }
    }
}
