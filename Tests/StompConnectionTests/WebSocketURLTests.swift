import StompConnection
import StompProto
import XCTest

/// `ws://` and `wss://` URLs, and the URL errors found beside them.
final class WebSocketURLTests: XCTestCase {
    func testWebSocketURLsKeepTheirPathAndQueryAndUseHTTPPorts() throws {
        let u = try StompURL(parsing: "ws://127.0.0.1:15674/ws")
        XCTAssertTrue(u.webSocket)
        XCTAssertFalse(u.tls)
        XCTAssertEqual(u.path, "/ws")
        XCTAssertEqual(u.port, 15674)
        XCTAssertNil(u.vhost, "a WebSocket path is not a vhost")
        XCTAssertEqual(u.transport, .webSocket)
        XCTAssertEqual(u.description, "ws://127.0.0.1:15674/ws")

        let s = try StompURL(parsing: "wss://app.example/stomp/endpoint?access_token=abc#frag")
        XCTAssertTrue(s.webSocket && s.tls)
        XCTAssertEqual(s.port, 443)
        XCTAssertEqual(s.path, "/stomp/endpoint?access_token=abc")
        XCTAssertEqual(s.transport, .secureWebSocket)
        XCTAssertEqual(try StompURL(parsing: "ws://h").port, 80)
        XCTAssertEqual(try StompURL(parsing: "ws://h").path, "/")
        XCTAssertEqual(try StompURL(parsing: "ws://h:1?x=1").path, "/?x=1")
        XCTAssertEqual(try StompURL(parsing: "WS://[::1]:9/ws").host, "::1")
    }

    func testWebSocketUserinfoIsCredentialsAndThePasscodeNeverShows() throws {
        let u = try StompURL(parsing: "ws://guest:s3cret@localhost:15674/ws")
        XCTAssertEqual(u.login, "guest")
        XCTAssertEqual(u.passcode, "s3cret")
        XCTAssertEqual(u.description, "ws://guest:****@localhost:15674/ws")
        do {
            _ = try StompURL.parseList("ws://guest:s3cret@localhost:99999/ws")
            XCTFail("accepted a bad port")
        } catch let e as StompURLError {
            XCTAssertFalse(e.description.contains("s3cret"), e.description)
        }
    }

    func testFailoverListsMayMixTransports() throws {
        let urls = try StompURL.parseList("failover:(ws://a:1/ws,stomp://b:2,wss://c/stomp,stomp+ssl://d)")
        XCTAssertEqual(urls.map(\.transport), [.webSocket, .tcp, .secureWebSocket, .tls])
        XCTAssertEqual(urls[2].path, "/stomp")
    }

    func testUnknownSchemeNamesTheWebSocketOnes() {
        XCTAssertThrowsError(try StompURL(parsing: "http://h/ws")) { e in
            XCTAssertTrue("\(e)".contains("ws://"), "\(e)")
        }
        XCTAssertThrowsError(try StompURL(parsing: "ws://h/a b")) { e in
            XCTAssertTrue("\(e)".contains("space"), "\(e)")
        }
    }

    /// Issue 14 item 17: `stomp://h:1:2` was taken as host "h:1", port 2 and reported as "cannot resolve host
    /// name"; it is a malformed URL.
    func testTwoColonsWithoutBracketsIsAURLError() {
        for bad in ["stomp://h:1:2", "ws://h:1:2/ws", "h:1:2"] {
            XCTAssertThrowsError(try StompURL.parseList(bad), bad) { e in
                XCTAssertTrue(e is StompURLError, "\(bad): \(e)")
                XCTAssertTrue("\(e)".contains("more than one ':'"), "\(e)")
            }
        }
        XCTAssertEqual(try StompURL(parsing: "stomp://[::1]:2").port, 2)
    }

    func testSubprotocolsFollowTheOfferedVersions() {
        XCTAssertEqual(WebSocketOptions.subprotocols(for: [.v1_0, .v1_1, .v1_2]), ["v12.stomp", "v11.stomp", "v10.stomp"])
        XCTAssertEqual(WebSocketOptions.subprotocols(for: [.v1_1]), ["v11.stomp"])
        XCTAssertEqual(WebSocketOptions.version(ofSubprotocol: "V12.stomp"), .v1_2)
        XCTAssertNil(WebSocketOptions.version(ofSubprotocol: "stomp"))
    }

    func testWebSocketHeaderParsing() throws {
        let h = try WebSocketHeader(parsing: "Authorization: Bearer abc.def")
        XCTAssertEqual(h.name, "Authorization")
        XCTAssertEqual(h.value, "Bearer abc.def")
        XCTAssertEqual(try WebSocketHeader(parsing: "Cookie:a=b").value, "a=b")
        for bad in ["no colon", ": empty name", "Bad Name: x", "Upgrade: h2c", "Sec-WebSocket-Protocol: x", "X: a\u{1}b"] {
            XCTAssertThrowsError(try WebSocketHeader(parsing: bad), bad) { e in
                XCTAssertFalse("\(e)".contains("\u{1}"), "\(e)")
            }
        }
        // The value is never echoed in an error.
        XCTAssertThrowsError(try WebSocketHeader(parsing: "X-Token: sec\u{7F}ret")) { e in
            XCTAssertFalse("\(e)".contains("sec"), "\(e)")
        }
    }

    func testTextOrBinary() {
        func text(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { StompText.isTextFrame($0) } }
        XCTAssertTrue(text(Array("SEND\ndestination:/q\n\nhé\0".utf8)))
        XCTAssertTrue(text([0x0A]), "a heart-beat is text")
        XCTAssertTrue(text(Array("SEND\n\n\0\n".utf8)), "EOLs after the NUL")
        XCTAssertFalse(text(Array("SEND\ncontent-length:3\n\na\0b\0".utf8)), "NUL in the body")
        XCTAssertFalse(text(Array("SEND\n\n".utf8) + [0xFF, 0]), "not UTF-8")
    }
}
