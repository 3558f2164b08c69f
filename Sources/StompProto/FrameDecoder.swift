#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the decoder produces: a frame, or one EOL seen between frames (a heart-beat).
public enum FrameDecoderEvent: Sendable, Equatable {
    case frame(StompFrame)
    case heartbeat
}

/// Incremental STOMP decoder: bytes in any chunking give the same events.
///
/// Feed bytes with `append`, then call `next()` until it returns nil (more bytes needed).
/// LF and CRLF line endings are accepted; each EOL between frames is reported as `.heartbeat`
/// (ActiveMQ sends a LF after every NUL). The body is read by `content-length` when present
/// (binary, may contain NUL), otherwise up to the first NUL. Header values are never trimmed;
/// repeats are kept. Every limit is enforced while bytes are still arriving.
/// After `next()` throws, the decoder is unusable: it rethrows the same error.
public struct FrameDecoder: Sendable {
    /// Decides header escaping. Set it once CONNECTED has been received
    /// (CONNECT/CONNECTED frames are never escaped anyway).
    public var version: StompVersion
    public var limits: StompLimits

    private enum State: Sendable { case idle, command, headers, body }

    /// Unconsumed bytes are `buffer[readIndex...]`; consumed ones are dropped when appending.
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Stream offset of `buffer[0]`.
    private var baseOffset = 0
    /// Bytes after `readIndex` already searched for the current delimiter (avoids rescans).
    private var scanned = 0
    private var state: State = .idle
    private var failure: FrameDecodingError?

    // The frame being assembled.
    private var command: StompCommand = .send
    private var escaping: HeaderEscaping.Mode = .none
    private var entries: [StompHeaders.Entry] = []
    private var contentLength: Int?
    private var sawContentLength = false

    public init(version: StompVersion = .v1_2, limits: StompLimits = .default) {
        self.version = version
        self.limits = limits
    }

    /// Bytes received but not yet consumed.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True between frames (no partial frame pending): a clean place for the stream to end.
    public var isAtFrameBoundary: Bool { state == .idle && readIndex == buffer.count }

    /// Stream offset of the next unconsumed byte (total bytes consumed so far).
    public var streamOffset: Int { baseOffset + readIndex }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        compact()
        bytes.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        compact()
        if bytes.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Drops consumed bytes: all of them when nothing is pending, otherwise when they are
    /// at least half the buffer (amortised O(1) per byte).
    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            baseOffset += readIndex
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= buffer.count / 2 {
            baseOffset += readIndex
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws -> FrameDecoderEvent? {
        if let failure { throw failure }
        do {
            let storage = buffer   // keeps the bytes alive while we mutate the other fields
            return try storage.withUnsafeBytes { try parse($0) }
        } catch let error as FrameDecodingError {
            failure = error
            throw error
        }
    }

    @inline(__always)
    private static func find(_ byte: UInt8, _ raw: UnsafeRawBufferPointer, from: Int) -> Int? {
        let n = raw.count - from
        guard n > 0, let base = raw.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), n) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// True if a line of `avail` bytes with no LF yet is already longer than `max` (+ a possible CR).
    @inline(__always)
    private func lineTooLong(_ raw: UnsafeRawBufferPointer, avail: Int, max: Int) -> Bool {
        avail > max + 1 || (avail == max + 1 && raw[raw.count - 1] != 0x0D)
    }

    private mutating func parse(_ raw: UnsafeRawBufferPointer) throws -> FrameDecoderEvent? {
        while true {
            let avail = raw.count - readIndex
            switch state {
            case .idle:
                guard avail > 0 else { return nil }
                let b = raw[readIndex]
                if b == 0x0A {
                    readIndex += 1
                    return .heartbeat
                }
                if b == 0x0D {
                    guard avail >= 2 else { return nil }
                    if raw[readIndex + 1] == 0x0A {
                        readIndex += 2
                        return .heartbeat
                    }
                }
                state = .command
                scanned = 0

            case .command:
                guard let lf = Self.find(0x0A, raw, from: readIndex + scanned) else {
                    scanned = avail
                    if lineTooLong(raw, avail: avail, max: limits.maxCommandLength) {
                        throw FrameDecodingError.limitExceeded(limit: "maxCommandLength", value: avail,
                                                               maximum: limits.maxCommandLength, offset: streamOffset)
                    }
                    return nil
                }
                var end = lf
                if end > readIndex && raw[end - 1] == 0x0D { end -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: raw[readIndex..<end])
                if line.count > limits.maxCommandLength {
                    throw FrameDecodingError.limitExceeded(limit: "maxCommandLength", value: line.count,
                                                           maximum: limits.maxCommandLength, offset: streamOffset)
                }
                guard let cmd = StompCommand.parse(line) else {
                    throw FrameDecodingError.unknownCommand(String(decoding: line, as: UTF8.self), offset: streamOffset)
                }
                command = cmd
                escaping = HeaderEscaping.mode(version: version, command: cmd)
                entries = []
                entries.reserveCapacity(12)   // a broker's MESSAGE has 8 to 12: no regrowth
                contentLength = nil
                sawContentLength = false
                readIndex = lf + 1
                scanned = 0
                state = .headers

            case .headers:
                guard let lf = Self.find(0x0A, raw, from: readIndex + scanned) else {
                    scanned = avail
                    if lineTooLong(raw, avail: avail, max: limits.maxHeaderLineLength) {
                        throw FrameDecodingError.limitExceeded(limit: "maxHeaderLineLength", value: avail,
                                                               maximum: limits.maxHeaderLineLength, offset: streamOffset)
                    }
                    return nil
                }
                var end = lf
                if end > readIndex && raw[end - 1] == 0x0D { end -= 1 }
                if end == readIndex {   // blank line: headers done
                    readIndex = lf + 1
                    scanned = 0
                    state = .body
                    continue
                }
                if end - readIndex > limits.maxHeaderLineLength {
                    throw FrameDecodingError.limitExceeded(limit: "maxHeaderLineLength", value: end - readIndex,
                                                           maximum: limits.maxHeaderLineLength, offset: streamOffset)
                }
                if entries.count >= limits.maxHeaderCount {
                    throw FrameDecodingError.limitExceeded(limit: "maxHeaderCount", value: entries.count + 1,
                                                           maximum: limits.maxHeaderCount, offset: streamOffset)
                }
                try parseHeader(raw, start: readIndex, end: end)
                readIndex = lf + 1
                scanned = 0

            case .body:
                let body: [UInt8]
                if let length = contentLength {
                    guard avail > length else { return nil }
                    guard raw[readIndex + length] == 0 else {
                        throw FrameDecodingError.missingNullAfterBody(offset: streamOffset + length)
                    }
                    body = Self.copy(raw, from: readIndex, count: length)
                    readIndex += length + 1
                } else {
                    guard let nul = Self.find(0, raw, from: readIndex + scanned) else {
                        scanned = avail
                        if avail > limits.maxBodySize {
                            throw FrameDecodingError.limitExceeded(limit: "maxBodySize", value: avail,
                                                                   maximum: limits.maxBodySize, offset: streamOffset)
                        }
                        return nil
                    }
                    let length = nul - readIndex
                    if length > limits.maxBodySize {
                        throw FrameDecodingError.limitExceeded(limit: "maxBodySize", value: length,
                                                               maximum: limits.maxBodySize, offset: streamOffset)
                    }
                    body = Self.copy(raw, from: readIndex, count: length)
                    readIndex = nul + 1
                }
                scanned = 0
                state = .idle
                let headers = StompHeaders(entries: entries)
                entries = []
                return .frame(StompFrame(command, headers: headers, body: body))
            }
        }
    }

    @inline(__always)
    private static func copy(_ raw: UnsafeRawBufferPointer, from: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        // `append(contentsOf:)` allocates through code specialised here; `init(unsafeUninitializedCapacity:)`
        // goes through the standard library's generic path (a metadata lookup per body).
        var body: [UInt8] = []
        body.append(contentsOf: UnsafeRawBufferPointer(start: raw.baseAddress! + from, count: count))
        return body
    }

    /// Parses one header line `raw[start..<end]` (EOL excluded) into `entries`.
    private mutating func parseHeader(_ raw: UnsafeRawBufferPointer, start: Int, end: Int) throws {
        let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
        let lineOffset = streamOffset   // == baseOffset + start
        guard let colonPtr = memchr(line.baseAddress!, 0x3A, line.count) else {
            throw FrameDecodingError.malformedHeader(line: String(decoding: line, as: UTF8.self), offset: lineOffset)
        }
        let colon = line.baseAddress!.distance(to: UnsafeRawPointer(colonPtr))
        let rawName = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let rawValue = UnsafeRawBufferPointer(rebasing: line[(colon + 1)...])

        let name = try Self.knownName(rawName) ?? decodeText(rawName, header: nil, offset: lineOffset)
        let value = try decodeText(rawValue, header: name, offset: lineOffset + colon + 1)

        if !sawContentLength && Self.isContentLength(rawName) {
            sawContentLength = true   // only the first one counts
            guard let length = Self.parseLength(rawValue) else {
                throw FrameDecodingError.invalidContentLength(value: value, offset: lineOffset + colon + 1)
            }
            if length > limits.maxBodySize {
                throw FrameDecodingError.limitExceeded(limit: "maxBodySize", value: length,
                                                       maximum: limits.maxBodySize, offset: lineOffset + colon + 1)
            }
            contentLength = length
        }
        entries.append(StompHeaders.Entry(name, value))
    }

    /// Common header names as static strings: no validation, no allocation (decoder hot path).
    /// They contain no escapable bytes, so raw bytes equal the unescaped name in every mode.
    @inline(__always)
    private static func knownName(_ p: UnsafeRawBufferPointer) -> String? {
        @inline(__always) func eq(_ s: StaticString) -> Bool {
            memcmp(p.baseAddress!, s.utf8Start, p.count) == 0
        }
        switch p.count {
        case 2: return eq("id") ? "id" : nil
        case 3: return eq("ack") ? "ack" : nil
        case 4: return eq("host") ? "host" : nil
        case 5: return eq("login") ? "login" : nil
        case 6: return eq("server") ? "server" : nil
        case 7:
            if eq("expires") { return "expires" }
            if eq("receipt") { return "receipt" }
            if eq("message") { return "message" }
            if eq("version") { return "version" }
            return eq("session") ? "session" : nil
        case 8: return eq("priority") ? "priority" : eq("passcode") ? "passcode" : nil
        case 9: return eq("timestamp") ? "timestamp" : nil
        case 10:
            if eq("message-id") { return "message-id" }
            if eq("receipt-id") { return "receipt-id" }
            if eq("heart-beat") { return "heart-beat" }
            return eq("persistent") ? "persistent" : nil
        case 11:
            if eq("destination") { return "destination" }
            if eq("transaction") { return "transaction" }
            return eq("redelivered") ? "redelivered" : nil
        case 12: return eq("subscription") ? "subscription" : eq("content-type") ? "content-type" : nil
        case 14: return eq("content-length") ? "content-length" : eq("accept-version") ? "accept-version" : nil
        default: return nil
        }
    }

    @inline(__always)
    private static func isContentLength(_ p: UnsafeRawBufferPointer) -> Bool {
        let s: StaticString = "content-length"
        return p.count == s.utf8CodeUnitCount && memcmp(p.baseAddress!, s.utf8Start, p.count) == 0
    }

    /// Decimal digits only (no sign, no spaces; leading zeros allowed); nil on overflow or anything else.
    /// The encoder checks an explicit `content-length` with it, so both sides read the value alike.
    static func parseLength(_ p: UnsafeRawBufferPointer) -> Int? {
        guard !p.isEmpty, p.count <= 18 else { return nil }
        var n = 0
        for b in p {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }

    /// Unescapes (per the frame's mode) and validates UTF-8. `header` nil = this is a name.
    @inline(__always)
    private func decodeText(_ p: UnsafeRawBufferPointer, header: String?, offset: Int) throws -> String {
        if p.isEmpty { return "" }
        if escaping != .none, memchr(p.baseAddress!, 0x5C, p.count) != nil {
            let nameForErrors = header ?? String(decoding: p, as: UTF8.self)
            // Unescaped straight into the string's storage (unescaping only shrinks), validated there.
            var valid = true
            let s = try String(unsafeUninitializedCapacity: p.count) { dst in
                let n = try HeaderEscaping.unescape(p, mode: escaping, header: nameForErrors, offset: offset,
                                                    into: dst.baseAddress!)
                valid = UTF8Validation.isValid(UnsafeRawBufferPointer(start: dst.baseAddress!, count: n))
                return valid ? n : 0
            }
            guard valid else { throw FrameDecodingError.invalidUTF8(header: header, offset: offset) }
            return s
        }
        guard let s = UTF8Validation.string(p) else {
            throw FrameDecodingError.invalidUTF8(header: header, offset: offset)
        }
        return s
    }
}
