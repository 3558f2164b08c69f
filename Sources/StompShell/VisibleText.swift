// How a header name or value (or another broker-chosen word) is shown to a person: on one line, every control
// character visible. A value holding LF or CR would otherwise print over several lines (a forged header line, a
// forged `status` entry), and ESC would drive the terminal. JSON output stays exact (JSON escapes what it must).

import StompProto

/// The one rule for showing header names and values in human-facing output (pretty frames, `status`, the
/// `connect` line, `ack`, errors quoting a header): STOMP 1.2's escapes for the bytes that would break a line,
/// `\n` (LF), `\r` (CR) and `\\` (a backslash, so an escape seen is always one), plus `\t` (TAB); a colon in a
/// header NAME as `\c` (the name ends at the first colon shown); any other control character as `\xHH` (C0 and
/// DEL) or `\u00HH` (C1, U+0080 to U+009F). Everything else is shown as it is.
public enum VisibleText {
    /// A header value (or any one-line word from the broker: a message-id, a server name) as shown.
    public static func value(_ s: String) -> String {
        needsEscape(s, name: false) ? escaped(s, name: false) : s
    }

    /// A header name as shown: `value`'s escapes, and a colon as `\c`.
    public static func name(_ s: String) -> String {
        needsEscape(s, name: true) ? escaped(s, name: true) : s
    }

    /// Whether `s` is shown other than as it is.
    static func needsEscape(_ s: String, name: Bool) -> Bool {
        var s = s
        return s.withUTF8 { ByteScan.needsVisibleEscape($0, name: name) }
    }

    private static func escaped(_ s: String, name: Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C: out += "\\\\"
            case 0x3A where name: out += "\\c"
            case 0x00..<0x20, 0x7F: out += "\\x" + hex(u.value)
            case 0x80..<0xA0: out += "\\u00" + hex(u.value)
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
    /// the lead byte 0xC2 of U+0080...U+00BF (C1 controls among them), with `name` a colon. No false "no": a
    /// "yes" for U+00A0...U+00BF only sends the text the longer, exact way.
    static func needsVisibleEscape(_ u: UnsafeBufferPointer<UInt8>, name: Bool) -> Bool {
        guard let base = u.baseAddress else { return false }
        @inline(__always) func flags(_ x: UInt64) -> UInt64 {
            var t = below(x, 0x20) | equal(x, 0x7F) | equal(x, 0x5C) | equal(x, 0xC2)
            if name { t |= equal(x, 0x3A) }
            return t
        }
        var i = 0
        while i + 8 <= u.count {
            if flags(load(base + i)) != 0 { return true }
            i += 8
        }
        if i < u.count, u.count >= 8 {
            // the last word re-read overlapping: a byte seen twice changes nothing in an "is there one" test
            return flags(load(base + u.count - 8)) != 0
        }
        while i < u.count {
            let b = base[i]
            if b < 0x20 || b == 0x7F || b == 0x5C || b == 0xC2 || (name && b == 0x3A) { return true }
            i += 1
        }
        return false
    }

    /// `needsVisibleEscape` for a header line's name and value bytes.
    @inline(__always)
    static func needsVisibleEscape(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        needsVisibleEscape(name.assumingMemoryBound(to: UInt8.self), name: true)
            || needsVisibleEscape(value.assumingMemoryBound(to: UInt8.self), name: false)
    }
}
