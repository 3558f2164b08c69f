// The operator tools' pure parts: the JSON line format, the headers kept on a re-send, the broker family, the
// recorder's decoding and masking, bad-input refusals that need no broker.
import XCTest
import Foundation
import StompProto
import StompConnection
@testable import StompShell

final class OperatorToolsUnitTests: XCTestCase {
    func testMessageLineRoundTripsNULNonUTF8AndEscapedHeadersExactly() throws {
        let frames: [StompFrame] = [
            StompFrame(.message, headers: StompHeaders([("a", "x:y"), ("b", "l1\nl2\r"), ("c", "back\\slash")]), body: [0x61, 0, 0x62]),
            StompFrame(.message, headers: ["k": "v"], body: [0xFF, 0xFE, 0x80]),
            StompFrame(.message, headers: ["u": "☃"], body: Array("text with \"quotes\"\n\t and \u{1} control".utf8)),
            StompFrame(.message, headers: [:], body: []),
        ]
        for f in frames {
            let bytes = MessageLine(frame: f).encoded
            XCTAssertFalse(bytes.contains(0x0A), "one line")
            let back = try XCTUnwrap(MessageLine.parse(bytes))
            XCTAssertEqual(back.frame, f)
            XCTAssertNil(back.t)
        }
        let text = String(decoding: MessageLine(frame: frames[0]).encoded, as: UTF8.self)
        XCTAssertTrue(text.contains("\"body_base64\":\"YQBi\""), text)
    }

    func testRecordedLinesCarryTAndDirFirst() throws {
        let line = MessageLine(frame: StompFrame(.send, headers: ["destination": "/queue/a"], body: "hi"), t: 1.25, direction: "out")
        let text = String(decoding: line.encoded, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"t\":1.25,\"dir\":\"out\",\"frame\":\"SEND\""), text)
        XCTAssertEqual(try MessageLine.parse(line.encoded), line)
    }

    func testParseErrorsSayWhatIsWrong() {
        func message(_ s: String) -> String {
            do { _ = try MessageLine.parse(Array(s.utf8)); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("{\"frame\":\"MESSAGE\",\"bo").hasPrefix("truncated or malformed JSON"))
        XCTAssertTrue(message("hello").hasPrefix("not a JSON line"))
        XCTAssertEqual(message("[1]"), "expected a JSON object, got array")
        XCTAssertEqual(message("{\"frame\":\"NOPE\"}"), "unknown frame \"NOPE\"")
        XCTAssertEqual(message("{\"frame\":\"SEND\",\"headers\":{\"a\":1}}"), "header a must be a string, got integer")
        XCTAssertEqual(message("{\"frame\":\"SEND\",\"body_base64\":\"***\"}"), "\"body_base64\" is not base64")
        XCTAssertEqual(message("{\"frame\":\"SEND\",\"dir\":\"sideways\"}"), "\"dir\" must be \"in\" or \"out\"")
        XCTAssertNil(try MessageLine.parse(Array("{\"sent\":\"/queue/a\"}".utf8)), "a result line is no frame")
    }

    func testApplicationHeadersDropWhatTheBrokerAssigned() {
        let f = StompFrame(.message, headers: StompHeaders([
            ("message-id", "ID:1"), ("destination", "/queue/a"), ("subscription", "s"), ("ack", "x"),
            ("content-length", "3"), ("redelivered", "true"), ("timestamp", "1"), ("expires", "0"),
            ("priority", "4"), ("x-app", "one"), ("x-app", "two"), ("content-type", "text/plain"),
        ]), body: Array("abc".utf8))
        let h = BrokerHeaders.application(f)
        XCTAssertEqual(h.pairs.map(\.name), ["priority", "x-app", "content-type", "content-length"])
        XCTAssertEqual(h["x-app"], "one")
        XCTAssertEqual(h["content-length"], "3", "sent with a content-length, sent again with one")
        let text = StompFrame(.message, headers: ["destination": "/queue/a"], body: "abc")
        XCTAssertNil(BrokerHeaders.application(text)["content-length"], "a text message stays text (ActiveMQ)")
        let binary = StompFrame(.message, headers: [:], body: [0xFF])
        XCTAssertEqual(BrokerHeaders.application(binary)["content-length"], "1", "not UTF-8: bytes")
        let copy = MoveCopyCommands.copyHeaders(f, source: "/queue/src")
        XCTAssertEqual(copy["x-stompsh-original-destination"], "/queue/a")
        XCTAssertEqual(copy["x-stompsh-original-message-id"], "ID:1")
        var moved = f
        moved.headers["x-stompsh-original-destination"] = "/queue/first"
        XCTAssertEqual(MoveCopyCommands.copyHeaders(moved, source: "/queue/a")["x-stompsh-original-destination"], "/queue/first",
                       "moved twice: the first origin is kept")
    }

    func testBrokerFamilyFromTheServerHeader() {
        XCTAssertEqual(BrokerFamily(server: "ActiveMQ/5.17.2"), .activeMQ5)
        XCTAssertTrue(BrokerFamily(server: "ActiveMQ/5.17.2").canBrowse)
        XCTAssertEqual(BrokerFamily(server: "RabbitMQ/3.10.8"), .rabbitMQ)
        XCTAssertFalse(BrokerFamily(server: "RabbitMQ/3.10.8").canBrowse)
        XCTAssertFalse(BrokerFamily(server: "ActiveMQ-Artemis/2.31").canBrowse, "Artemis has no browser:true")
        XCTAssertEqual(BrokerFamily(server: "stompsh-sandbox/1.0"), .sandbox)
        XCTAssertEqual(BrokerFamily(server: nil), .other(nil))
    }

    func tempPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "stompsh-ops-unit-\(getpid())-\(UUID().uuidString.prefix(6))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    func testRecorderDecodesAnyChunkingMasksThePasscodeAndFollowsTheVersion() throws {
        let path = tempPath("rec.jsonl")
        let rec = try FrameRecorder(path: path, force: false)
        let t0 = StompInstant.now()
        let connect = Array("CONNECT\naccept-version:1.2\nlogin:me\npasscode:s3cret\n\n\0".utf8)
        rec.record(outbound: true, Array(connect[0..<10]), at: t0)
        rec.record(outbound: true, Array(connect[10...]), at: t0.advanced(byNanoseconds: 1_000_000))
        rec.record(outbound: false, Array("CONNECTED\nversion:1.2\n\n\0\n".utf8), at: t0.advanced(byNanoseconds: 2_000_000))
        rec.record(outbound: false, Array("\n".utf8), at: t0.advanced(byNanoseconds: 3_000_000))   // heart-beat: no line
        rec.record(outbound: true, Array("SEND\ndestination:/queue/a\nx:a\\cb\n\nbody\0".utf8), at: t0.advanced(byNanoseconds: 500_000_000))
        try rec.close()
        XCTAssertEqual(rec.frames, 3)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try MessageLine.parse(Array($0.utf8))! }
        XCTAssertEqual(lines.map(\.frame.command), [.connect, .connected, .send])
        XCTAssertEqual(lines.map(\.direction), ["out", "in", "out"])
        XCTAssertEqual(lines[0].frame.headers["passcode"], "****")
        XCTAssertEqual(lines[2].frame.headers["x"], "a:b", "1.2 escapes decoded after CONNECTED")
        XCTAssertEqual(lines[2].t ?? 0, 0.5, accuracy: 0.01)
        XCTAssertFalse(try String(contentsOfFile: path, encoding: .utf8).contains("s3cret"))
    }

    func testRecorderDecodesEachChunkOnItsOwnSoInterleavedConnectionsAndABadChunkLoseNothingElse() throws {
        let path = tempPath("rec2.jsonl")
        let rec = try FrameRecorder(path: path, force: false, version: .v1_2)
        let t0 = StompInstant.now()
        rec.record(outbound: false, Array("MESSAGE\nsubscription:s1\nx:a\\cb\n\none\0".utf8), at: t0)
        rec.record(outbound: false, Array("NOT A FRAME\n\n\0".utf8), at: t0)   // e.g. a peer's garbage
        rec.record(outbound: false, Array("MESSAGE\nsubscription:s2\n\ntwo\0\n".utf8), at: t0)
        rec.record(outbound: false, Array("\n".utf8), at: t0)
        rec.record(outbound: false, Array("MESSAGE\nsubscription:s1\n\nthree\0".utf8), at: t0)
        try rec.close()
        XCTAssertEqual(rec.undecodable, 1)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try MessageLine.parse(Array($0.utf8))! }
        XCTAssertEqual(lines.map { String(decoding: $0.frame.body, as: UTF8.self) }, ["one", "two", "three"])
        XCTAssertEqual(lines[0].frame.headers["x"], "a:b")
    }

    func testFilesAreRefusedBeforeAnythingHappens() throws {
        let path = tempPath("exists.jsonl")
        FileManager.default.createFile(atPath: path, contents: Data("x\n".utf8))
        XCTAssertThrowsError(try FrameRecorder(path: path, force: false)) { e in
            XCTAssertTrue("\(e)".contains("exists (use --force to overwrite it)"), "\(e)")
            XCTAssertEqual((e as? ShellError)?.exitStatus, 2)
        }
        XCTAssertNoThrow(try FrameRecorder(path: path, force: true))
        XCTAssertThrowsError(try FrameRecorder(path: NSTemporaryDirectory(), force: true)) { e in
            XCTAssertTrue("\(e)".contains("is a directory"), "\(e)")
        }
        XCTAssertThrowsError(try FrameRecorder(path: "/nonexistent-dir/x", force: false)) { e in
            XCTAssertTrue("\(e)".contains("cannot write '/nonexistent-dir/x'"), "\(e)")
        }
    }

    func testCommandsRefuseBadInputWithoutABroker() throws {
        let o = Output(color: false)
        let shell = Shell(output: o)
        o.sink = { _, _ in }
        func error(_ line: String) -> String {
            do { try shell.run(line: line); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error("drain /queue/a").contains("not connected"))
        XCTAssertTrue(error("record stop").contains("not recording"))
        XCTAssertTrue(error("record start").contains("give the FILE"))
        XCTAssertTrue(error("wait 3 --idle 1").contains("give N or --idle, not both"))
        XCTAssertTrue(error("wait --idle 0").contains("expected a number above 0"))
        XCTAssertNotEqual(error("wait --idle -1"), "no error")
    }

    func testReplayOnlyListIsChecked() throws {
        XCTAssertEqual(try Replay.parseOnly("send,Subscribe"), [.send, .subscribe])
        XCTAssertThrowsError(try Replay.parseOnly("send,connect")) { e in
            XCTAssertTrue("\(e)".contains("'connect' is not one of"), "\(e)")
        }
    }

    /// move in STOMP 1.0 (cumulative ACK): a source message's ACK goes only once its copy and every earlier copy
    /// are confirmed, whatever order the RECEIPTs come in; a copy never confirmed holds back every later ACK.
    func testOrderedAcksReleaseOnlyTheConfirmedRunFromTheOldest() {
        let acks = OrderedAcks()
        for i in 0..<6 { acks.sent(i, ackID: "m\(i)") }
        XCTAssertEqual(acks.confirmed(1), [])
        XCTAssertEqual(acks.confirmed(0), ["m0", "m1"])
        XCTAssertEqual(acks.confirmed(3), [])
        XCTAssertEqual(acks.confirmed(4), [])
        XCTAssertEqual(acks.confirmed(2), ["m2", "m3", "m4"])
        // m5 never confirmed (its copy failed): nothing after it either
        acks.sent(6, ackID: "m6")
        XCTAssertEqual(acks.confirmed(6), [])
    }
}
