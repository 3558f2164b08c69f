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

    /// The most bytes `frame` can take encoded (the head with every header byte escaped to two, a
    /// `content-length` line, the body, the NUL): the room `encode(_:to:)` needs.
    public func maximumEncodedCount(_ frame: StompFrame) -> Int {
        Self.bound(frame, mode: HeaderEscaping.mode(version: version, command: frame.command))
    }

    @inline(__always)
    private static func bound(_ frame: StompFrame, mode: HeaderEscaping.Mode) -> Int {
        let escapeFactor = mode == .none ? 1 : 2
        return frame.command.wireName.utf8CodeUnitCount + 2 + frame.headers.byteCount * escapeFactor
            + 2 * frame.headers.spans.count + lengthPrefix.utf8CodeUnitCount + 20 + 1 + frame.body.count + 1
    }

    /// Writes the encoded frame at `out` (at least `maximumEncodedCount(frame)` bytes: a caller's own buffer,
    /// e.g. an outbound network buffer, without an intermediate array); returns the bytes written. When it
    /// throws, what it wrote at `out` means nothing.
    public func encode(_ frame: StompFrame, to out: UnsafeMutableRawBufferPointer) throws -> Int {
        let (mode, addedLength) = try check(frame)
        precondition(out.count >= Self.bound(frame, mode: mode), "FrameEncoder.encode(_:to:): room for maximumEncodedCount bytes needed")
        var d = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        d += try writeHead(frame, command: frame.command.wireName, mode: mode, addedLength: addedLength, to: d)
        let body = frame.body
        body.withUnsafeBufferPointer { b in
            if b.count > 0 { d.update(from: b.baseAddress!, count: b.count) }
        }
        d += body.count
        d.pointee = 0
        return UnsafeMutableRawPointer(d + 1) - out.baseAddress!
    }

    private static var lengthPrefix: StaticString { "content-length:" }

    /// What writing `frame` takes: its escaping mode and the `content-length` to add (nil: none). Throws what
    /// makes it unencodable apart from a header's bytes (a declared length that is not the body's, a NUL
    /// without a length where the policy adds none).
    @inline(__always)
    private func check(_ frame: StompFrame) throws -> (mode: HeaderEscaping.Mode, addedLength: Int?) {
        let mode = HeaderEscaping.mode(version: version, command: frame.command)
        let headers = frame.headers
        let body = frame.body

        var explicitLength = false
        if let i = headers.firstIndex("content-length" as StaticString) {
            explicitLength = true   // the first one is what the peer will use, read as the decoder reads it
            let v = headers.spans[i]
            let declared = headers.storage.withUnsafeBytes {
                FrameDecoder.parseLength(UnsafeRawBufferPointer(rebasing: $0[v.valueStart..<v.valueStart + v.valueCount]))
            }
            guard declared == body.count else {
                throw FrameEncodingError.contentLengthMismatch(declared: headers.string(v.valueStart, v.valueCount),
                                                               actual: body.count)
            }
        }
        var addedLength: Int?
        if !explicitLength {
            let hasNull = body.withUnsafeBytes { p in
                p.isEmpty ? false : memchr(p.baseAddress!, 0, p.count) != nil
            }
            switch contentLength {
            case .whenNeeded:
                if hasNull { addedLength = body.count }
            case .always:
                if frame.command.allowsBody || !body.isEmpty { addedLength = body.count }
            case .never:
                if hasNull { throw FrameEncodingError.nullInBodyWithoutContentLength }
            }
        }
        return (mode, addedLength)
    }

    /// Measures first (validating every header, so nothing is written on error), then writes
    /// the whole frame through one pointer.
    private func write(_ frame: StompFrame, into out: inout [UInt8]) throws {
        let (mode, addedLength) = try check(frame)
        let headers = frame.headers
        let command = frame.command.wireName
        // Room for the head (command line, header lines, blank line) with every header byte escaped to two.
        let escapeFactor = mode == .none ? 1 : 2
        var room = command.utf8CodeUnitCount + 2 + headers.byteCount * escapeFactor + 2 * headers.spans.count
        if let addedLength { room += Self.lengthPrefix.utf8CodeUnitCount + Self.decimalDigits(addedLength) + 1 }

        // The head is escaped and checked in one pass into scratch space (on the stack when small), then
        // appended in one copy, then the body and the NUL: nothing reaches `out` when a header throws.
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: room) { p in
            let head = try writeHead(frame, command: command, mode: mode, addedLength: addedLength, to: p.baseAddress!)
            assert(head <= room)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[0..<head]))
        }
        out.append(contentsOf: frame.body)
        out.append(0)
    }

    /// Writes the head (command line, header lines escaped and checked, the added `content-length`, the blank
    /// line) at `dst`, which has room for it with every header byte escaped to two; returns the bytes written.
    @inline(__always)
    private func writeHead(_ frame: StompFrame, command: StaticString, mode: HeaderEscaping.Mode, addedLength: Int?,
                           to dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let headers = frame.headers
        var d = dst
        d.update(from: command.utf8Start, count: command.utf8CodeUnitCount)
        d += command.utf8CodeUnitCount
        d.pointee = 0x0A; d += 1
        if let received = headers.receivedLineBytes(for: mode) {
            // Lines from a decoder in this escaping, unedited: written back as they came, in one copy. Each is
            // its name and value escaped (at most two bytes each, none in mode .none), ':' and LF: within the
            // room the callers made for every header byte escaped to two.
            precondition(received <= headers.byteCount * (mode == .none ? 1 : 2) + 2 * headers.spans.count,
                         "received header lines beyond the room for the headers")
            if received > 0 {
                headers.storage.withUnsafeBufferPointer { ByteScan.copy(d, $0.baseAddress!, received) }
                d += received
            }
        } else {
            try headers.storage.withUnsafeBufferPointer { stored in
                for span in headers.spans {
                    if span.plain {   // nothing to escape or reject: two copies
                        ByteScan.copy(d, stored.baseAddress! + span.nameStart, span.nameCount)
                        d += span.nameCount
                        d.pointee = 0x3A; d += 1
                        ByteScan.copy(d, stored.baseAddress! + span.valueStart, span.valueCount)
                        d += span.valueCount
                        d.pointee = 0x0A; d += 1
                        continue
                    }
                    let name = UnsafeBufferPointer(rebasing: stored[span.nameStart..<span.nameStart + span.nameCount])
                    let value = UnsafeBufferPointer(rebasing: stored[span.valueStart..<span.valueStart + span.valueCount])
                    d += try HeaderEscaping.writeChecked(name, isName: true, name: String(decoding: name, as: UTF8.self),
                                                         mode: mode, to: d)
                    d.pointee = 0x3A; d += 1
                    d += try HeaderEscaping.writeChecked(value, isName: false, name: String(decoding: name, as: UTF8.self),
                                                         mode: mode, to: d)
                    d.pointee = 0x0A; d += 1
                }
            }
        }
        if let addedLength {
            d.update(from: Self.lengthPrefix.utf8Start, count: Self.lengthPrefix.utf8CodeUnitCount)
            d += Self.lengthPrefix.utf8CodeUnitCount
            d += Self.writeDecimal(addedLength, to: d)
            d.pointee = 0x0A; d += 1
        }
        d.pointee = 0x0A; d += 1
        return dst.distance(to: d)
    }

    /// Number of decimal digits of `n` (n ≥ 0).
    @inline(__always)
    static func decimalDigits(_ n: Int) -> Int {
        var digits = 1
        var v = n
        while v >= 10 { v /= 10; digits += 1 }
        return digits
    }

    /// Writes `n` (≥ 0) in decimal at `dst`; returns the digits written.
    @inline(__always)
    static func writeDecimal(_ n: Int, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let count = decimalDigits(n)
        var v = n
        var i = count
        repeat {
            i -= 1
            dst[i] = 0x30 + UInt8(v % 10)
            v /= 10
        } while v > 0
        return count
    }
}
