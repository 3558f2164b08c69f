/// UTF-8 validation for header bytes, without the generic (and, per call, metadata-costly)
/// `String(validating:)`: 8 bytes at a time while ASCII, then a strict scalar check.
enum UTF8Validation {
    /// True if `p` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
    @inline(__always)
    static func isValid(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        var i = 0
        while i + 8 <= n {
            if p.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < n && p[i] < 0x80 { i += 1 }
        return i == n || validateTail(p, from: i)
    }

    private static func validateTail(_ p: UnsafeRawBufferPointer, from start: Int) -> Bool {
        let n = p.count
        var i = start
        @inline(__always) func cont(_ j: Int) -> Bool { j < n && p[j] & 0xC0 == 0x80 }
        while i < n {
            let b = p[i]
            if b < 0x80 {
                i += 1
            } else if b < 0xC2 {
                return false                                   // continuation byte or overlong 2-byte
            } else if b < 0xE0 {
                guard cont(i + 1) else { return false }
                i += 2
            } else if b < 0xF0 {
                guard cont(i + 1), cont(i + 2) else { return false }
                let b1 = p[i + 1]
                if b == 0xE0 && b1 < 0xA0 { return false }      // overlong
                if b == 0xED && b1 >= 0xA0 { return false }     // surrogates
                i += 3
            } else if b < 0xF5 {
                guard cont(i + 1), cont(i + 2), cont(i + 3) else { return false }
                let b1 = p[i + 1]
                if b == 0xF0 && b1 < 0x90 { return false }      // overlong
                if b == 0xF4 && b1 >= 0x90 { return false }     // > U+10FFFF
                i += 4
            } else {
                return false
            }
        }
        return true
    }

    /// The string for `p`, or nil if it is not valid UTF-8.
    @inline(__always)
    static func string(_ p: UnsafeRawBufferPointer) -> String? {
        guard isValid(p) else { return nil }
        return String(decoding: p.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }
}
