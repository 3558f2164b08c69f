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
    /// Where the frame's header lines start in `buffer`: they stay there (not compacted away) until the
    /// blank line, then become the frame's `StompHeaders` storage in one copy.
    private var headStart = 0
    /// The lines parsed so far, offsets relative to `headStart`, counts after unescaping: the first
    /// `inlineLineCapacity` in `inlineSpans` (no heap array, no uniqueness check per line), moved into `spans` (the
    /// last frame's array, refilled when that frame is gone) at the blank line or when a frame has more lines.
    private var spans: [StompHeaders.Span] = []
    private var inlineSpans: InlineSpans = (zeroSpan, zeroSpan, zeroSpan, zeroSpan, zeroSpan, zeroSpan,
                                            zeroSpan, zeroSpan, zeroSpan, zeroSpan, zeroSpan, zeroSpan)
    private var lineCount = 0
    private typealias InlineSpans = (StompHeaders.Span, StompHeaders.Span, StompHeaders.Span, StompHeaders.Span,
                                     StompHeaders.Span, StompHeaders.Span, StompHeaders.Span, StompHeaders.Span,
                                     StompHeaders.Span, StompHeaders.Span, StompHeaders.Span, StompHeaders.Span)
    private static let inlineLineCapacity = 12   // a broker's MESSAGE has 8 to 12
    private static let zeroSpan = StompHeaders.Span(nameStart: 0, nameCount: 0, valueStart: 0, valueCount: 0, plain: true)
    /// Lines with escapes (index in `spans`, raw name and value byte counts): unescaped in the copy.
    private var escapedLines: [(line: Int, nameCount: Int, valueCount: Int)] = []
    /// How many of `escapedLines` are this frame's (the array is overwritten from the start, not cleared).
    private var escapedLineCount = 0
    /// Bytes the escaped names and values take once unescaped (stored after the lines as received).
    private var escapedBytes = 0
    /// Whether the frame's header lines are what the encoder writes for them in this escaping (LF ends, no raw
    /// CR, no second raw ':' where escaping applies): then its headers keep them for the encoder to copy.
    private var linesAsWritten = true
    /// The header lines' bytes as received (blank line excluded).
    private var headRawCount = 0
    /// Sum of the lines' name and value counts (after unescaping).
    private var headLiveBytes = 0
    private var contentLength: Int?
    /// The finished header bytes, between the blank line and the end of the body.
    private var headStorage: [UInt8] = []
    /// The last frame's body: its buffer is refilled for the next frame when that frame is gone by then
    /// (copy-on-write: a frame still held keeps its bytes, the next one gets a new buffer).
    private var bodyStorage: [UInt8] = []
    private var sawContentLength = false
    /// What the scan has seen of a header line that arrived in part (so a line arriving in pieces is scanned once).
    private var partialLine = LineScan()

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

    public mutating func append(_ bytes: [UInt8]) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        compact()
        if bytes.withContiguousStorageIfAvailable({ buffer.append(contentsOf: $0) }) == nil {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Drops consumed bytes: all of them when nothing is pending, otherwise when they are
    /// at least half the buffer (amortised O(1) per byte).
    /// The header lines of a frame still being read count as pending (they are copied at its blank line).
    private mutating func compact() {
        let keep = state == .headers ? headStart : readIndex
        guard keep > 0 else { return }
        if keep == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if keep >= buffer.count / 2 {
            buffer.removeSubrange(0..<keep)
        } else {
            return
        }
        baseOffset += keep
        readIndex -= keep
        if state == .headers { headStart -= keep }
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws -> FrameDecoderEvent? {
        if let failure { throw failure }
        if state == .idle && readIndex == buffer.count { return nil }   // nothing to read: no retain of the bytes
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
                headStart = lf + 1
                // The last frame's line records are refilled when that frame is gone (else a new array).
                lineCount = 0
                escapedLineCount = 0
                escapedBytes = 0
                linesAsWritten = true
                headLiveBytes = 0
                contentLength = nil
                sawContentLength = false
                readIndex = lf + 1
                scanned = 0
                partialLine = LineScan()
                state = .headers

            case .headers:
                // Line after line without leaving this case; the line's scan state lives in a local.
                var line = partialLine
                partialLine = LineScan()
                var blankLF = 0
                while true {
                    var found: Int?
                    if scanned == 0 {   // a line not yet looked at: first the plain-line scan
                        let at = Self.scanPlainLine(raw, start: readIndex, escaping: escaping, &line)
                        if at.isLF {
                            let lf = at.index
                            let colon = line.colon
                            if !line.backslash {   // one ':', nothing else to note: no CR, all ASCII
                                if lf == readIndex { blankLF = lf; break }   // blank line: headers done
                                if colon >= 0 && lf - readIndex <= limits.maxHeaderLineLength
                                    && lineCount < limits.maxHeaderCount {
                                    if colon == 14 && !sawContentLength
                                        && Self.isContentLength(UnsafeRawBufferPointer(rebasing: raw[readIndex..<(readIndex + 14)])) {
                                        try readContentLength(UnsafeRawBufferPointer(rebasing: raw[(readIndex + 15)..<lf]),
                                                              offset: streamOffset + 15)
                                    }
                                    let nameStart = readIndex - headStart
                                    let valueCount = lf - readIndex - colon - 1
                                    record(StompHeaders.Span(nameStart: nameStart, nameCount: colon,
                                                             valueStart: nameStart + colon + 1, valueCount: valueCount,
                                                             plain: true))
                                    headLiveBytes += colon + valueCount
                                    readIndex = lf + 1
                                    line.colon = -1   // all the plain-line scan noted: `line` is fresh again
                                    continue
                                }
                            }
                            found = lf   // escapes, no ':' or beyond a limit: below, as any line
                        } else {   // the line scan goes on where this one stopped, with what it noted
                            scanned = at.index - readIndex
                        }
                    }
                    if found == nil {
                        found = Self.scanHeaderLine(raw, lineStart: readIndex, from: readIndex + scanned,
                                                    escaping: escaping, &line)
                    }
                    guard let lf = found else {
                        scanned = line.resume - readIndex
                        partialLine = line
                        let avail = raw.count - readIndex
                        if lineTooLong(raw, avail: avail, max: limits.maxHeaderLineLength) {
                            throw FrameDecodingError.limitExceeded(limit: "maxHeaderLineLength", value: avail,
                                                                   maximum: limits.maxHeaderLineLength, offset: streamOffset)
                        }
                        return nil
                    }
                    var end = lf
                    if end > readIndex && raw[end - 1] == 0x0D {   // a CRLF line: its CR is no part of it
                        end -= 1
                        if line.cr { line.cr = memchr(raw.baseAddress! + readIndex, 0x0D, end - readIndex) != nil }
                        if end != readIndex { linesAsWritten = false }   // written back with LF
                    }
                    if end == readIndex { blankLF = lf; break }   // blank line: headers done
                    if end - readIndex > limits.maxHeaderLineLength {
                        throw FrameDecodingError.limitExceeded(limit: "maxHeaderLineLength", value: end - readIndex,
                                                               maximum: limits.maxHeaderLineLength, offset: streamOffset)
                    }
                    if lineCount >= limits.maxHeaderCount {
                        throw FrameDecodingError.limitExceeded(limit: "maxHeaderCount", value: lineCount + 1,
                                                               maximum: limits.maxHeaderCount, offset: streamOffset)
                    }
                    if line.colon >= 0 && line.isPlainASCII {   // the common line: nothing to check or unescape
                        if line.colon == 14 && !sawContentLength
                            && Self.isContentLength(UnsafeRawBufferPointer(rebasing: raw[readIndex..<(readIndex + 14)])) {
                            try readContentLength(UnsafeRawBufferPointer(rebasing: raw[(readIndex + 15)..<end]),
                                                  offset: streamOffset + 15)
                        }
                        let nameStart = readIndex - headStart
                        let valueCount = end - readIndex - line.colon - 1
                        record(StompHeaders.Span(nameStart: nameStart, nameCount: line.colon,
                                                       valueStart: nameStart + line.colon + 1, valueCount: valueCount,
                                                       plain: true))
                        headLiveBytes += line.colon + valueCount
                    } else {
                        try parseHeader(raw, start: readIndex, end: end, line)
                    }
                    readIndex = lf + 1
                    scanned = 0
                    line = LineScan()
                }
                let lf = blankLF
                headRawCount = readIndex - headStart
                headBytes(raw)
                if lineCount <= Self.inlineLineCapacity { moveInlineSpans() }
                readIndex = lf + 1
                scanned = 0
                state = .body

            case .body:
                let body: [UInt8]
                if let length = contentLength {
                    guard avail > length else { return nil }
                    guard raw[readIndex + length] == 0 else {
                        throw FrameDecodingError.missingNullAfterBody(offset: streamOffset + length)
                    }
                    body = Self.refill(&bodyStorage, raw, from: readIndex, count: length)
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
                    body = Self.refill(&bodyStorage, raw, from: readIndex, count: length)
                    readIndex = nul + 1
                }
                scanned = 0
                state = .idle
                let headers = StompHeaders(storage: headStorage, spans: spans, dead: headStorage.count - headLiveBytes,
                                           received: linesAsWritten ? headRawCount : -1, mode: escaping)
                // Large buffers are not kept for reuse: an idle connection must not pin its last big message.
                if bodyStorage.capacity > Self.reuseLimit { bodyStorage = [] }
                if headStorage.capacity > Self.reuseLimit { headStorage = [] }
                return .frame(StompFrame(command, headers: headers, body: body))
            }
        }
    }

    /// The largest buffer (bytes of capacity) the decoder keeps after handing it out in a frame, for the next one.
    static let reuseLimit = 64 * 1024

    /// `raw[from..<from+count]` in `buffer`, returned: the buffer's storage is reused when nothing else holds it
    /// any more (the last frame is gone) and it is not oversized (at most twice the bytes + 64: a frame kept
    /// by its reader never pins a much larger buffer); otherwise a new one is made.
    @inline(__always)
    private static func refill(_ buffer: inout [UInt8], _ raw: UnsafeRawBufferPointer, from: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        fill(&buffer, raw, from: from, count: count)
        return buffer
    }

    /// `refill` without the result.
    @inline(__always)
    private static func fill(_ buffer: inout [UInt8], _ raw: UnsafeRawBufferPointer, from: Int, count: Int,
                             reserving extra: Int = 0) {
        // `init(unsafeUninitializedCapacity:)` would go through the standard library's generic path (a metadata
        // lookup per body); `replaceSubrange` with typed bytes is specialised here (one memcpy).
        if buffer.capacity > 2 * (count + extra) + 64 || buffer.capacity < count + extra { buffer = [] }
        if extra > 0 && buffer.isEmpty { buffer.reserveCapacity(count + extra) }
        buffer.replaceSubrange(0..<buffer.count, with: Self.typed(raw, from: from, count: count))
    }

    /// `raw[from..<from+count]` as typed bytes: `Array.append(contentsOf:)` copies those with one memcpy
    /// (given an `UnsafeRawBufferPointer` it goes through the generic sequence path).
    /// Notes line record `span` (the next line): inline while there is room, else in `spans`.
    @inline(__always)
    private mutating func record(_ span: StompHeaders.Span) {
        let i = lineCount
        if i < Self.inlineLineCapacity {
            withUnsafeMutableBytes(of: &inlineSpans) { $0.baseAddress!.assumingMemoryBound(to: StompHeaders.Span.self)[i] = span }
        } else {
            if i == Self.inlineLineCapacity { moveInlineSpans() }
            spans.append(span)
        }
        lineCount = i + 1
    }

    /// `spans` := the inline line records (the first `min(lineCount, inlineLineCapacity)`), in one copy into the
    /// last frame's array when nothing holds it any more and it is not oversized, else into a new one.
    @inline(__always)
    private mutating func moveInlineSpans() {
        let n = Swift.min(lineCount, Self.inlineLineCapacity)
        if spans.capacity > 64 { spans = [] }
        withUnsafeBytes(of: &inlineSpans) { raw in
            let lines = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: StompHeaders.Span.self), count: n)
            spans.replaceSubrange(0..<spans.count, with: lines)
        }
    }

    @inline(__always)
    private static func typed(_ raw: UnsafeRawBufferPointer, from: Int, count: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: (raw.baseAddress! + from).assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// The header lines `raw[headStart..<headStart+headRawCount]` copied in one piece into `headStorage`, as received;
    /// the escaped names and values (their escapes checked when parsed) unescaped after them, their line records
    /// (still inline, or in `spans` past `inlineLineCapacity`) pointed there.
    private mutating func headBytes(_ raw: UnsafeRawBufferPointer) {
        let count = headRawCount
        guard count > 0 else { headStorage = []; return }
        guard escapedLineCount > 0 else { Self.fill(&headStorage, raw, from: headStart, count: count); return }
        // The lines and room for the unescaped parts, in one copy when the bytes after the lines (blank line, body)
        // are enough to fill the room (it is overwritten below); else the lines and then part of them again
        // (unescaping only shrinks: they are enough).
        if raw.count - headStart >= count + escapedBytes {
            Self.fill(&headStorage, raw, from: headStart, count: count + escapedBytes)
        } else {
            Self.fill(&headStorage, raw, from: headStart, count: count, reserving: escapedBytes)
            headStorage.append(contentsOf: Self.typed(raw, from: headStart, count: escapedBytes))
        }
        let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + headStart
        let inline = lineCount <= Self.inlineLineCapacity
        headStorage.withUnsafeMutableBufferPointer { dst in
            withUnsafeMutableBytes(of: &inlineSpans) { inlineRaw in
                let inlineLines = inlineRaw.baseAddress!.assumingMemoryBound(to: StompHeaders.Span.self)
                var o = count
                for k in 0..<escapedLineCount {   // only the parts whose escapes change them
                    let e = escapedLines[k]
                    var span = inline ? inlineLines[e.line] : spans[e.line]
                    if span.nameCount != e.nameCount {
                        _ = HeaderEscaping.unescapeChecked(src + span.nameStart, e.nameCount, into: dst.baseAddress! + o,
                                                           room: dst.count - o)
                        span.nameStart = o
                        o += span.nameCount
                    }
                    if span.valueCount != e.valueCount {
                        _ = HeaderEscaping.unescapeChecked(src + span.valueStart, e.valueCount, into: dst.baseAddress! + o,
                                                           room: dst.count - o)
                        span.valueStart = o
                        o += span.valueCount
                    }
                    if inline { inlineLines[e.line] = span } else { spans[e.line] = span }
                }
            }
        }
    }

    /// Parses one header line `raw[start..<end]` (EOL excluded), scanned by `scanHeaderLine`, into `spans`: checks
    /// its escapes and UTF-8, reads `content-length`; the bytes stay in `buffer` until the blank line (`headBytes`).
    private mutating func parseHeader(_ raw: UnsafeRawBufferPointer, start: Int, end: Int, _ scan: LineScan) throws {
        let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
        let lineOffset = streamOffset   // == baseOffset + start
        guard scan.colon >= 0 else {
            throw FrameDecodingError.malformedHeader(line: String(decoding: line, as: UTF8.self), offset: lineOffset)
        }
        let colon = scan.colon
        let rawName = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let rawValue = UnsafeRawBufferPointer(rebasing: line[(colon + 1)...])
        let ascii = scan.high & ByteScan.highs == 0
        let plain = !scan.colons2 && !scan.backslash && !scan.cr
        if scan.cr || (scan.colons2 && escaping != .none) { linesAsWritten = false }   // the encoder escapes these

        var nameCount = rawName.count
        var valueCount = rawValue.count
        if !plain || !ascii {   // escapes, or more bytes to check: name first, as before
            let escaped = escaping != .none && scan.backslash
            if escaped {
                nameCount = scan.badEscape
                    ? try unescapedCount(rawName, header: String(decoding: rawName, as: UTF8.self), offset: lineOffset)
                    : rawName.count - scan.nameEscapes
            }
            // Unescaping maps ASCII pairs to ASCII bytes at scalar boundaries: the raw bytes are UTF-8 exactly
            // when the unescaped ones are.
            if !ascii && !UTF8Validation.isValid(rawName) {
                throw FrameDecodingError.invalidUTF8(header: nil, offset: lineOffset)
            }
            if escaped {
                valueCount = scan.badEscape
                    ? try unescapedCount(rawValue, header: unescapedString(rawName), offset: lineOffset + colon + 1)
                    : rawValue.count - scan.valueEscapes
                if nameCount != rawName.count || valueCount != rawValue.count {
                    escapedBytes += (nameCount != rawName.count ? nameCount : 0) + (valueCount != rawValue.count ? valueCount : 0)
                    let e = (line: lineCount, nameCount: rawName.count, valueCount: rawValue.count)
                    if escapedLineCount < escapedLines.count { escapedLines[escapedLineCount] = e } else { escapedLines.append(e) }
                    escapedLineCount += 1
                }
            }
            if !ascii && !UTF8Validation.isValid(rawValue) {
                throw FrameDecodingError.invalidUTF8(header: unescapedString(rawName), offset: lineOffset + colon + 1)
            }
        }

        if !sawContentLength && colon == 14 && Self.isContentLength(rawName) {
            try readContentLength(rawValue, offset: lineOffset + colon + 1)
        }
        let nameStart = start - headStart
        record(StompHeaders.Span(nameStart: nameStart, nameCount: nameCount,
                                       valueStart: nameStart + colon + 1, valueCount: valueCount,
                                       plain: plain))
        headLiveBytes += nameCount + valueCount
    }

    /// What the scan of one header line has seen: its first ':' (offset in the line, -1 before one), whether it
    /// has another ':', a '\\', a CR, the high bits of its bytes (non-ASCII when nonzero); its escapes (frames
    /// with escaping only), each checked as the scan passes it: how many before the first ':' and after it (each
    /// makes one byte of two), and whether one is undefined (then `parseHeader` takes the byte-exact path that
    /// reports it); where the scan goes on when more bytes come.
    struct LineScan {
        var colon = -1
        var colons2 = false
        var backslash = false
        var cr = false
        var badEscape = false
        var high: UInt64 = 0
        var nameEscapes = 0
        var valueEscapes = 0
        var resume = 0

        /// One ':', nothing to escape, all ASCII: stored and written back as it is.
        @inline(__always)
        var isPlainASCII: Bool { !colons2 && !backslash && !cr && high & ByteScan.highs == 0 }
    }

    /// Scans the header line starting at `lineStart` from `from` up to its LF, noting in `line` what
    /// `parseHeader` needs: one pass, no memchr. Words of 8 bytes with nothing to note (no control byte below
    /// 0x0E, ':', '\\' or byte >= 0x80) cost one test; a word with one goes on just after its first such byte.
    /// Returns the LF's index, or nil when the bytes so far hold none (`line.resume`: where to go on).
    @inline(__always)
    private static func scanHeaderLine(_ raw: UnsafeRawBufferPointer, lineStart: Int, from: Int,
                                       escaping: HeaderEscaping.Mode, _ line: inout LineScan) -> Int? {
        let n = raw.count
        var i = from
        guard i < n, let base = raw.baseAddress else { line.resume = i; return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let escapes = escaping != .none
        while true {
            if i + 8 <= n {
                let x = ByteScan.load(p + i)
                let m = ByteScan.below(x, 0x0E) | ByteScan.equal(x, 0x3A) | ByteScan.equal(x, 0x5C) | (x & ByteScan.highs)
                if m == 0 { i += 8; continue }
                i += m.trailingZeroBitCount >> 3   // the first byte to note (exact: the lowest flag is)
            } else if i >= n {
                line.resume = n
                return nil
            }
            let b = p[i]
            switch b {
            case 0x0A: return i
            case 0x3A: if line.colon < 0 { line.colon = i - lineStart } else { line.colons2 = true }
            case 0x5C:
                line.backslash = true
                guard escapes else { break }
                guard i + 1 < n else {   // its escaped byte has not arrived: look again from here
                    line.resume = i
                    return nil
                }
                switch p[i + 1] {
                case UInt8(ascii: "n"), UInt8(ascii: "c"), 0x5C:
                    break
                case UInt8(ascii: "r") where escaping == .v1_2:
                    break
                default:
                    line.badEscape = true
                    i += 1
                    continue
                }
                if line.colon < 0 { line.nameEscapes += 1 } else { line.valueEscapes += 1 }
                i += 2
                continue
            case 0x0D: line.cr = true
            default: line.high |= UInt64(b)
            }
            i += 1
        }
    }

    /// The plain-line scan: from `start` (a header line's first byte, `line` fresh), words of 8 bytes while 8 bytes
    /// remain, each word read once and its flagged bytes taken in turn from its mask. It takes what most lines are
    /// made of: bytes from 0x0E to 0x7F, the first ':' (noted in `line`), and, where the frame has escaping, escapes
    /// whose letter is there and defined (counted in `line` as `scanHeaderLine` counts them). It stops at the LF
    /// (`isLF`, `index` the LF; no CR, control byte or non-ASCII byte in the line) or at the first byte it does not
    /// take (a second ':', CR, another control byte, non-ASCII, a '\\' it does not take) or where fewer than 8
    /// bytes remain: `index` that byte, where `scanHeaderLine` goes on with what `line` holds.
    @inline(__always)
    private static func scanPlainLine(_ raw: UnsafeRawBufferPointer, start: Int, escaping: HeaderEscaping.Mode,
                                      _ line: inout LineScan) -> (index: Int, isLF: Bool) {
        let n = raw.count
        var i = start
        guard let base = raw.baseAddress else { return (i, false) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        words: while i &+ 8 <= n {
            let x = ByteScan.load(p + i)
            // Every byte that matches is flagged (the masks' false flags, above a match, are bytes looked at for nothing).
            var m = ByteScan.below(x, 0x0E) | ByteScan.equal(x, 0x3A) | ByteScan.equal(x, 0x5C) | (x & ByteScan.highs)
            while m != 0 {
                let j = i &+ (m.trailingZeroBitCount &>> 3)
                let b = p[j]
                if b == 0x0A { return (j, true) }
                if b == 0x3A {
                    if line.colon >= 0 { return (j, false) }
                    line.colon = j &- start
                } else if b == 0x5C {
                    guard escaping != .none, j &+ 1 < n else { return (j, false) }
                    switch p[j &+ 1] {
                    case UInt8(ascii: "n"), UInt8(ascii: "c"), 0x5C: break
                    case UInt8(ascii: "r") where escaping == .v1_2: break
                    default: return (j, false)
                    }
                    line.backslash = true
                    if line.colon < 0 { line.nameEscapes &+= 1 } else { line.valueEscapes &+= 1 }
                    i = j &+ 2   // past the escape's letter (which may be a '\\')
                    continue words
                } else if b < 0x0E || b >= 0x80 {
                    return (j, false)
                }
                m &= m &- 1
            }
            i &+= 8
        }
        return (i, false)
    }

    /// The first `content-length` line's value `p` (`offset`: its stream offset, for errors): the body's length.
    private mutating func readContentLength(_ p: UnsafeRawBufferPointer, offset: Int) throws {
        sawContentLength = true   // only the first one counts
        guard let length = Self.parseLength(p) else {
            throw FrameDecodingError.invalidContentLength(value: unescapedString(p), offset: offset)
        }
        if length > limits.maxBodySize {
            throw FrameDecodingError.limitExceeded(limit: "maxBodySize", value: length, maximum: limits.maxBodySize, offset: offset)
        }
        contentLength = length
    }

    /// Bytes `p` will have once unescaped; throws for an undefined escape (`header`, `offset` for the error).
    @inline(__always)
    private func unescapedCount(_ p: UnsafeRawBufferPointer, header: @autoclosure () -> String, offset: Int) throws -> Int {
        try HeaderEscaping.unescapedCount(p, mode: escaping, header: header(), offset: offset)
    }

    /// `p` unescaped (per the frame's mode), as a String, lossily: for error messages.
    private func unescapedString(_ p: UnsafeRawBufferPointer) -> String {
        guard escaping != .none, let bytes = try? HeaderEscaping.unescape(p, mode: escaping, header: "", offset: 0) else {
            return String(decoding: p, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
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
        for i in 0..<p.count {   // at most 18 digits: no overflow, so wrapping arithmetic
            let d = p[i] &- 0x30
            guard d <= 9 else { return nil }
            n = n &* 10 &+ Int(d)
        }
        return n
    }
}
