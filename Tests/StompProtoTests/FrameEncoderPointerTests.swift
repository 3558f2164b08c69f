import XCTest
@testable import StompProto

/// `FrameEncoder.encode(_:to:)` (a caller's buffer, e.g. the client's outbound ByteBuffer) writes exactly what
/// `encode(_:)` returns, and throws where it throws, within `maximumEncodedCount`.
final class FrameEncoderPointerTests: XCTestCase {
    private func frames() -> [StompFrame] {
        var out: [StompFrame] = []
        let bodies: [[UInt8]] = [[], Array("hello".utf8), [0x61, 0, 0x62], Array(repeating: 0, count: 3), Array(repeating: 0x78, count: 5000)]
        let headerSets: [StompHeaders] = [
            [:],
            ["destination": "/queue/a", "receipt": "r-1"],
            ["destination": "/queue/a:b\\c", "x:y": "line\nbreak\rcr", "empty": ""],
            ["destination": "/queue/\u{e9}t\u{e9}", "n": "\u{1F600}"],
            ["content-length": "5", "destination": "/q"],
        ]
        for command in [StompCommand.send, .connect, .ack, .message, .subscribe] {
            for h in headerSets {
                for b in bodies where command.allowsBody || b.isEmpty { out.append(StompFrame(command, headers: h, body: b)) }
            }
        }
        var many = StompHeaders()
        for i in 0..<40 { many.append("h\(i)", String(repeating: ":", count: i)) }
        out.append(StompFrame(.send, headers: many, body: Array("x".utf8)))
        return out
    }

    func testPointerEncodingEqualsArrayEncodingForEveryVersionAndPolicy() throws {
        var compared = 0, refused = 0
        for version in StompVersion.allCases {
            for policy in [ContentLengthPolicy.whenNeeded, .always, .never] {
                let encoder = FrameEncoder(version: version, contentLength: policy)
                for frame in frames() {
                    let room = encoder.maximumEncodedCount(frame)
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: room, alignment: 1)
                    defer { buffer.deallocate() }
                    let expected: Result<[UInt8], FrameEncodingError>
                    do { expected = .success(try encoder.encode(frame)) } catch let e as FrameEncodingError { expected = .failure(e) }
                    switch expected {
                    case .success(let bytes):
                        let n = try encoder.encode(frame, to: buffer)
                        XCTAssertLessThanOrEqual(n, room)
                        XCTAssertEqual(Array(buffer[..<n]), bytes, "\(version) \(policy) \(frame.command) \(frame.headers)")
                        compared += 1
                    case .failure(let e):
                        XCTAssertThrowsError(try encoder.encode(frame, to: buffer)) { XCTAssertEqual($0 as? FrameEncodingError, e) }
                        refused += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
        XCTAssertGreaterThan(refused, 0)   // 1.0 LF, the content-length mismatch, NUL under .never
    }
}
