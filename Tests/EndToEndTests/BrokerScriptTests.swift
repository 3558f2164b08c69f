import Foundation
import XCTest

/// Scripts against the real brokers (ActiveMQ and RabbitMQ) and the sandbox broker, through the built binary.
final class BrokerScriptTests: XCTestCase {
    /// Runs `body` for each configured broker and the sandbox (a missing real broker fails when required).
    func eachBroker(_ body: (String, String) throws -> Void) throws {
        if ProcessInfo.processInfo.environment["STOMPSH_REQUIRE_BROKERS"] == "1" {
            _ = try Brokers.activemq()
            _ = try Brokers.rabbitmq()
        }
        for (name, url) in Brokers.all() {
            try body(name, url)
        }
    }

    func testPublishConsumeAssert() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let path = Stompsh.script("""
                subscribe \(q) --id s1
                send \(q) -H x-test:one hello   world
                expect --on s1 --body 'hello   world' -H x-test:one
                echo got ${last.body} ${last.header.x-test}
                send \(q) --content-type application/json <<EOF
                {"a": [1, 2],
                 "b": "c"}
                EOF
                expect --body-match '"b": *"c"' -H content-type:application/json
                send --receipt \(q) third
                wait 1 --on \(q)
                unsubscribe s1
                """)
            let r = try Stompsh.run([url, "-f", path])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("got hello   world one"), r.stdout)
            XCTAssertTrue(r.stdout.contains("MESSAGE \(q)"), r.stdout)
            XCTAssertTrue(r.stdout.contains("\"a\": ["), "JSON body pretty-printed: \(r.stdout)")
        }
    }

    func testExpectFailurePrintsWhatArrived() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let path = Stompsh.script("subscribe \(q)\nsend \(q) actual\nexpect --body wanted\necho never\n")
            let r = try Stompsh.run([url, "-f", path])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("\(path):3:1: error: expect: body is 'actual', expected 'wanted'"), r.stderr)
            XCTAssertTrue(r.stderr.contains("received:\nMESSAGE \(q)"), r.stderr)
            XCTAssertFalse(r.stdout.contains("never"))
        }
    }

    func testStatusShowsCounters() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let r = try Stompsh.run([url, "-c", "subscribe \(q)", "-c", "send --receipt \(q) hi", "-c", "wait", "-c", "status"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("  counters     frames sent "), r.stdout)
            XCTAssertTrue(r.stdout.contains("(messages 1, receipts "), r.stdout)
            XCTAssertTrue(r.stdout.contains("heart-beats sent "), r.stdout)
            let j = try Stompsh.run([url, "--json", "-c", "status"])
            XCTAssertEqual(j.status, 0, "\(name): \(j.stderr)")
            let line = j.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let counters = o?["counters"] as? [String: Any]
            XCTAssertNotNil(counters?["frames_sent"], line)
            XCTAssertNotNil(counters?["bytes_received"], line)
            XCTAssertNotNil(o?["heart_beats"], line)
        }
    }

    func testExpectWithoutMatchPrintsWhatArrivedInstead() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name), other = Brokers.unique(name)
            let r = try Stompsh.run([url, "-q", "-c", "subscribe \(q)", "-c", "subscribe \(other)", "-c", "send \(other) elsewhere",
                                     "-c", "expect --on \(q) --timeout 1"])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("-c[4]:1:1: error: expect: no message on \(q) within 1 s (1 other message(s) waiting)"), r.stderr)
            XCTAssertTrue(r.stderr.contains("received instead:\nMESSAGE \(other)"), r.stderr)
            XCTAssertTrue(r.stderr.contains("elsewhere"), r.stderr)
        }
    }

    func testWaitTimeoutSaysHowMany() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let r = try Stompsh.run([url, "-c", "subscribe \(q)", "-c", "send \(q) one", "-c", "wait 2 --timeout 0.5"])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.hasPrefix("-c[3]:1:1: error: wait: timed out after 0.5 s: 1 of 2 messages arrived"), r.stderr)
            let e = try Stompsh.run([url, "-c", "subscribe \(q)", "-c", "expect --timeout 0.3"])
            XCTAssertTrue(e.stderr.hasPrefix("-c[2]:1:1: error: expect: no message within 0.3 s"), e.stderr)
        }
    }

    func testJSONOutputShape() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let r = try Stompsh.run([url, "--json", "-c", "subscribe \(q) --id j1", "-c", "send \(q) -H k:v hi",
                                     "-c", "send \(q) --file \(binaryFile())", "-c", "wait 2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            var frames: [[String: Any]] = []
            for line in r.lines {
                let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
                if obj["frame"] != nil { frames.append(obj) }
            }
            XCTAssertEqual(frames.count, 2, r.stdout)
            let h = try XCTUnwrap(frames[0]["headers"] as? [String: String])
            XCTAssertEqual(frames[0]["frame"] as? String, "MESSAGE")
            XCTAssertEqual(h["destination"], q)
            XCTAssertEqual(h["k"], "v")
            XCTAssertEqual(frames[0]["body"] as? String, "hi")
            XCTAssertEqual(frames[1]["body_base64"] as? String, Data([0, 1, 2, 255, 10]).base64EncodedString())
            XCTAssertNil(frames[1]["body"])
        }
    }

    func binaryFile() -> String {
        let path = Stompsh.script("", name: "bin.dat")
        _ = FileManager.default.createFile(atPath: path, contents: Data([0, 1, 2, 255, 10]))
        return path
    }

    func testQuietPrintsOnlyFrames() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let r = try Stompsh.run([url, "-q", "-c", "subscribe \(q)", "-c", "send \(q) quiet-body", "-c", "wait 1",
                                     "-c", "echo hidden", "-c", "status"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("MESSAGE \(q)"), r.stdout)
            XCTAssertTrue(r.stdout.contains("quiet-body"))
            XCTAssertFalse(r.stdout.contains("hidden"))
            XCTAssertFalse(r.stdout.contains("subscribed"))
            XCTAssertFalse(r.stdout.contains("connected"))
        }
    }

    func testTransactionsAndClientAck() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let path = Stompsh.script("""
                subscribe \(q) --ack client-individual
                begin
                send \(q) in-tx
                expect --timeout 0.5
                """)
            let r = try Stompsh.run([url, "-f", path])
            XCTAssertEqual(r.status, 1, "nothing is delivered before commit")
            XCTAssertTrue(r.stderr.contains("began t1") || r.stdout.contains("began t1"), r.stdout)
            let path2 = Stompsh.script("""
                subscribe \(q) --ack client-individual
                begin tx9
                send \(q) in-tx
                commit
                expect --body in-tx
                ack last
                status
                """)
            let r2 = try Stompsh.run([url, "-f", path2])
            XCTAssertEqual(r2.status, 0, r2.stderr)
            XCTAssertTrue(r2.stdout.contains("committed tx9"), r2.stdout)
            XCTAssertTrue(r2.stdout.contains("acked "), r2.stdout)
            XCTAssertTrue(r2.stdout.contains("pending acks 0"), r2.stdout)
        }
    }

    func testRawFrameAndExpectError() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let path = Stompsh.script("""
                subscribe \(q)
                raw
                SEND
                destination:\(q)
                x-raw:yes

                raw body
                .
                expect --body 'raw body' -H x-raw:yes
                raw <<EOF
                BOGUS

                EOF
                expect-error
                """)
            let r = try Stompsh.run([url, "-f", path, "--trace"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)\n\(r.stdout)")
            XCTAssertTrue(r.stdout.contains(">>> SEND"), r.stdout)
            XCTAssertTrue(r.stdout.contains("raw body^@"), r.stdout)
            XCTAssertTrue(r.stdout.contains("ERROR"), r.stdout)
        }
    }

    /// An unknown command: ActiveMQ and the sandbox answer ERROR and close (lost for good: 3); RabbitMQ answers
    /// ERROR and keeps the connection (an unexpected ERROR: 1).
    func testUnexpectedBrokerErrorExitStatus() throws {
        try eachBroker { name, url in
            let r = try Stompsh.run([url, "-c", "raw <<EOF\nBOGUS\n\nEOF", "-c", "sleep 1", "-c", "send /queue/x y"])
            XCTAssertEqual(r.status, name == "rabbitmq" ? 1 : 3, "\(name): \(r.stderr)")
        }
    }

    func testTLS() throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["STOMPSH_TEST_RABBITMQ_TLS"], let dir = env["STOMPSH_TEST_TLS_DIR"] else {
            throw XCTSkip("STOMPSH_TEST_RABBITMQ_TLS / STOMPSH_TEST_TLS_DIR not set")
        }
        let q = Brokers.unique("tls")
        let ok = try Stompsh.run([url, "--cafile", dir + "/ca.pem", "-c", "subscribe \(q)", "-c", "send \(q) secure",
                                  "-c", "expect --body secure"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let untrusted = try Stompsh.run([url, "-c", "echo never"])
        XCTAssertEqual(untrusted.status, 3)
        XCTAssertTrue(untrusted.stderr.contains("certificate"), untrusted.stderr)
        let insecure = try Stompsh.run([url, "--insecure", "-c", "echo yes"])
        XCTAssertEqual(insecure.status, 0)
        XCTAssertTrue(insecure.stderr.contains("NOT verified"), insecure.stderr)
    }

    func testRepeatSendsAndStatus() throws {
        try eachBroker { name, url in
            let q = Brokers.unique(name)
            let r = try Stompsh.run([url, "-c", "subscribe \(q)", "-c", "repeat 3 --interval 0.05 send \(q) n=${repeat.index}",
                                     "-c", "wait 3", "-c", "status"])
            XCTAssertEqual(r.status, 0, r.stderr)
            for i in 1...3 { XCTAssertTrue(r.stdout.contains("n=\(i)"), r.stdout) }
            XCTAssertTrue(r.stdout.contains("subscriptions 1"), r.stdout)
        }
    }
}
