import Foundation
import XCTest

/// `--record` captures what went over the wire from this shell, including the connections of its own that
/// `rpc serve` and `rpc bench` open (before: only the session's and operator commands' frames were in the file).
/// Read back from the recording, on every broker.
final class RecordOwnConnectionsTests: XCTestCase {
    /// The recording's lines as (dir, frame, destination, body).
    static func lines(_ path: String) throws -> [(dir: String, frame: String, destination: String?, body: String)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let dir = o["dir"] as? String, let frame = o["frame"] as? String else { return nil }
            let headers = o["headers"] as? [String: Any]
            return (dir, frame, headers?["destination"] as? String, o["body"] as? String ?? "")
        }
    }

    static func tempPath(_ name: String) -> String {
        NSTemporaryDirectory() + "stompsh-rec-\(getpid())-\(UUID().uuidString.prefix(8))-\(name)"
    }


    func testRPCBenchConnectionsAreRecorded() throws {
        for (name, url) in Brokers.all() {
            let q = Brokers.unique("rec-rpcbench-\(name)")
            let (server, _) = try Stompsh.startRPCServer(url, q, count: 4)
            let rec = Self.tempPath("bench.jsonl")
            let r = try Stompsh.run(["--record", rec, url, "-c", "rpc bench \(q) echo hi -n 4 -c 2"], timeout: 60)
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            server.waitUntilExit()
            let lines = try Self.lines(rec)
            let requests = lines.filter { $0.dir == "out" && $0.frame == "SEND" && $0.destination == q }
            XCTAssertEqual(requests.count, 4, "\(name): the bench's 4 requests recorded: \(lines.map { "\($0.dir) \($0.frame)" })")
            XCTAssertTrue(requests.allSatisfy { $0.body.contains("\"echo\"") }, "\(name): \(requests.map(\.body))")
            let replies = lines.filter { $0.dir == "in" && $0.frame == "MESSAGE" && $0.body.contains("\"result\"") }
            XCTAssertEqual(replies.count, 4, "\(name): the 4 replies recorded")
            // two links: the session's and the bench's, each with its CONNECT and CONNECTED
            XCTAssertEqual(lines.filter { $0.frame == "CONNECT" || $0.frame == "STOMP" }.count, 2, name)
            XCTAssertEqual(lines.filter { $0.frame == "CONNECTED" }.count, 2, name)
        }
    }

    func testRPCServeConnectionIsRecorded() throws {
        for (name, url) in Brokers.all() {
            let q = Brokers.unique("rec-rpcserve-\(name)")
            let rec = Self.tempPath("serve.jsonl")
            let (server, out) = try Stompsh.startRPCServer(url, q, count: 2, record: rec)
            let caller = try Stompsh.run([url, "-c", "rpc call \(q) echo one", "-c", "rpc call \(q) echo two"], timeout: 60)
            XCTAssertEqual(caller.status, 0, "\(name): \(caller.stderr)")
            server.waitUntilExit()
            let served = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(server.terminationStatus, 0, "\(name): \(served)")
            let lines = try Self.lines(rec)
            XCTAssertEqual(lines.filter { $0.dir == "out" && $0.frame == "SUBSCRIBE" && $0.destination == q }.count, 1,
                           "\(name): the service's SUBSCRIBE: \(lines.map { "\($0.dir) \($0.frame)" })")
            let requests = lines.filter { $0.dir == "in" && $0.frame == "MESSAGE" && $0.destination == q }
            XCTAssertEqual(requests.map { $0.body.contains("\"one\"") ? "one" : $0.body.contains("\"two\"") ? "two" : $0.body },
                           ["one", "two"], name)
            let replies = lines.filter { $0.dir == "out" && $0.frame == "SEND" && $0.body.contains("\"result\"") }
            XCTAssertEqual(replies.count, 2, "\(name): the replies")
            XCTAssertEqual(lines.filter { $0.dir == "out" && $0.frame == "ACK" }.count, 2, "\(name): the requests' ACKs")
        }
    }
}
