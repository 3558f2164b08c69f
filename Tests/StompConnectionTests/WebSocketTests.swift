import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import StompBroker
import StompConnection
import StompProto
import StompTestSupport
import XCTest

/// STOMP over WebSocket against RabbitMQ Web-STOMP (STOMPSH_TEST_RABBITMQ_WS, wss: STOMPSH_TEST_RABBITMQ_WSS) and
/// the sandbox's WebSocket endpoint (STOMPSH_TEST_SANDBOX_WS, else one in this process), plus scripted
/// servers for what real ones do not do on request (fragments, pings, bad frames, wrong subprotocols).
final class WebSocketTests: XCTestCase {
    // MARK: brokers

    static let sandboxWS: (broker: SandboxBroker, ws: SandboxWebSocketListener) = {
        let broker = try! SandboxBroker.startDetached()
        let ws = try! broker.listenWebSocket(port: 0).wait()
        return (broker, ws)
    }()

    static func sandbox() throws -> TestBroker {
        let url = TestEnv.value("STOMPSH_TEST_SANDBOX_WS") ?? sandboxWS.ws.url
        return TestBroker(name: "sandbox over WebSocket", url: try StompURL(parsing: url), kind: .sandbox)
    }

    static func rabbitMQ(file: StaticString = #filePath, line: UInt = #line) throws -> TestBroker {
        try TestEnv.broker("STOMPSH_TEST_RABBITMQ_WS", name: "RabbitMQ Web-STOMP", kind: .rabbitMQ, file: file, line: line)
    }

    static func brokers() throws -> [TestBroker] {
        var out = [try sandbox()]
        do { out.append(try rabbitMQ()) } catch is XCTSkip where !TestEnv.requireBrokers {}
        return out
    }

    // MARK: the core over ws://

    func testByteExactSendSubscribeWithNULBodiesAndEscapedHeaders() throws {
        for broker in try Self.brokers() {
            let box = EventBox()
            var options = broker.options
            options.trace = true
            let client = try connect(options, box)
            let queue = "/queue/" + uniqueName("ws-exact")
            _ = try client.subscribe(destination: queue, id: "s1", ack: .auto, receipt: true).wait()
            let nulBody: [UInt8] = [0x61, 0x00, 0x62, 0xC3, 0xA9, 0x00]
            let weird = "a:b\\c\nd"
            try client.send(destination: queue, headers: ["x-weird": weird], body: nulBody, receipt: true).wait()
            try client.send(destination: queue, body: "plain text é", receipt: true).wait()
            let got = box.messages(2, timeout: 10, subscription: "s1")
            XCTAssertEqual(got.count, 2, "\(broker)")
            XCTAssertEqual(got.first?.body, nulBody, "\(broker): NUL body byte-exact")
            XCTAssertEqual(got.first?.headers["x-weird"], weird, "\(broker): escaped header")
            XCTAssertEqual(got.last?.bodyString, "plain text é", "\(broker)")

            let notes = box.all.compactMap { e -> String? in
                if case .transportTrace(let d, let n, _) = e { return "\(d.rawValue) \(n)" } else { return nil }
            }
            XCTAssertTrue(notes.contains { $0.hasPrefix(">>> GET \(broker.url.path) HTTP/1.1") && $0.contains("Sec-WebSocket-Protocol: v12.stomp, v11.stomp, v10.stomp") },
                          "\(broker): handshake request traced: \(notes.prefix(3))")
            XCTAssertTrue(notes.contains { $0.hasPrefix("<<< HTTP/1.1 101") && $0.contains("subprotocol v12.stomp") }, "\(broker): \(notes.prefix(3))")
            XCTAssertTrue(notes.contains { $0.hasPrefix(">>> ws binary message") }, "\(broker): the NUL body went as binary")
            XCTAssertTrue(notes.contains { $0.hasPrefix(">>> ws text message") }, "\(broker): text frames went as text")
            XCTAssertTrue(notes.contains { $0.hasPrefix("<<< ws ") }, "\(broker)")
            try client.disconnect().wait()
            XCTAssertNil(try client.closeFuture.wait(), "\(broker): clean DISCONNECT over WebSocket")
        }
    }

    /// DISCONNECT over WebSocket ends with the close handshake: our close (1000), the server's answer, then the socket.
    func testDisconnectDoesTheCloseHandshake() throws {
        let broker = try Self.sandbox()
        let box = EventBox()
        var options = broker.options
        options.trace = true
        let client = try connect(options, box)
        try client.disconnect().wait()
        XCTAssertNil(try client.closeFuture.wait())
        let notes = box.all.compactMap { e -> String? in
            if case .transportTrace(let d, let n, _) = e, n.hasPrefix("ws close") || n.hasPrefix("(no close") { return "\(d.rawValue) \(n)" } else { return nil }
        }
        XCTAssertEqual(notes, [">>> ws close, code 1000", "<<< ws close, code 1000 normal closure"])
    }

    func testForceBinarySendsEveryFrameAsBinary() throws {
        let broker = try Self.sandbox()
        let box = EventBox()
        var options = broker.options
        options.trace = true
        options.webSocket.forceBinary = true
        let client = try connect(options, box)
        try client.send(destination: "/queue/" + uniqueName("ws-bin"), body: "text", receipt: true).wait()
        let outbound = box.all.compactMap { e -> String? in
            if case .transportTrace(.outbound, let n, _) = e, n.hasPrefix("ws ") && n.contains("message") { return n } else { return nil }
        }
        XCTAssertFalse(outbound.isEmpty)
        XCTAssertTrue(outbound.allSatisfy { $0.hasPrefix("ws binary") }, "\(outbound)")
        try client.disconnect().wait()
    }

    func testAcksNackAndTransactions() throws {
        for broker in try Self.brokers() {
            let box = EventBox()
            let client = try connect(broker.options, box)
            let queue = "/queue/" + uniqueName("ws-ack")
            _ = try client.subscribe(destination: queue, id: "acks", ack: .clientIndividual, headers: ["prefetch-count": "10"], receipt: true).wait()
            try client.send(destination: queue, headers: ["n": "1"], body: "one", receipt: true).wait()
            try client.send(destination: queue, headers: ["n": "2"], body: "two", receipt: true).wait()
            let two = box.messages(2, timeout: 10, subscription: "acks")
            XCTAssertEqual(two.count, 2, "\(broker)")
            guard two.count == 2 else { continue }
            _ = try client.ack(messageID: two[0].headers["message-id"], receipt: true).wait()
            _ = try client.nack(messageID: two[1].headers["message-id"], receipt: true).wait()

            // A transaction: aborted sends vanish, committed ones arrive.
            let txq = "/queue/" + uniqueName("ws-tx")
            _ = try client.subscribe(destination: txq, id: "tx", receipt: true).wait()
            try client.begin("t1", receipt: true).wait()
            try client.send(destination: txq, body: "aborted", transaction: "t1").wait()
            try client.abort("t1", receipt: true).wait()
            try client.begin("t2", receipt: true).wait()
            try client.send(destination: txq, body: "committed", transaction: "t2").wait()
            try client.commit("t2", receipt: true).wait()
            let m = box.message(10, subscription: "tx")
            XCTAssertEqual(m?.bodyString, "committed", "\(broker)")
            XCTAssertNil(box.message(0.5, subscription: "tx"), "\(broker): the aborted send arrived")
            try client.disconnect().wait()
        }
    }

    func testHeartBeatsKeepAnIdleWebSocketConnectionAlive() throws {
        for broker in try Self.brokers() {
            let box = EventBox()
            var options = broker.options
            options.heartBeat = HeartBeat(1000, 1000)
            let client = try connect(options, box)
            let info = client.connectedInfo
            Thread.sleep(forTimeInterval: 4)
            XCTAssertEqual(client.state, .connected, "\(broker): \(String(describing: box.all.last))")
            let snap = try client.snapshot().wait()
            if info.heartBeat.sendInterval != nil { XCTAssertGreaterThan(snap.counters.heartbeatsSent, 2, "\(broker)") }
            if info.heartBeat.receiveInterval != nil { XCTAssertGreaterThan(snap.counters.heartbeatsReceived, 1, "\(broker)") }
            try client.disconnect().wait()
        }
    }

    /// The issue asks for an idle minute with the default heart-beats on the real broker.
    func testRabbitMQWebSocketIdleMinuteWithDefaultHeartBeats() throws {
        let broker = try Self.rabbitMQ()
        var options = broker.options
        options.heartBeat = HeartBeat(10_000, 10_000)
        let box = EventBox()
        let client = try connect(options, box)
        Thread.sleep(forTimeInterval: 62)
        XCTAssertEqual(client.state, .connected, "\(String(describing: box.all.last))")
        try client.send(destination: "/queue/" + uniqueName("ws-idle"), body: "still here", receipt: true).wait()
        try client.disconnect().wait()
    }

    func testFailoverMixesTransports() throws {
        let sandbox = try Self.sandbox()
        let tcp = try TestEnv.sandbox()
        // A dead ws:// first, then the raw STOMP port; a dead stomp:// first, then the WebSocket endpoint.
        for list in ["failover:(ws://127.0.0.1:1/ws,\(tcp.url))", "failover:(stomp://127.0.0.1:1,\(sandbox.url))"] {
            var options = sandbox.options
            options.urls = try StompURL.parseList(list)
            let client = try StompClient.connect(options, on: testGroup).wait()
            XCTAssertEqual(client.url, options.urls[1], list)
            try client.send(destination: "/queue/" + uniqueName("ws-failover"), body: "x", receipt: true).wait()
            try client.disconnect().wait()
        }
    }

    // MARK: wss://

    func testSecureWebSocketWithTheTestCA() throws {
        let url = try TestEnv.broker("STOMPSH_TEST_RABBITMQ_WSS", name: "RabbitMQ Web-STOMP over TLS", kind: .rabbitMQ)
        guard let dir = TestEnv.value("STOMPSH_TEST_TLS_DIR") else { throw XCTSkip("STOMPSH_TEST_TLS_DIR not set") }
        var options = url.options
        options.tls = TLSOptions(caFile: dir + "/ca.pem")
        let box = EventBox()
        let client = try connect(options, box)
        let queue = "/queue/" + uniqueName("wss")
        _ = try client.subscribe(destination: queue, receipt: true).wait()
        try client.send(destination: queue, body: [0, 1, 2, 0xFF], receipt: true).wait()
        XCTAssertEqual(box.message(10)?.body.count, 4)
        try client.disconnect().wait()

        // Without our CA: verification fails, named as a TLS failure.
        options.tls = TLSOptions()
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        guard case .tlsFailure? = e else { return XCTFail("got \(String(describing: e))") }
    }

    func testWssAgainstAPlainPortIsATLSFailure() throws {
        let sandbox = try Self.sandbox()
        var options = sandbox.options
        options.urls = [StompURL(tls: true, host: sandbox.url.host, port: sandbox.url.port, webSocket: true, path: "/ws")]
        options.tls = TLSOptions(insecure: true)
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        guard case .tlsFailure? = e else { return XCTFail("got \(String(describing: e))") }
    }

    // MARK: bad input: one line naming the cause, nothing hangs

    func testWrongPathPrintsTheStatusLineAndThePath() throws {
        let sandbox = try Self.sandbox()
        var options = sandbox.options
        options.urls = [StompURL(host: sandbox.url.host, port: sandbox.url.port, webSocket: true, path: "/stomp")]
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        let text = e?.description ?? ""
        XCTAssertTrue(text.contains("404 Not Found") && text.contains("GET /stomp"), text)
        XCTAssertFalse(text.contains("\n"))
    }

    func testWebSocketURLAtARawSTOMPPort() throws {
        let tcp = try TestEnv.sandbox()
        var options = tcp.options
        options.urls = [StompURL(host: tcp.url.host, port: tcp.url.port, webSocket: true, path: "/ws")]
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        XCTAssertTrue(e?.description.contains("raw STOMP port") == true, "\(String(describing: e))")
    }

    func testStompURLAtAWebSocketPort() throws {
        let sandbox = try Self.sandbox()
        var options = sandbox.options
        options.urls = [StompURL(host: sandbox.url.host, port: sandbox.url.port)]
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        XCTAssertTrue(e?.description.contains("answered in HTTP") == true && e?.description.contains("ws://") == true,
                      "\(String(describing: e))")
    }

    func testPlainHTTPServer() throws {
        let server = try RawServer.start(reply: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello")
        defer { server.stop() }
        var options = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: server.port, webSocket: true, path: "/ws")])
        options.reconnect = .none
        let e = expectConnectionError { _ = try StompClient.connect(options, on: testGroup).wait() }
        let text = e?.description ?? ""
        XCTAssertTrue(text.contains("200 OK") && text.contains("not a WebSocket endpoint") && text.contains("GET /ws"), text)
    }

    func testNoSubprotocolOrOneNotOfferedIsRefused() throws {
        for (chosen, expected) in [(nil as String?, "selected no STOMP subprotocol"), ("v99.stomp", "which we did not offer")] {
            let server = try ScriptedWebSocketServer.start(subprotocol: chosen) { _, _ in }
            defer { server.stop() }
            let e = expectConnectionError { _ = try StompClient.connect(server.options, on: testGroup).wait() }
            XCTAssertTrue(e?.description.contains(expected) == true, "\(String(describing: e))")
        }
    }

    func testSubprotocolMustMatchTheNegotiatedVersion() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v11.stomp") { _, reply in
            reply(.text, "CONNECTED\nversion:1.2\n\n\0")
        }
        defer { server.stop() }
        let e = expectConnectionError { _ = try StompClient.connect(server.options, on: testGroup).wait() }
        XCTAssertTrue(e?.description.contains("v11.stomp but CONNECTED says STOMP 1.2") == true, "\(String(describing: e))")
    }

    /// CONNECTED in three fragments (a ping between them), a heart-beat in a message of its own, then two frames
    /// in one message and one frame over two messages: all decoded; the ping got its pong.
    func testFragmentsSplitFramesAndPings() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v12.stomp") { message, reply in
            let text = String(decoding: message, as: UTF8.self)
            if text.hasPrefix("CONNECT") {
                reply(.fragment(.text, fin: false), "CONNECTED\nver")
                reply(.ping, "are you there")
                reply(.fragment(.continuation, fin: false), "sion:1.2\n")
                reply(.fragment(.continuation, fin: true), "\n\0")
                reply(.text, "\n")
            } else if text.hasPrefix("SEND"), let r = text.range(of: "receipt:") {
                let id = text[r.upperBound...].prefix { $0 != "\n" }
                reply(.text, "RECEIPT\nreceipt-id:ignored\n\n\0RECE")
                reply(.text, "IPT\nreceipt-id:\(id)\n\n\0")
            }
        }
        defer { server.stop() }
        let box = EventBox()
        let client = try connect(server.options, box)
        try client.send(destination: "/queue/x", body: "hi", receipt: true).wait()
        XCTAssertTrue(server.received.contains { $0.opcode == .pong && $0.text == "are you there" }, "\(server.received)")
        XCTAssertEqual(try client.snapshot().wait().counters.heartbeatsReceived, 1)
        client.close().whenComplete { _ in }
    }

    func testServerCloseInTheMiddleOfAFrameShowsCodeAndReason() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v12.stomp") { message, reply in
            guard String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") else { return }
            reply(.text, "CONNECTED\nversion:1.2\n\n\0")
            reply(.text, "MESSAGE\ndestination:/queue/x\nmessage-id:1\n")
            reply(.close(1011), "server restarting")
        }
        defer { server.stop() }
        let box = EventBox()
        _ = try connect(server.options, box)
        let closed = box.closed(10)
        let text = closed??.description ?? "nil"
        XCTAssertTrue(text.contains("code 1011") && text.contains("server restarting") && text.contains("middle of a STOMP frame"), text)
        XCTAssertEqual(server.waitForClose(5)?.bytes, [0x03, 0xF3], "the close was answered with its code (1011)")
    }

    func testMessagesThatAreNotSTOMPOversizedOrMalformed() throws {
        let cases: [(String, [UInt8], ScriptedWebSocketServer.Reply, String)] = [
            ("not STOMP", Array("hello world\n\n\0".utf8), .bytes(.text), "invalid STOMP"),
            ("too big", Array(repeating: UInt8(ascii: "a"), count: 5000), .bytes(.binary), "larger than 4096 bytes"),
            ("malformed", Array("x".utf8), .fragment(.ping, fin: false), "malformed WebSocket frame"),
        ]
        for (name, payload, kind, expected) in cases {
            let server = try ScriptedWebSocketServer.startRaw(subprotocol: "v12.stomp") { message, reply in
                guard String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") else { return }
                reply(.text, "", Array("CONNECTED\nversion:1.2\n\n\0".utf8))
                reply(kind, "", payload)
            }
            defer { server.stop() }
            var options = server.options
            options.webSocket.maxMessageSize = 4096
            let box = EventBox()
            _ = try connect(options, box)
            let closed = box.closed(10)
            let text = closed??.description ?? "nil"
            XCTAssertTrue(text.contains(expected), "\(name): \(text)")
            XCTAssertFalse(text.contains("\n"), name)
        }
    }

    /// Frames RFC 6455 has a client refuse (our own parser reads the server's frames): each ends the link with a
    /// one-line reason, and our close frame carries the code (1002 protocol error; 1009 for a message over the
    /// limit, refused from its header). CONNECTED comes in a binary message: binary carries STOMP as text does.
    func testFramesAClientMustRefuseAreAnsweredWithTheirCloseCode() throws {
        let cases: [(String, [UInt8], UInt16, String)] = [
            ("masked", [0x81, 0x82, 1, 2, 3, 4, 0x0A ^ 1, 0x0A ^ 2], 1002, "malformed WebSocket frame (a masked frame"),
            ("RSV1", [0xC1, 1, 0x0A], 1002, "reserved bits set"),
            ("RSV3", [0x91, 1, 0x0A], 1002, "reserved bits set"),
            ("opcode 3", [0x83, 1, 0x0A], 1002, "the unknown opcode 0x3"),
            ("opcode B", [0x8B, 0], 1002, "the unknown opcode 0xB"),
            ("ping of 126 bytes", [0x89, 126, 0, 126] + Array(repeating: 0, count: 126), 1002, "a ping frame of 126 bytes"),
            ("fragmented close", [0x08, 2, 0x03, 0xE8], 1002, "a fragmented close frame"),
            ("continuation first", [0x80, 1, 0x0A], 1002, "broke WebSocket fragmentation (a continuation frame with no message begun)"),
            ("new message inside one", [0x01, 1, 0x0A, 0x89, 0, 0x82, 1, 0x0A], 1002, "a new message before the last one ended"),
            ("64-bit length, top bit set", [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1], 1002, "most significant bit set"),
            ("too big", [0x82, 126, 0x10, 0x01], 1009, "a WebSocket message larger than 4096 bytes"),
            ("too big in fragments", [0x02, 126, 0x08, 0x00] + Array(repeating: 0x0A, count: 2048) + [0x80, 126, 0x08, 0x01], 1009,
             "a WebSocket message larger than 4096 bytes"),
            // RFC 6455 5.2: lengths in the fewest bytes; 7.4: close codes no endpoint may send; 8.1: a close reason in UTF-8.
            ("16-bit length of 1", [0x82, 126, 0x00, 0x01, 0x0A], 1002, "a payload length of 1 in a 16-bit field (not the fewest bytes)"),
            ("64-bit length of 1", [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 1, 0x0A], 1002, "a payload length of 1 in a 64-bit field"),
            ("close 1005", [0x88, 2, 0x03, 0xED], 1002, "a close frame with the status code 1005, which no endpoint may send"),
            ("close 999", [0x88, 2, 0x03, 0xE7], 1002, "the status code 999"),
            ("close 5000", [0x88, 2, 0x13, 0x88], 1002, "the status code 5000"),
            ("close reason not UTF-8", [0x88, 4, 0x03, 0xE8, 0x6F, 0xFF], 1007,
             "invalid WebSocket data (a close frame (code 1000) whose reason is not UTF-8)"),
        ]
        for (name, bytes, code, expected) in cases {
            let server = try ScriptedWebSocketServer.startRaw(subprotocol: "v12.stomp") { message, reply in
                guard String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") else { return }
                reply(.bytes(.binary), "", Array("CONNECTED\nversion:1.2\n\n\0".utf8))
                reply(.raw, "", bytes)
            }
            defer { server.stop() }
            var options = server.options
            options.webSocket.maxMessageSize = 4096
            let box = EventBox()
            _ = try connect(options, box)
            let text = box.closed(10)??.description ?? "nil"
            XCTAssertTrue(text.contains(expected), "\(name): \(text)")
            XCTAssertFalse(text.contains("\n"), name)
            let close = server.waitForClose(5)
            XCTAssertEqual(close?.bytes, [UInt8(code >> 8), UInt8(code & 0xFF)], "\(name): our close carries \(code)")
        }
    }

    /// Each SEND is one message: text when the frame is UTF-8 with no NUL before its own (ASCII, or UTF-8 beyond
    /// ASCII at any position), binary otherwise (bytes that are not UTF-8, a NUL in the body).
    func testEachFrameGoesAsTextWhenItIsUTF8WithoutANULElseBinary() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v12.stomp") { message, reply in
            let text = String(decoding: message, as: UTF8.self)
            if text.hasPrefix("CONNECT") {
                reply(.text, "CONNECTED\nversion:1.2\n\n\0")
            } else if text.hasPrefix("SEND"), let r = text.range(of: "receipt:") {
                reply(.text, "RECEIPT\nreceipt-id:\(text[r.upperBound...].prefix { $0 != "\n" })\n\n\0")
            }
        }
        defer { server.stop() }
        let client = try connect(server.options, EventBox())
        var bodies: [([UInt8], WebSocketOpcode)] = [(Array("ascii only".utf8), .text), ([0xFF], .binary), ([0x61, 0x00, 0x62], .binary)]
        for at in 0..<20 {
            bodies.append((Array(repeating: 0x61, count: at) + Array("é".utf8), .text))
            bodies.append((Array(repeating: 0x61, count: at) + [0xC3], .binary))
        }
        for (body, _) in bodies { try client.send(destination: "/queue/x", body: body, receipt: true).wait() }
        let sends = server.received.filter { $0.text.hasPrefix("SEND") }
        XCTAssertEqual(sends.count, bodies.count)
        for (sent, (body, opcode)) in zip(sends, bodies) {
            XCTAssertEqual(sent.opcode, opcode, "\(body)")
        }
        client.close().whenComplete { _ in }
    }

    /// Frames arriving a byte at a time (every header and payload split over reads): a MESSAGE in three fragments
    /// (a 16-bit length field among them; each length in the fewest bytes, as RFC 6455 5.2 wants: 64-bit fields
    /// are in WebSocketFrameParserTests' large corpus, read byte by byte there) with a ping between them, then a
    /// RECEIPT, all read as sent.
    func testFramesSplitOverManyReadsAreReadAsSent() throws {
        let bodySize = 250
        let message = Array("MESSAGE\ndestination:/queue/x\nmessage-id:1\nsubscription:s\n\n".utf8) + Array(repeating: UInt8(ascii: "b"), count: bodySize) + [0]
        let last = message.count - 200
        XCTAssertLessThan(last, 126)
        var wire: [UInt8] = [0x01, 10] + message[..<10]                                          // text, not final, 7-bit length
        wire += [0x89, 4] + Array("ping".utf8)                                                   // a ping between fragments
        wire += [0x00, 126, 0, 190] + message[10..<200]                                           // 16-bit length field
        wire += [0x80, UInt8(last)] + message[200...]                                             // 7-bit length, final
        let frames = wire
        let server = try ScriptedWebSocketServer.startRaw(subprotocol: "v12.stomp") { m, reply in
            let text = String(decoding: m, as: UTF8.self)
            if text.hasPrefix("CONNECT") {
                reply(.rawByteByByte, "", [0x82, 24] + Array("CONNECTED\nversion:1.2\n\n\0".utf8))
            } else if text.hasPrefix("SUBSCRIBE") {
                reply(.rawByteByByte, "", frames)
            }
        }
        defer { server.stop() }
        let box = EventBox()
        let client = try connect(server.options, box)
        _ = try client.subscribe(destination: "/queue/x", id: "s").wait()
        let got = box.message(10)
        XCTAssertTrue(got?.body == Array(repeating: UInt8(ascii: "b"), count: bodySize), "body of \(got?.body.count ?? -1) bytes")
        XCTAssertEqual(got?.headers["message-id"], "1")
        XCTAssertTrue(server.received.contains { $0.opcode == .pong && $0.text == "ping" }, "\(server.received)")
        client.close().whenComplete { _ in }
    }

    /// A close from the server between the fragments of a message (a ping before it): the ping is answered, the
    /// close's code echoed, and the report names the code, the reason and the cut STOMP frame.
    func testACloseBetweenFragmentsIsEchoedAndReported() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v12.stomp") { message, reply in
            guard String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") else { return }
            reply(.text, "CONNECTED\nversion:1.2\n\n\0")
            reply(.fragment(.text, fin: false), "MESSAGE\ndestination:/queue/x\n")
            reply(.ping, "still there?")
            reply(.fragment(.continuation, fin: false), "message-id:1\n")
            reply(.close(1001), "going away now")
        }
        defer { server.stop() }
        let box = EventBox()
        _ = try connect(server.options, box)
        let text = box.closed(10)??.description ?? "nil"
        XCTAssertTrue(text.contains("code 1001 going away: 'going away now'") && text.contains("middle of a STOMP frame"), text)
        XCTAssertEqual(server.waitForClose(5)?.bytes, [0x03, 0xE9], "the server's code echoed")
        XCTAssertTrue(server.received.contains { $0.opcode == .pong && $0.text == "still there?" }, "\(server.received)")
    }

    /// RabbitMQ Web-STOMP's default (`web_stomp.ws_frame = text`) sends any body in a text message: bytes that are
    /// not UTF-8 are taken as they are, not refused.
    func testATextMessageThatIsNotUTF8IsTakenAsBytes() throws {
        let body: [UInt8] = [0xFF, 0xFE, 0x00, 0x80]
        let server = try ScriptedWebSocketServer.startRaw(subprotocol: "v12.stomp") { message, reply in
            let text = String(decoding: message, as: UTF8.self)
            if text.hasPrefix("CONNECT") {
                reply(.text, "", Array("CONNECTED\nversion:1.2\n\n\0".utf8))
            } else if text.hasPrefix("SUBSCRIBE") {
                reply(.text, "", Array("MESSAGE\ndestination:/queue/x\nmessage-id:1\nsubscription:s\ncontent-length:4\n\n".utf8) + body + [0])
            }
        }
        defer { server.stop() }
        let box = EventBox()
        let client = try connect(server.options, box)
        _ = try client.subscribe(destination: "/queue/x", id: "s").wait()
        XCTAssertEqual(box.message(5)?.body, body)
        client.close().whenComplete { _ in }
    }

    func testExtraHeadersAndOriginReachTheServerAndAreMaskedInTheTrace() throws {
        let server = try ScriptedWebSocketServer.start(subprotocol: "v12.stomp") { message, reply in
            if String(decoding: message, as: UTF8.self).hasPrefix("CONNECT") { reply(.text, "CONNECTED\nversion:1.2\n\n\0") }
        }
        defer { server.stop() }
        var options = server.options
        options.trace = true
        options.webSocket.headers = [WebSocketHeader(name: "Authorization", value: "Bearer top-secret")]
        options.webSocket.origin = "https://app.example"
        let box = EventBox()
        let client = try connect(options, box)
        XCTAssertEqual(server.requestHeaders?["Authorization"].first, "Bearer top-secret")
        XCTAssertEqual(server.requestHeaders?["Origin"].first, "https://app.example")
        let notes = box.all.compactMap { e -> String? in if case .transportTrace(_, let n, _) = e { return n } else { return nil } }
        XCTAssertTrue(notes.contains { $0.contains("Authorization: ****") }, "\(notes)")
        XCTAssertFalse(notes.contains { $0.contains("top-secret") })
        client.close().whenComplete { _ in }
    }

    // MARK: reconnect after the broker restarts

    /// Over ws:// to the killable RabbitMQ (its own Web-STOMP port, STOMPSH_TEST_KILLABLE_RABBITMQ_WS): killed and
    /// started again, the client reconnects over WebSocket and resubscribes.
    func testReconnectOverWebSocketAfterTheBrokerRestarts() throws {
        guard let url = TestEnv.value("STOMPSH_TEST_KILLABLE_RABBITMQ_WS"), let control = TestEnv.value("STOMPSH_TEST_KILLABLE_BROKERS") else {
            let why = "STOMPSH_TEST_KILLABLE_RABBITMQ_WS / STOMPSH_TEST_KILLABLE_BROKERS not set"
            if TestEnv.value("STOMPSH_REQUIRE_KILLABLE") == "1" { XCTFail(why) }
            throw XCTSkip(why)
        }
        let killable = KillableBroker(broker: TestBroker(name: "RabbitMQ Web-STOMP (killable)", url: try StompURL(parsing: url), kind: .rabbitMQ),
                                      control: control, service: "rabbitmq")
        var options = killable.broker.options
        options.reconnect = ReconnectPolicy(maxAttempts: 400, initialDelay: .milliseconds(100), maxDelay: .milliseconds(500))
        let box = EventBox()
        let client = try connect(options, box)
        let queue = "/queue/" + uniqueName("ws-restart")
        _ = try client.subscribe(destination: queue, id: "after", receipt: true).wait()
        try killable.kill()
        XCTAssertNotNil(box.wait(10) { if case .connectionLost = $0 { return true }; return false })
        try killable.start()
        guard case .reconnected(_, let resubscribed, _)? = box.wait(90, { if case .reconnected = $0 { return true }; return false }) else {
            return XCTFail("no reconnect: \(box.all.suffix(3))")
        }
        XCTAssertEqual(resubscribed.map(\.id), ["after"])
        XCTAssertTrue(client.url.webSocket)
        try client.send(destination: queue, body: "after the restart", receipt: true).wait()
        XCTAssertEqual(box.message(10, subscription: "after")?.bodyString, "after the restart")
        try client.disconnect().wait()
    }
}

// MARK: - test servers

/// A TCP server that answers every connection with fixed bytes, then closes.
final class RawServer: @unchecked Sendable {
    let channel: Channel
    var port: Int { channel.localAddress!.port! }

    private init(channel: Channel) { self.channel = channel }

    static func start(reply: String) throws -> RawServer {
        let channel = try ServerBootstrap(group: testGroup)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyOnce(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        return RawServer(channel: channel)
    }

    func stop() { try? channel.close().wait() }

    final class ReplyOnce: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: String
        var replied = false
        init(reply: String) { self.reply = reply }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !replied else { return }
            replied = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply))).whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// A WebSocket server (NIOWebSocket's upgrader) choosing `subprotocol`, handing each complete client message to
/// `script`, which replies with frames of its choosing. Records the client's frames and handshake headers.
final class ScriptedWebSocketServer: @unchecked Sendable {
    enum Reply {
        case text, ping, bytes(WebSocketOpcode), close(UInt16)
        case fragment(WebSocketOpcode, fin: Bool)
        /// The payload as it is, straight to the socket: frames built by hand, bad ones too.
        case raw
        /// The same, a byte at a time, each written and flushed on its own a millisecond apart (many reads).
        case rawByteByByte
        /// Nothing written; the server stops reading from the socket for good (a stuck broker).
        case stopReading
    }
    typealias Script = @Sendable (_ message: [UInt8], _ reply: (Reply, String, [UInt8]) -> Void) -> Void

    struct Received: CustomStringConvertible {
        var opcode: WebSocketOpcode
        var bytes: [UInt8]
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var description: String { "\(opcode) \(bytes.count)" }
    }

    let channel: Channel
    private let state = NIOLockedValueBox<(received: [Received], headers: HTTPHeaders?)>(([], nil))
    var received: [Received] { state.withLockedValue { $0.received } }
    var requestHeaders: HTTPHeaders? { state.withLockedValue { $0.headers } }
    var port: Int { channel.localAddress!.port! }

    var options: ConnectionOptions {
        var o = ConnectionOptions(urls: [StompURL(host: "127.0.0.1", port: port, webSocket: true, path: "/ws")])
        o.heartBeat = .none
        o.reconnect = .none
        o.connectTimeout = .seconds(5)
        o.receiptTimeout = .seconds(5)
        return o
    }

    private init(channel: Channel) { self.channel = channel }

    static func start(subprotocol: String?, script: @escaping @Sendable (_ message: [UInt8], _ reply: (Reply, String) -> Void) -> Void) throws -> ScriptedWebSocketServer {
        try start(subprotocol: subprotocol, fullScript: { message, reply in
            script(message) { kind, text in reply(kind, text, Array(text.utf8)) }
        })
    }

    static func startRaw(subprotocol: String?, script: @escaping @Sendable (_ message: [UInt8], _ reply: (Reply, String, [UInt8]) -> Void) -> Void) throws -> ScriptedWebSocketServer {
        try start(subprotocol: subprotocol, fullScript: script)
    }

    private static func start(subprotocol: String?, fullScript: @escaping Script) throws -> ScriptedWebSocketServer {
        let box = NIOLockedValueBox<ScriptedWebSocketServer?>(nil)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                box.withLockedValue { $0?.state.withLockedValue { $0.headers = head.headers } }
                var h = HTTPHeaders()
                if let subprotocol { h.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                return channel.eventLoop.makeSucceededFuture(h)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(script: fullScript) { r in
                        box.withLockedValue { $0?.state.withLockedValue { $0.received.append(r) } }
                    })
                }
            })
        let channel = try ServerBootstrap(group: testGroup)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        let server = ScriptedWebSocketServer(channel: channel)
        box.withLockedValue { $0 = server }
        return server
    }

    func stop() { try? channel.close().wait() }

    /// The client's close frame, once it arrived (waiting at most `seconds`).
    func waitForClose(_ seconds: Double) -> Received? {
        let end = Date().addingTimeInterval(seconds)
        repeat {
            if let close = received.first(where: { $0.opcode == .connectionClose }) { return close }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < end
        return nil
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let script: Script
        let record: (Received) -> Void
        var message: [UInt8] = []
        init(script: @escaping Script, record: @escaping (Received) -> Void) {
            self.script = script
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            let bytes = Array(frame.unmaskedData.readableBytesView)
            record(Received(opcode: frame.opcode, bytes: bytes))
            switch frame.opcode {
            case .text, .binary, .continuation:
                message += bytes
                guard frame.fin else { return }
                let m = message
                message = []
                script(m) { kind, _, payload in
                    let buffer = ByteBuffer(bytes: payload)
                    switch kind {
                    case .raw:
                        // Written from the frame encoder's context: past it, to the socket.
                        let wire = try! context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
                        wire.writeAndFlush(NIOAny(buffer), promise: nil)
                        return
                    case .stopReading:
                        _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
                        return
                    case .rawByteByByte:
                        let wire = try! context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
                        for (i, byte) in payload.enumerated() {
                            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(i))) {
                                wire.writeAndFlush(NIOAny(ByteBuffer(bytes: [byte])), promise: nil)
                            }
                        }
                        return
                    default:
                        break
                    }
                    let out: WebSocketFrame
                    switch kind {
                    case .text: out = WebSocketFrame(fin: true, opcode: .text, data: buffer)
                    case .ping: out = WebSocketFrame(fin: true, opcode: .ping, data: buffer)
                    case .bytes(let op): out = WebSocketFrame(fin: true, opcode: op, data: buffer)
                    case .fragment(let op, let fin): out = WebSocketFrame(fin: fin, opcode: op, data: buffer)
                    case .raw, .rawByteByByte, .stopReading:
                        return
                    case .close(let code):
                        var b = ByteBuffer()
                        b.writeInteger(code)
                        b.writeBytes(payload)
                        out = WebSocketFrame(fin: true, opcode: .connectionClose, data: b)
                    }
                    context.writeAndFlush(wrapOutboundOut(out), promise: nil)
                }
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }
    }
}
