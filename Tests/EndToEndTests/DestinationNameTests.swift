import Foundation
import XCTest

/// ActiveMQ 5 drops the blanks and control characters at the ends of a destination and of its name after the
/// /queue/ prefix (SEND and SUBSCRIBE alike): messages sent to `/queue/R<NUL>` are in `/queue/R`. stompsh refuses
/// such a destination there, at its column, naming the one ActiveMQ would use; RabbitMQ and the sandbox keep every
/// name as it is, and there it is used as given.
final class DestinationNameTests: XCTestCase {
    /// A script file holding `lines` (bytes: a NUL can only come from a file or a variable).
    private func script(_ lines: [[UInt8]]) -> String {
        let path = Stompsh.script("")
        FileManager.default.createFile(atPath: path, contents: Data(lines.map { $0 + [0x0A] }.joined()))
        return path
    }

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// The broker's rule, pinned with a frame stompsh does not check (`raw --file`): a SEND to `/queue/R<NUL>` is
    /// found by draining `/queue/R`.
    func testActiveMQTakesADestinationWithoutTheControlCharactersAtItsEnds() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("s8left-trim")
        let frame = NSTemporaryDirectory() + "s8left-trim-\(getpid()).frame"
        FileManager.default.createFile(atPath: frame, contents: Data(bytes("SEND\ndestination:\(q)") + [0]
                                                                      + bytes("\nreceipt:r-trim\n\nhi") + [0]))
        let sent = try Stompsh.run([url, "-c", "raw --file \(frame)", "-c", "sleep 0.5"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        let drained = try Stompsh.run(["--json", url, "-c", "drain \(q)"])
        XCTAssertEqual(drained.status, 0, drained.stderr)
        XCTAssertTrue(drained.stdout.contains(#""drained":1"#), "ActiveMQ no longer trims destinations? \(drained.stdout)")
    }

    /// ActiveMQ does not trim a temporary destination's name after its prefix: `/temp-queue/ x` is a destination of
    /// its own (its MESSAGE says so; one subscribed to `/temp-queue/x` gets nothing). It was refused as `/temp-queue/x`.
    func testATemporaryDestinationWithABlankAfterItsPrefixIsUsedAsGiven() throws {
        let url = try Brokers.activemq()
        for prefix in ["/temp-queue/", "/temp-topic/"] {
            let d = "\(prefix) adv2-\(UUID().uuidString.prefix(8))"
            let r = try Stompsh.run(["--json", "-q", url, "-c", "subscribe \"\(d)\"", "-c", "send --receipt \"\(d)\" hi",
                                     "-c", "wait 1 --timeout 10"])
            XCTAssertEqual(r.status, 0, "\(prefix): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("\"destination\":\"\(d)\""), "\(prefix): \(r.stdout)")
        }
    }

    func testADestinationActiveMQWouldTrimIsRefusedThere() throws {
        let url = try Brokers.activemq()
        let q = Brokers.unique("s8left-trim")
        for (name, dest, taken) in [("trailing NUL", bytes(q) + [0], q), ("NUL after the prefix", bytes("/queue/") + [0] + bytes(String(q.dropFirst(7))), q),
                                    ("trailing blank", bytes(q + " "), q)] {
            let path = script([bytes("send \"") + dest + bytes("\" --receipt hi"), bytes("echo after")])
            let r = try Stompsh.run([url, "-f", path])
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertFalse(r.stdout.contains("after"), name)
            XCTAssertTrue(r.stderr.contains(":1:6: error: ActiveMQ takes the destination '"), "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(" as '\(taken)': it drops the blanks and control characters"), "\(name): \(r.stderr)")
        }
        // nothing went to the queue the broker would have used
        let drained = try Stompsh.run(["--json", url, "-c", "drain \(q)"])
        XCTAssertTrue(drained.stdout.contains(#""drained":0"#), drained.stdout)
        // a name that is nothing once trimmed: ActiveMQ would close the connection
        let empty = try Stompsh.run([url, "-f", script([bytes("subscribe \"/queue/ \"")])])
        XCTAssertEqual(empty.status, 1, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("as an empty name (it then closes the connection)"), empty.stderr)
        // a control character inside the name is kept by ActiveMQ: used as given
        let inside = bytes(q) + [0] + bytes("x")
        let kept = try Stompsh.run(["--json", url, "-f", script([bytes("send ") + inside + bytes(" --receipt hi"),
                                                                  bytes("drain ") + inside])])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertTrue(kept.stdout.contains(#""drained":1"#), kept.stdout)
    }

    /// RabbitMQ and the sandbox keep the name: the same destination is sent to and drained as given.
    func testOtherBrokersUseTheDestinationAsGiven() throws {
        for (name, url) in Brokers.all() where name != "activemq" {
            let dest = bytes(Brokers.unique("s8left-trim")) + [0]
            let r = try Stompsh.run(["--json", url, "-f", script([bytes("send ") + dest + bytes(" --receipt hi"),
                                                                   bytes("drain ") + dest])])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains(#""drained":1"#), "\(name): \(r.stdout)")
        }
    }
}
