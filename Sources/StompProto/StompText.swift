#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether encoded STOMP bytes can travel as text, for transports that tell text from binary (a WebSocket
/// sends each frame as a text message when it can, a binary one otherwise).
public enum StompText {
    /// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
    public static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        UTF8Validation.isValid(bytes)
    }

    /// One encoded frame (or heart-beat) that is UTF-8 with no NUL before its own terminating NUL (EOLs may
    /// follow it). A NUL in the body, or bytes that are not UTF-8, make it binary.
    public static func isTextFrame(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        if end > 0, bytes[end - 1] == 0 { end -= 1 }
        let content = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        if let start = content.baseAddress, memchr(start, 0, content.count) != nil { return false }
        return UTF8Validation.isValid(content)
    }
}
