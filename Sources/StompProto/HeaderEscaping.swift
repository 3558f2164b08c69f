#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// The bytes that need attention when escaping: `\\`, LF, CR, `:` (a bit mask, no table lookup).
    @inline(__always)
    static func isSpecial(_ b: UInt8) -> Bool {
        b == 0x5C || (b < 64 && (0x0400_0000_0000_2400 as UInt64) >> UInt64(b) & 1 != 0)
    }

    /// Calls `body` with the UTF-8 of `s` (contiguous for native strings, else a copy).
    @inline(__always)
    static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = s
        return try copy.withUTF8(body)
    }

    /// Size of `buf` once escaped. Throws when it cannot be represented in this mode
    /// (LF, or ':' in a name, or a value's trailing CR, where there is no escaping; a value's trailing CR in 1.1).
    @inline(__always)
    static func escapedCount(_ buf: UnsafeBufferPointer<UInt8>, isName: Bool, name: @autoclosure () -> String,
                             mode: Mode) throws -> Int {
        guard let src = buf.baseAddress else { return 0 }
        let n = buf.count
        var i = firstSpecial(src, n, from: 0)
        guard i < n else { return n }   // the common case: nothing to escape
        var extra = 0
        while i < n {
            if src[i] != 0x0D || mode == .v1_2 { extra += 1 }
            i = firstSpecial(src, n, from: i + 1)
        }
        func reject(_ reason: String) -> FrameEncodingError {
            .unencodableHeader(name: name(), value: String(decoding: buf, as: UTF8.self), reason: reason)
        }
        switch mode {
        case .none:
            if buf.contains(0x0A) { throw reject("contains a line feed, which this frame cannot escape") }
            if isName && buf.contains(0x3A) { throw reject("the name contains ':', which this frame cannot escape") }
            if !isName && buf.last == 0x0D { throw reject("ends with a carriage return, which this frame cannot escape") }
            return buf.count
        case .v1_1:   // a CR ending a name is followed by ':', not stripped as part of the EOL
            if !isName && buf.last == 0x0D { throw reject("ends with a carriage return, which STOMP 1.1 cannot escape") }
            return buf.count + extra
        case .v1_2:
            return buf.count + extra
        }
    }

    /// Whether the 8 bytes of `v` hold one that escaping looks at (LF, CR, ':', '\'): a word has one of the four
    /// exactly when one of the four "has a zero byte" tests (`(x - 0x01…) & ~x & 0x80…`) says so.
    @inline(__always)
    static func hasSpecialByte(_ v: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        return hasZeroByte(v ^ (ones &* 0x0A)) || hasZeroByte(v ^ (ones &* 0x0D))
            || hasZeroByte(v ^ (ones &* 0x3A)) || hasZeroByte(v ^ (ones &* 0x5C))
    }

    /// Index of the first byte at or after `from` that needs attention when escaping (see `isSpecial`),
    /// or `n`: 8 bytes at a time (`hasSpecialByte`), then byte by byte inside the word that has one.
    @inline(__always)
    static func firstSpecial(_ src: UnsafePointer<UInt8>, _ n: Int, from: Int) -> Int {
        var i = from
        while i + 8 <= n {
            if hasSpecialByte(UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self)) { break }
            i += 8
        }
        while i < n && !isSpecial(src[i]) { i += 1 }
        return i
    }

    /// True when none of the `n` bytes at `src` needs a look when escaping (`isSpecial`): 8 bytes at a time,
    /// the last (partial) word read overlapping the previous one; byte by byte below 8 bytes.
    @inline(__always)
    static func isPlain(_ src: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        if n < 8 {
            for i in 0..<n where isSpecial(src[i]) { return false }
            return true
        }
        let raw = UnsafeRawPointer(src)
        var i = 0
        while i + 8 <= n {
            if hasSpecialByte(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
            i += 8
        }
        return i == n || !hasSpecialByte(raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
    }

    /// Writes `buf` escaped at `dst` (room checked by `escapedCount`); returns the bytes written.
    /// Runs between escapes are copied in bulk.
    @inline(__always)
    static func writeEscaped(_ buf: UnsafeBufferPointer<UInt8>, mode: Mode, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = buf.count
        guard n > 0, let src = buf.baseAddress else { return 0 }
        if mode == .none {
            dst.update(from: src, count: n)
            return n
        }
        var o = 0
        var run = 0
        var i = firstSpecial(src, n, from: 0)
        while i < n {
            let b = src[i]
            if !(b == 0x0D && mode == .v1_1) {
                if i > run {
                    (dst + o).update(from: src + run, count: i - run)
                    o += i - run
                }
                writeEscape(of: b, to: dst + o)
                o += 2
                run = i + 1
            }
            i = firstSpecial(src, n, from: i + 1)
        }
        if run < n {
            (dst + o).update(from: src + run, count: n - run)
            o += n - run
        }
        return o
    }

    /// The two bytes that stand for special byte `b` (LF, ':', CR or '\'): `\n`, `\c`, `\r`, `\\`.
    @inline(__always)
    static func writeEscape(of b: UInt8, to dst: UnsafeMutablePointer<UInt8>) {
        dst[0] = 0x5C
        switch b {
        case 0x0A: dst[1] = UInt8(ascii: "n")
        case 0x3A: dst[1] = UInt8(ascii: "c")
        case 0x0D: dst[1] = UInt8(ascii: "r")
        default: dst[1] = 0x5C
        }
    }

    /// Writes `buf` escaped at `dst` (room for twice its bytes) after checking it can be represented
    /// (`escapedCount`'s errors); returns the bytes written. One pass, byte by byte (for text known to
    /// have bytes to escape); on a byte it cannot write, `escapedCount` throws the error.
    @inline(__always)
    static func writeCheckedByteByByte(_ buf: UnsafeBufferPointer<UInt8>, isName: Bool, name: @autoclosure () -> String,
                                       mode: Mode, to dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let n = buf.count
        guard n > 0, let src = buf.baseAddress else { return 0 }
        var o = 0
        for i in 0..<n {
            let b = src[i]
            guard isSpecial(b) else { dst[o] = b; o += 1; continue }
            let unwritable: Bool
            switch mode {
            case .none: unwritable = b == 0x0A || (isName && b == 0x3A) || (!isName && b == 0x0D && i == n - 1)
            case .v1_1: unwritable = !isName && b == 0x0D && i == n - 1
            case .v1_2: unwritable = false
            }
            if unwritable {
                _ = try escapedCount(buf, isName: isName, name: name(), mode: mode)   // throws the exact error
            }
            if mode == .none || (mode == .v1_1 && b == 0x0D) {
                dst[o] = b; o += 1
                continue
            }
            writeEscape(of: b, to: dst + o)
            o += 2
        }
        return o
    }

    /// Writes `buf` escaped at `dst` (room for twice its bytes) after checking it can be represented
    /// (`escapedCount`'s errors); returns the bytes written. One scan when nothing needs escaping.
    @inline(__always)
    static func writeChecked(_ buf: UnsafeBufferPointer<UInt8>, isName: Bool, name: @autoclosure () -> String,
                             mode: Mode, to dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let n = buf.count
        guard n > 0, let src = buf.baseAddress else { return 0 }
        if firstSpecial(src, n, from: 0) == n {
            dst.update(from: src, count: n)
            return n
        }
        let count = try escapedCount(buf, isName: isName, name: name(), mode: mode)
        let written = writeEscaped(buf, mode: mode, to: dst)
        assert(written == count)
        return written
    }

    /// Appends the escaped UTF-8 of `s`. `isName`: ':' in an unescaped name is unrepresentable.
    static func appendEscaped(_ s: String, isName: Bool, name: String, mode: Mode, into out: inout [UInt8]) throws {
        try withUTF8(s) { buf in
            let count = try escapedCount(buf, isName: isName, name: name, mode: mode)
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: count))
            out.withUnsafeMutableBufferPointer { p in
                _ = writeEscaped(buf, mode: mode, to: p.baseAddress! + start)
            }
        }
    }

    /// Unescapes raw header bytes. `offset` is the stream offset of the first byte (for errors).
    static func unescape(_ p: UnsafeRawBufferPointer, mode: Mode, header: String, offset: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: p.count) { dst, initialized in
            initialized = try unescape(p, mode: mode, header: header, offset: offset, into: dst.baseAddress!)
        }
    }

    /// The byte count of `p` once unescaped, checking every escape as `unescape` does (same errors), writing nothing.
    static func unescapedCount(_ p: UnsafeRawBufferPointer, mode: Mode, header: @autoclosure () -> String,
                               offset: Int) throws -> Int {
        let n = p.count
        guard let base = p.baseAddress else { return 0 }
        var count = n
        var i = 0
        while i < n, let hit = memchr(base + i, 0x5C, n - i) {
            let k = base.distance(to: UnsafeRawPointer(hit))
            let next: UInt8? = k + 1 < n ? p[k + 1] : nil
            switch next {
            case UInt8(ascii: "n"), UInt8(ascii: "c"), 0x5C: break
            case UInt8(ascii: "r") where mode == .v1_2: break
            default:   // the error exactly as `unescape` reports it
                _ = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) {
                    try unescape(p, mode: mode, header: header(), offset: offset, into: $0.baseAddress!)
                }
            }
            count -= 1
            i = k + 2
        }
        return count
    }

    /// Unescapes raw header bytes into `dst` (room for `p.count` bytes: unescaping only shrinks); returns
    /// the bytes written. Runs between backslashes are copied in bulk.
    static func unescape(_ p: UnsafeRawBufferPointer, mode: Mode, header: @autoclosure () -> String, offset: Int,
                         into dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let n = p.count
        guard let base = p.baseAddress else { return 0 }
        let src = base.assumingMemoryBound(to: UInt8.self)
        var o = 0
        var i = 0
        while i < n {
            guard let hit = memchr(base + i, 0x5C, n - i) else {
                (dst + o).update(from: src + i, count: n - i)
                o += n - i
                break
            }
            let k = base.distance(to: UnsafeRawPointer(hit))
            if k > i {
                (dst + o).update(from: src + i, count: k - i)
                o += k - i
            }
            guard k + 1 < n else {
                throw FrameDecodingError.invalidEscape(sequence: "\\", header: header(), offset: offset + k)
            }
            switch p[k + 1] {
            case UInt8(ascii: "n"): dst[o] = 0x0A
            case UInt8(ascii: "c"): dst[o] = 0x3A
            case 0x5C: dst[o] = 0x5C
            case UInt8(ascii: "r") where mode == .v1_2: dst[o] = 0x0D
            default:
                // Report the escape as the peer wrote it (the next UTF-8 scalar, lossily).
                var end = k + 2
                while end < n && end < k + 5 && (p[end] & 0xC0) == 0x80 { end += 1 }
                let seq = String(decoding: UnsafeRawBufferPointer(rebasing: p[k..<end]), as: UTF8.self)
                throw FrameDecodingError.invalidEscape(sequence: seq, header: header(), offset: offset + k)
            }
            o += 1
            i = k + 2
        }
        return o
    }
}
