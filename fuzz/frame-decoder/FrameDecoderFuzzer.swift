// libFuzzer entry point for StompProto's FrameDecoder (built by scripts/fuzz, not by SwiftPM).
//
// The first bytes of the input choose the STOMP version, small StompLimits (so that every limit can be hit)
// and the chunk sizes the stream is fed in; the rest is the byte stream. Checked for every input:
// - chunking: the stream fed in those chunks gives the same events and the same error as fed in one piece;
// - memory: after `next()` returns nil the decoder buffers at most the largest limit + 1 byte (a CR);
// - errors: only FrameDecodingError, with an offset within the stream; after one, `next()` rethrows it;
// - round trip: each decoded frame, re-encoded with FrameEncoder (same version), decodes to the same frame
//   (under the default limits: the encoder escapes what a lenient decoder accepted raw, so lines may grow).
//   The only frames allowed not to re-encode are those with a header value ending in CR where the frame has
//   no CR escape (STOMP 1.0/1.1, CONNECT/CONNECTED): the wire cannot represent them.

import StompProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The decoder's parameters, read from the front of the input.
struct DecoderSetup {
    static let headerSize = 8

    var version: StompVersion
    var limits: StompLimits
    /// Chunk sizes to cycle through (each 1...64).
    var chunkSizes: [Int]

    /// nil when the input is too short to hold the set-up bytes.
    init?(_ input: UnsafeBufferPointer<UInt8>) {
        guard input.count >= Self.headerSize else { return nil }
        let h = Array(input[0..<Self.headerSize])
        version = StompVersion.allCases[Int(h[0]) % StompVersion.allCases.count]
        limits = StompLimits(maxCommandLength: 1 + Int(h[1] % 16),
                             maxHeaderLineLength: 1 + Int(h[2] % 128),
                             maxHeaderCount: Int(h[3] % 16),
                             maxBodySize: Int(h[4] % 128) * 4)
        chunkSizes = h[5...].map { 1 + Int($0 % 64) }
    }

    /// The most bytes the decoder may hold while waiting for more: a line or a body at its limit, plus a CR.
    var bufferBound: Int {
        max(limits.maxCommandLength, limits.maxHeaderLineLength, limits.maxBodySize) + 1
    }
}

/// What decoding a stream produced: its events, then the error that stopped it, if any.
struct DecodeOutcome {
    var events: [FrameDecoderEvent] = []
    var error: FrameDecodingError?
}

/// A fuzzing property that does not hold: printed, then the process aborts so libFuzzer saves the input.
func violated(_ what: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fputs("invariant violated (\(file):\(line)): \(what)\n", stderr)
    abort()
}

/// A value for a message, control characters escaped.
func show(_ value: Any) -> String { String(describing: value).debugDescription }

/// Drains the decoder, checking the buffering bound and the error contract.
func drain(_ decoder: inout FrameDecoder, into outcome: inout DecodeOutcome, streamLength: Int, setup: DecoderSetup) {
    while outcome.error == nil {
        let event: FrameDecoderEvent?
        do {
            event = try decoder.next()
        } catch let e as FrameDecodingError {
            guard e.offset >= 0 && e.offset <= streamLength else {
                violated("error offset \(e.offset) outside the stream of \(streamLength) bytes: \(show(e))")
            }
            do {
                _ = try decoder.next()
                violated("next() after \(e) did not throw")
            } catch let again as FrameDecodingError {
                guard again == e else { violated("next() after \(e) threw a different error: \(again)") }
            } catch {
                violated("next() after \(e) threw a foreign error: \(error)")
            }
            outcome.error = e
            return
        } catch {
            violated("next() threw a foreign error type: \(type(of: error)): \(error)")
        }
        guard let event else {
            guard decoder.bufferedByteCount <= setup.bufferBound else {
                violated("decoder buffers \(decoder.bufferedByteCount) bytes, bound \(setup.bufferBound) (\(setup.limits))")
            }
            return
        }
        outcome.events.append(event)
    }
}

/// Decodes `stream` fed in `chunkSizes` (cycled); an empty list means in one piece.
func decode(_ stream: UnsafeBufferPointer<UInt8>, setup: DecoderSetup, chunkSizes: [Int]) -> DecodeOutcome {
    var decoder = FrameDecoder(version: setup.version, limits: setup.limits)
    var outcome = DecodeOutcome()
    var start = 0
    var k = 0
    while start < stream.count && outcome.error == nil {
        let size = chunkSizes.isEmpty ? stream.count : chunkSizes[k % chunkSizes.count]
        k += 1
        let end = min(stream.count, start + size)
        decoder.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: stream[start..<end])))
        start = end
        drain(&decoder, into: &outcome, streamLength: end, setup: setup)
    }
    return outcome
}

/// Two errors describe the same fault. `limitExceeded`'s value may be a lower bound that depends on how
/// much had arrived, so only its limit and offset are compared.
func sameFault(_ a: FrameDecodingError?, _ b: FrameDecodingError?) -> Bool {
    if let a, let b, let l1 = a.exceededLimit, let l2 = b.exceededLimit {
        return l1 == l2 && a.offset == b.offset
    }
    return a == b
}

/// The encoder may refuse a decoded frame only for a value ending in CR where the frame has no CR escape.
func mayBeUnencodable(_ frame: StompFrame, version: StompVersion) -> Bool {
    let noCREscape = version != .v1_2 || frame.command.isConnectionHandshake
    return noCREscape && frame.headers.contains { $0.value.utf8.last == 0x0D }
}

/// The encoder's output for a decoded frame (which may copy its header lines as received) and for the same
/// names, values and body in headers built line by line (always escaped line by line): equal bytes, or both refused.
func checkReceivedLinesWriteAsBuiltOnes(_ frame: StompFrame) {
    let built = StompFrame(frame.command, headers: StompHeaders(frame.headers.pairs.map { ($0.name, $0.value) }),
                           body: frame.body)
    for version in [StompVersion.v1_0, .v1_1, .v1_2] {
        let encoder = FrameEncoder(version: version)
        let a = try? encoder.encode(frame), b = try? encoder.encode(built)
        guard a == b else {
            violated("\(version.rawValue): \(show(frame)) encodes as \(a.map { show($0) } ?? "an error") but as built as \(b.map { show($0) } ?? "an error")")
        }
    }
}

func checkRoundTrip(_ frame: StompFrame, setup: DecoderSetup) {
    checkReceivedLinesWriteAsBuiltOnes(frame)
    let bytes: [UInt8]
    do {
        bytes = try FrameEncoder(version: setup.version).encode(frame)
    } catch let e as FrameEncodingError {
        guard e.unencodableHeader != nil, mayBeUnencodable(frame, version: setup.version) else {
            violated("decoded frame \(show(frame)) does not re-encode: \(show(e))")
        }
        return
    } catch {
        violated("encoder threw a foreign error: \(error)")
    }
    // Default limits: escaping may lengthen a line the peer sent unescaped (a raw CR or ':' in a 1.2 value).
    var decoder = FrameDecoder(version: setup.version, limits: .default)
    decoder.append(bytes)
    do {
        guard case .frame(let again)? = try decoder.next() else {
            violated("re-encoded frame \(show(frame)) did not decode to a frame")
        }
        guard again == frame else { violated("round trip changed \(show(frame)) into \(show(again))") }
        guard decoder.isAtFrameBoundary else { violated("re-encoded frame \(show(frame)) left bytes behind") }
    } catch {
        violated("re-encoded frame \(show(frame)) does not decode: \(show(error)); bytes \(bytes)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let setup = DecoderSetup(input) else { return 0 }
    let stream = UnsafeBufferPointer(rebasing: input[DecoderSetup.headerSize...])

    let whole = decode(stream, setup: setup, chunkSizes: [])
    let chunked = decode(stream, setup: setup, chunkSizes: setup.chunkSizes)
    let bytewise = decode(stream, setup: setup, chunkSizes: [1])
    for (name, other) in [("chunked", chunked), ("byte by byte", bytewise)] {
        guard other.events == whole.events, sameFault(other.error, whole.error) else {
            violated("\(name) decoding differs from decoding in one piece: \(show(other.events)) \(show(other.error as Any)) vs \(show(whole.events)) \(show(whole.error as Any))")
        }
    }
    for case .frame(let frame) in whole.events {
        checkRoundTrip(frame, setup: setup)
    }
    return 0
}
