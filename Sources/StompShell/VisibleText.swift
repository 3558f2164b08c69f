// How a header name or value (or another broker-chosen word) is shown to a person: on one line, every control
// character visible. A value holding LF or CR would otherwise print over several lines (a forged header line, a
// forged `status` entry), and ESC would drive the terminal. JSON output stays exact (JSON escapes what it must).

import StompProto

/// The one rule for showing header names and values in human-facing output (pretty frames, `status`, the
/// `connect` line, `ack`, errors quoting a header): STOMP 1.2's escapes for the bytes that would break a line,
/// `\n` (LF), `\r` (CR) and `\\` (a backslash, so an escape seen is always one), plus `\t` (TAB); any other
/// control character as `\xHH` (C0 and DEL) or `\u00HH` (C1, U+0080 to U+009F), and Unicode's bidirectional
/// controls as `\uHHHH` (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069: invisible, and on a terminal
/// that applies them they reorder what follows, so a value could show as another). Everything else is shown as it
/// is (a colon in a header name too: it cannot break a line).
public enum VisibleText {
    /// A header value (or any one-line word from the broker: a message-id, a server name) as shown.
    public static func value(_ s: String) -> String {
        needsEscape(s) ? escaped(s) : s
    }

    /// A header name as shown: `value`'s escapes.
    public static func name(_ s: String) -> String { value(s) }

    /// Whether `s` is shown other than as it is.
    static func needsEscape(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { ByteScan.needsVisibleEscape($0) }
    }

    private static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            case 0x00..<0x20, 0x7F: out += "\\x" + hex(u.value)
            case 0x80..<0xA0: out += "\\u00" + hex(u.value)
            case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u" + hex(u.value >> 8) + hex(u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(v >> 4) & 15], digits[Int(v) & 15]])
    }
}

extension ByteScan {
    /// Whether UTF-8 bytes may hold something `VisibleText` escapes: a control byte (< 0x20, 0x7F), a backslash,
    /// the lead byte 0xC2 of U+0080...U+00BF (C1 controls among them), 0xD8 of U+0600...U+063F and 0xE2 of
    /// U+2000...U+2FFF (the bidirectional controls among them). No false "no": a "yes" for the others of those
    /// ranges only sends the text the longer, exact way.
    static func needsVisibleEscape(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = u.baseAddress else { return false }
        @inline(__always) func flags(_ x: UInt64) -> UInt64 {
            below(x, 0x20) | equal(x, 0x7F) | equal(x, 0x5C) | equal(x, 0xC2) | equal(x, 0xD8) | equal(x, 0xE2)
        }
        var i = 0
        while i + 8 <= u.count {
            if flags(load(base + i)) != 0 { return true }
            i += 8
        }
        if i < u.count, u.count >= 8 { return flags(load(base + u.count - 8)) != 0 }
        while i < u.count {
            let b = base[i]
            if b < 0x20 || b == 0x7F || b == 0x5C || b == 0xC2 || b == 0xD8 || b == 0xE2 { return true }
            i += 1
        }
        return false
    }

    /// For header lines as the printer writes them (`\nNAME:VALUE` each): whether a byte other than printable ASCII,
    /// or a backslash, is in them; the LFs that end the lines are not counted. One pass, eight bytes at a time: a
    /// control byte but LF (`below` less the exact LFs: a true one is always flagged), a byte >= 0x7F, a backslash.
    /// A "yes" may be false (a borrow above an LF, any non-ASCII text): the caller then takes the exact way.
    static func mayNeedVisibleEscape(_ r: UnsafeRawBufferPointer) -> Bool {
        guard let base = r.baseAddress else { return false }
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func flags(_ x: UInt64) -> UInt64 {
            // per byte, exactly (no carry leaves a byte): not in 0x20...0x7E (low 7 bits below 0x20 or 0x7F, or
            // the high bit set), less the LFs; a backslash (its lowest exact)
            let l = x & low7
            let printableFloor = (l &+ 0x6060_6060_6060_6060) & highs   // low 7 bits >= 0x20
            let del = (l &+ ones) & highs                                // low 7 bits == 0x7F
            let notPrintable = (~printableFloor | del | x) & highs
            return (notPrintable & ~exactEqual(x, 0x0A)) | equal(x, 0x5C)
        }
        let n = r.count
        var i = 0
        while i + 8 <= n {
            if flags(load(base + i)) != 0 { return true }
            i += 8
        }
        if i < n, n >= 8 { return flags(load(base + n - 8)) != 0 }
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if (b < 0x20 && b != 0x0A) || b >= 0x7F || b == 0x5C { return true }
            i += 1
        }
        return false
    }
}
