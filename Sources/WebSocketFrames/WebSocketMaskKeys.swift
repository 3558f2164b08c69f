#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOWebSocket

/// Masking keys for a client's frames (RFC 6455 5.3: a fresh key per frame, from a strong source of entropy, not
/// predictable by the server or a proxy). Drawn from the system's secure generator 64 at a time, one call for
/// 256 bytes (getentropy, arc4random_buf on Darwin), rather than one system call per frame (`WebSocketMaskingKey.random()`).
struct WebSocketMaskKeys: Sendable {
    /// `batch` keys of 4 bytes; `index`: the next one's first byte.
    private var pool: [UInt8] = []
    private var index = 0

    static let batch = 64

    /// The next key's 4 bytes as they go on the wire, in memory order.
    mutating func next() -> UInt32 {
        if index == pool.count { refill() }
        let i = index
        index += 4
        return pool.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: UInt32.self) }
    }

    private mutating func refill() {
        if pool.count != 4 * Self.batch { pool = Array(repeating: 0, count: 4 * Self.batch) }
        index = 0
        var filled = false
        pool.withUnsafeMutableBytes { bytes in
            #if canImport(Darwin)
            arc4random_buf(bytes.baseAddress!, bytes.count)
            filled = true
            #elseif canImport(Glibc) || canImport(Musl)
            filled = getentropy(bytes.baseAddress!, bytes.count) == 0   // the kernel's getrandom, at most 256 bytes
            #endif
        }
        if !filled {
            // No batch call here: the standard library's secure generator, 8 bytes at a time.
            var g = SystemRandomNumberGenerator()
            for i in 0..<pool.count { pool[i] = g.next() }   // UInt8.random-like: one call a byte, rare
        }
    }
}
