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

    /// Index of the first byte at or after `from` that needs attention when escaping (LF, CR, ':', '\\'), or `n`.
    @inline(__always)
    static func firstSpecial(_ src: UnsafePointer<UInt8>, _ n: Int, from: Int) -> Int {
        ByteScan.firstStompSpecial(src, n, from: from)
    }

    /// True when none of the `n` bytes at `src` needs a look when escaping.
    @inline(__always)
    static func isPlain(_ src: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        ByteScan.firstStompSpecial(src, n, from: 0) == n
    }

    /// Writes `buf` escaped at `dst` (room checked by `escapedCount`); returns the bytes written.
    /// Runs between escapes are copied in bulk.
    @inline(__always)
    static func writeEscaped(_ buf: UnsafeBufferPointer<UInt8>, mode: Mode, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = buf.count
        guard n > 0, let src = buf.baseAddress else { return 0 }
        if mode == .none {
            ByteScan.copy(dst, src, n)
            return n
        }
        var o = 0
        var run = 0
        var i = firstSpecial(src, n, from: 0)
        while i < n {
            let b = src[i]
            if !(b == 0x0D && mode == .v1_1) {
                if i > run {
                    ByteScan.copy(dst + o, src + run, i - run)
                    o += i - run
                }
                writeEscape(of: b, to: dst + o)
                o += 2
                run = i + 1
            }
            i = firstSpecial(src, n, from: i + 1)
        }
        if run < n {
            ByteScan.copy(dst + o, src + run, n - run)
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
    /// (`escapedCount`'s errors); returns the bytes written. One word scan: runs between the bytes to escape are
    /// copied in bulk; only a value's last byte can be unwritable in 1.1/1.2, so the check is one comparison.
    @inline(__always)
    static func writeChecked(_ buf: UnsafeBufferPointer<UInt8>, isName: Bool, name: @autoclosure () -> String,
                             mode: Mode, to dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let n = buf.count
        guard n > 0, let src = buf.baseAddress else { return 0 }
        switch mode {
        case .v1_2:
            break
        case .v1_1:   // a value's trailing CR would be read back as part of the EOL
            if !isName && src[n - 1] == 0x0D { _ = try escapedCount(buf, isName: isName, name: name(), mode: mode) }
        case .none:   // nothing is escaped: anything special must be checked (escapedCount throws for what cannot be)
            if firstSpecial(src, n, from: 0) < n { _ = try escapedCount(buf, isName: isName, name: name(), mode: mode) }
            ByteScan.copy(dst, src, n)
            return n
        }
        return writeEscaped(buf, mode: mode, to: dst)
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
        let src = base.assumingMemoryBound(to: UInt8.self)
        var count = n
        var i = 0
        while i < n {
            let k = ByteScan.firstIndex(of: 0x5C, src, n, from: i)
            if k == n { break }
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

    /// Unescapes the `n` bytes at `src` into `dst`, their escapes already checked (by the decoder's line scan: every
    /// '\\' starting an escape is followed by its letter). Eight bytes at a time: each word is stored whole (the bytes
    /// before its first '\\' are right, the rest is overwritten next), so up to 7 bytes past the result may be
    /// written: `room` is how many bytes at `dst` may be (at least the result's). Returns the bytes written.
    @inline(__always)
    static func unescapeChecked(_ src: UnsafePointer<UInt8>, _ n: Int, into dst: UnsafeMutablePointer<UInt8>, room: Int) -> Int {
        var o = 0
        var i = 0
        while i &+ 8 <= n && o &+ 8 <= room {
            let x = ByteScan.load(src + i)
            UnsafeMutableRawPointer(dst + o).storeBytes(of: x.littleEndian, as: UInt64.self)
            let m = ByteScan.equal(x, 0x5C)
            if m == 0 { i &+= 8; o &+= 8; continue }
            let j = m.trailingZeroBitCount >> 3   // the first '\\' (exact)
            o &+= j
            i &+= j
            dst[o] = unescaped(src[i &+ 1])
            o &+= 1
            i &+= 2
        }
        while i < n {
            let b = src[i]
            if b == 0x5C {
                dst[o] = unescaped(src[i &+ 1])
                i &+= 2
            } else {
                dst[o] = b
                i &+= 1
            }
            o &+= 1
        }
        return o
    }

    /// The byte a checked escape's letter stands for (`n`, `c`, `r`, or '\\' itself).
    @inline(__always)
    static func unescaped(_ letter: UInt8) -> UInt8 {
        switch letter {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "c"): return 0x3A
        case UInt8(ascii: "r"): return 0x0D
        default: return 0x5C
        }
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
            let k = ByteScan.firstIndex(of: 0x5C, src, n, from: i)
            if k == n {
                ByteScan.copy(dst + o, src + i, n - i)
                o += n - i
                break
            }
            if k > i {
                ByteScan.copy(dst + o, src + i, k - i)
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
