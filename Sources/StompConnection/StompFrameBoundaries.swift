#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import StompProto

/// Where the STOMP frames of an outgoing buffer end, for a transport that sends each frame as one message
/// (WebSocket): a batch of frames written as one buffer is cut at these offsets. The cuts are `FrameDecoder`'s
/// (version 1.0, default limits): after each frame's NUL, after each heart-beat EOL between frames, and the bytes
/// that do not decode as one last piece. Frames as the encoder writes them (a known command, header lines with a
/// ':' in UTF-8, no content-length, the NUL, the next frame at once) are found by a scan that builds no frame;
/// anything else is left to the decoder.
enum StompFrameBoundaries {
    /// Offsets (from the start of `bytes`) where its pieces end; `[bytes.count]` for one frame, or for bytes
    /// that do not decode (sent as they are).
    static func ends(_ bytes: UnsafeRawBufferPointer) -> [Int] {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return [count] }
        // One frame: the first NUL ends the buffer, or only EOLs follow it.
        guard let nulPtr = memchr(base, 0, count) else { return [count] }
        var i = base.distance(to: UnsafeRawPointer(nulPtr)) + 1
        while i < count, bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        if i == count { return [count] }
        return scan(bytes) ?? decoded(bytes)
    }

    /// The encoder's frames back to back; nil at anything else.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> [Int]? {
        let count = bytes.count
        let base = bytes.baseAddress!
        let limits = StompLimits.default
        @inline(__always) func find(_ byte: Int32, from: Int) -> Int? {
            guard from < count, let p = memchr(base + from, byte, count - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(p))
        }
        var ends: [Int] = []
        var pos = 0
        while pos < count {
            // The command line: a command the decoder knows (an EOL here is a heart-beat: the decoder's case).
            let first = bytes[pos]
            guard first >= 0x41 && first <= 0x5A, let lf = find(0x0A, from: pos) else { return nil }
            var end = lf
            if bytes[end - 1] == 0x0D { end -= 1 }
            guard isCommand(UnsafeRawBufferPointer(rebasing: bytes[pos..<end])) else { return nil }
            pos = lf + 1
            // Header lines up to the blank one.
            var headers = 0
            while true {
                guard let lf = find(0x0A, from: pos) else { return nil }
                var end = lf
                if end > pos && bytes[end - 1] == 0x0D { end -= 1 }
                if end == pos {
                    pos = lf + 1
                    break
                }
                headers += 1
                let line = UnsafeRawBufferPointer(rebasing: bytes[pos..<end])
                guard headers <= limits.maxHeaderCount, line.count <= limits.maxHeaderLineLength,
                      let colon = memchr(line.baseAddress!, 0x3A, line.count),
                      StompText.isUTF8(line) else { return nil }
                let nameLength = line.baseAddress!.distance(to: UnsafeRawPointer(colon))
                if nameLength == 14, memcmp(line.baseAddress!, "content-length", 14) == 0 { return nil }
                pos = lf + 1
            }
            // The body, up to its NUL.
            guard let nul = find(0, from: pos), nul - pos <= limits.maxBodySize else { return nil }
            pos = nul + 1
            ends.append(pos)
        }
        return ends
    }

    /// The commands' wire names, by length.
    private static let commands: [[[UInt8]]] = {
        var byLength = [[[UInt8]]](repeating: [], count: 12)
        for c in StompCommand.allCases { byLength[c.rawValue.utf8.count].append(Array(c.rawValue.utf8)) }
        return byLength
    }()

    /// Whether `line` is a command the decoder knows.
    @inline(__always)
    static func isCommand(_ line: UnsafeRawBufferPointer) -> Bool {
        guard line.count < commands.count else { return false }
        for name in commands[line.count] where name.withUnsafeBytes({ memcmp($0.baseAddress!, line.baseAddress!, line.count) }) == 0 {
            return true
        }
        return false
    }

    /// The decoder's cuts (heart-beats between frames, bytes that do not decode).
    static func decoded(_ bytes: UnsafeRawBufferPointer) -> [Int] {
        var decoder = FrameDecoder(version: .v1_0)
        decoder.append(bytes)
        var ends: [Int] = []
        while let event = try? decoder.next() {
            _ = event
            ends.append(decoder.streamOffset)
        }
        if ends.last != bytes.count { ends.append(bytes.count) }
        return ends.filter { $0 > 0 }
    }
}
