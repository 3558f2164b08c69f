#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Word-at-a-time (SWAR) tests over bytes: the one home of the eight-bytes-at-a-time scans of the codec
/// (header escaping, the decoder's line scan) and of the shell's printing.
///
/// The masks are "bit twiddling hacks" `haszero` / `hasless`: the high bit of the LOWEST byte that matches is
/// always set and exact (a borrow only runs upwards from a real match), bytes above it may be flagged
/// falsely. So `mask != 0` says exactly whether a byte matches, and `mask.trailingZeroBitCount / 8` is the
/// index of the first one (little-endian loads). `exactEqual` flags every matching byte and nothing else.
public enum ByteScan {
    public static let ones: UInt64 = 0x0101_0101_0101_0101
    public static let highs: UInt64 = 0x8080_8080_8080_8080

    /// High bit of each byte of `x` below `n` (n ≤ 0x80) set, exact for the lowest such byte.
    @inlinable @inline(__always)
    public static func below(_ x: UInt64, _ n: UInt8) -> UInt64 { (x &- ones &* UInt64(n)) & ~x & highs }

    /// High bit of each byte of `x` equal to `b` set, exact for the lowest such byte.
    @inlinable @inline(__always)
    public static func equal(_ x: UInt64, _ b: UInt8) -> UInt64 { below(x ^ (ones &* UInt64(b)), 1) }

    /// High bit of exactly the bytes of `x` equal to `b` (no false flags above a match: for counting).
    @inlinable @inline(__always)
    public static func exactEqual(_ x: UInt64, _ b: UInt8) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let y = x ^ (ones &* UInt64(b))
        return ~(((y & low7) &+ low7) | y | low7)
    }

    /// The bytes header escaping looks at (LF, CR, ':', '\\'): flagged as `equal` does (the lowest exact).
    @inlinable @inline(__always)
    public static func stompSpecials(_ x: UInt64) -> UInt64 {
        equal(x, 0x0A) | equal(x, 0x0D) | equal(x, 0x3A) | equal(x, 0x5C)
    }

    /// Whether `b` is one of the bytes header escaping looks at (LF, CR, ':', '\\'): a bit mask, no table.
    @inlinable @inline(__always)
    public static func isStompSpecial(_ b: UInt8) -> Bool {
        b == 0x5C || (b < 64 && (0x0400_0000_0000_2400 as UInt64) >> UInt64(b) & 1 != 0)
    }

    /// The 8 bytes at `p` (any alignment), first byte lowest.
    @inlinable @inline(__always)
    public static func load(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    /// Index of the first of the `n` bytes at `src` at or after `from` that header escaping looks at, or `n`.
    /// Whole words while 8 bytes remain, then the last word re-read overlapping (bytes already seen shifted out).
    @inlinable @inline(__always)
    public static func firstStompSpecial(_ src: UnsafePointer<UInt8>, _ n: Int, from: Int) -> Int {
        var i = from
        while i + 8 <= n {
            let m = stompSpecials(load(src + i))
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        guard i < n else { return n }
        if n >= 8 {
            let shift = UInt64(8 &* (8 &- (n &- i)))
            let m = stompSpecials(load(src + (n - 8)) >> shift)   // zero bytes shifted in match nothing
            return m != 0 ? i + m.trailingZeroBitCount >> 3 : n
        }
        while i < n && !isStompSpecial(src[i]) { i += 1 }
        return i
    }

    /// Index of the first byte equal to `b` among the `n` bytes at `src`, at or after `from`, or `n`: a word at a
    /// time (for the short runs of header lines, where a call to memchr costs more than the search).
    @inlinable @inline(__always)
    public static func firstIndex(of b: UInt8, _ src: UnsafePointer<UInt8>, _ n: Int, from: Int) -> Int {
        var i = from
        while i + 8 <= n {
            let m = equal(load(src + i), b)
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < n && src[i] != b { i += 1 }
        return i
    }

    /// Copies `n` bytes from `src` to `dst` (not overlapping): short runs with one or two word moves instead of
    /// a call to memcpy (header names and values are mostly under 16 bytes).
    @inlinable @inline(__always)
    public static func copy(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        if n >= 8 {
            if n > 16 { memcpy(d, s, n); return }
            d.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (d + (n - 8)).storeBytes(of: (s + (n - 8)).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else if n >= 4 {
            let a = s.loadUnaligned(as: UInt32.self), b = (s + (n - 4)).loadUnaligned(as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            (d + (n - 4)).storeBytes(of: b, as: UInt32.self)
        } else {
            var i = 0
            while i < n { dst[i] = src[i]; i += 1 }
        }
    }
}
