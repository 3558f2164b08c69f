// Eight bytes at a time: does a run of bytes hold one that printing has to treat specially?
import Foundation
import StompProto

/// The printing path's tests, on StompProto's word-at-a-time primitives (`ByteScan.below`, `ByteScan.equal`:
/// exact about whether such a byte exists), so printing a message scans its headers and body at about a byte an
/// instruction.
extension ByteScan {
    /// Whether a JSON string of these bytes needs an escape: a control character (< 0x20), `"` or `\`; with
    /// `asciiOnly`, also a byte ≥ 0x7F (a body is copied as it is only when it is printable ASCII).
    static func needsJSONEscape(_ u: UnsafeBufferPointer<UInt8>, asciiOnly: Bool) -> Bool {
        guard let base = u.baseAddress else { return false }
        var i = 0
        while i + 8 <= u.count {
            let x = load(base + i)
            var t = below(x, 0x20) | equal(x, 0x22) | equal(x, 0x5C)
            if asciiOnly { t |= (x & highs) | equal(x, 0x7F) }
            if t != 0 { return true }
            i += 8
        }
        if i < u.count, u.count >= 8 {
            // the last word re-read overlapping: a byte seen twice changes nothing in an "is there one" test
            let x = load(base + u.count - 8)
            var t = below(x, 0x20) | equal(x, 0x22) | equal(x, 0x5C)
            if asciiOnly { t |= (x & highs) | equal(x, 0x7F) }
            return t != 0
        }
        while i < u.count {
            let b = base[i]
            if b < 0x20 || b == 0x22 || b == 0x5C || (asciiOnly && b >= 0x7F) { return true }
            i += 1
        }
        return false
    }

    /// Whether every byte is in 0x20...0x7F (no control character, no byte of a multi-byte UTF-8 sequence).
    static func isPrintableASCII(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = u.baseAddress else { return true }
        var i = 0
        while i + 8 <= u.count {
            let x = load(base + i)
            if below(x, 0x20) | (x & highs) != 0 { return false }
            i += 8
        }
        if i < u.count, u.count >= 8 {      // the last word re-read overlapping
            let x = load(base + u.count - 8)
            return below(x, 0x20) | (x & highs) == 0
        }
        while i < u.count {
            if base[i] &- 0x20 >= 0x60 { return false }
            i += 1
        }
        return true
    }

    /// Whether `needle` (ASCII) occurs in the bytes, byte for byte (a header value looked at without a String).
    static func contains(_ u: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard n > 0 else { return true }
        guard u.count >= n, let base = u.baseAddress else { return false }
        let first = needle.utf8Start.pointee
        var i = 0
        while i + n <= u.count {
            if u[i] == first, memcmp(base + i, needle.utf8Start, n) == 0 { return true }
            i += 1
        }
        return false
    }
}
