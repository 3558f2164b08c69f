import NIOCore
import StompConnection
import StompProto
import XCTest

final class StompURLTests: XCTestCase {
    func testDefaults() throws {
        XCTAssertEqual(try StompURL.parseList(""), [StompURL(tls: false, host: "localhost", port: 61613)])
        let u = try StompURL(parsing: "stomp://broker")
        XCTAssertEqual(u.port, 61613)
        XCTAssertFalse(u.tls)
        let s = try StompURL(parsing: "stomp+ssl://broker")
        XCTAssertEqual(s.port, 61614)
        XCTAssertTrue(s.tls)
        XCTAssertEqual(try StompURL(parsing: "broker:1234"), StompURL(host: "broker", port: 1234))
        XCTAssertNil(u.vhost)
        XCTAssertNil(u.login)
    }

    func testUserinfoVhostAndPercentDecoding() throws {
        let u = try StompURL(parsing: "stomp://al%40ice:p%3Ass%2Fw@mq.example:7000/my%2Fvhost")
        XCTAssertEqual(u.login, "al@ice")
        XCTAssertEqual(u.passcode, "p:ss/w")
        XCTAssertEqual(u.host, "mq.example")
        XCTAssertEqual(u.port, 7000)
        XCTAssertEqual(u.vhost, "my/vhost")
        // The passcode never shows.
        XCTAssertEqual(u.description, "stomp://al%40ice:****@mq.example:7000/my%2Fvhost")
        XCTAssertFalse(u.description.contains("p:ss"))
        XCTAssertEqual(try StompURL(parsing: "stomp://h/%2F").vhost, "/")
        XCTAssertNil(try StompURL(parsing: "stomp://h/").vhost)
        XCTAssertEqual(try StompURL(parsing: "stomp://bob@h").login, "bob")
        XCTAssertNil(try StompURL(parsing: "stomp://bob@h").passcode)
    }

    func testIPv6() throws {
        let u = try StompURL(parsing: "stomp://[::1]:61620")
        XCTAssertEqual(u.host, "::1")
        XCTAssertEqual(u.port, 61620)
        XCTAssertEqual(u.description, "stomp://[::1]:61620")
    }

    func testFailover() throws {
        let urls = try StompURL.parseList("failover:(stomp://a:1,stomp+ssl://b,stomp://u:p@c/v)?randomize=false")
        XCTAssertEqual(urls.count, 3)
        XCTAssertEqual(urls[0], StompURL(host: "a", port: 1))
        XCTAssertEqual(urls[1], StompURL(tls: true, host: "b", port: 61614))
        XCTAssertEqual(urls[2].login, "u")
        XCTAssertEqual(urls[2].vhost, "v")
        XCTAssertEqual(try StompURL.parseList("stomp://a, stomp://b").count, 2)
    }

    func testErrorsAreOneLineAndHideThePasscode() {
        for bad in ["http://x", "stomp://h:99999", "stomp://h:abc", "failover:(stomp://a,)", "stomp://h/%zz",
                    "failover:(stomp://a", "stomp://u:secret@h:0", "stomp://u:se/cret@h:0",
                    "failover:(stomp://u:secret@h:0,stomp://v:secret@h:1)"] {
            do {
                _ = try StompURL.parseList(bad)
                XCTFail("accepted \(bad)")
            } catch let e as StompURLError {
                XCTAssertFalse(e.description.contains("\n"))
                XCTAssertFalse(e.description.contains("secret"), e.description)
                XCTAssertFalse(e.description.contains("cret"), e.description)
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testPasscodeMaskIsFourStars() throws {
        XCTAssertEqual(try StompURL(parsing: "stomp://bob:pw@h:1").description, "stomp://bob:****@h:1")
        XCTAssertThrowsError(try StompURL.parseList("stomp://bob:p@ss@h:99999")) { e in
            XCTAssertTrue("\(e)".hasPrefix("invalid broker URL 'stomp://bob:****@h:99999': "), "\(e)")
        }
    }

    func testCredentialsAndHostHeader() throws {
        var o = try ConnectionOptions(url: "stomp://u:p@h/vh")
        o.useEnvironmentCredentials = false
        XCTAssertEqual(o.credentials(for: o.urls[0]).login, "u")
        XCTAssertEqual(o.credentials(for: o.urls[0]).passcode, "p")
        XCTAssertEqual(o.hostHeader(for: o.urls[0]), "vh")
        o.login = "x"
        o.passcode = "y"
        XCTAssertEqual(o.credentials(for: o.urls[0]).login, "x")
        o.vhost = "other"
        XCTAssertEqual(o.hostHeader(for: o.urls[0]), "other")
        // No vhost: "/" (RabbitMQ's default vhost; ActiveMQ ignores it).
        let plain = try ConnectionOptions(url: "stomp://h")
        XCTAssertEqual(plain.hostHeader(for: plain.urls[0]), "/")
    }

    func testCredentialsFromEnvironment() throws {
        setenv("STOMP_LOGIN", "envuser", 1)
        setenv("STOMP_PASSCODE", "envpass", 1)
        defer { unsetenv("STOMP_LOGIN"); unsetenv("STOMP_PASSCODE") }
        let o = try ConnectionOptions(url: "stomp://h")
        XCTAssertEqual(o.credentials(for: o.urls[0]).login, "envuser")
        XCTAssertEqual(o.credentials(for: o.urls[0]).passcode, "envpass")
        let withURL = try ConnectionOptions(url: "stomp://u:p@h")
        XCTAssertEqual(withURL.credentials(for: withURL.urls[0]).login, "u")
        // A login given as an option still takes the passcode from the environment.
        var loginOnly = try ConnectionOptions(url: "stomp://h")
        loginOnly.login = "admin"
        XCTAssertEqual(loginOnly.credentials(for: loginOnly.urls[0]).login, "admin")
        XCTAssertEqual(loginOnly.credentials(for: loginOnly.urls[0]).passcode, "envpass")
    }

    func testReconnectBackoff() {
        let p = ReconnectPolicy(maxAttempts: 5, initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2)
        XCTAssertEqual(p.delay(forAttempt: 1), .milliseconds(100))
        XCTAssertEqual(p.delay(forAttempt: 2), .milliseconds(200))
        XCTAssertEqual(p.delay(forAttempt: 4), .milliseconds(800))
        XCTAssertEqual(p.delay(forAttempt: 9), .seconds(1))
        XCTAssertFalse(ReconnectPolicy.none.enabled)
    }

    func testTLSConfigurationErrors() {
        XCTAssertThrowsError(try TLSOptions(caFile: "/nonexistent/ca.pem").makeTLSConfiguration()) { e in
            XCTAssertTrue("\(e)".contains("cannot read CA file '/nonexistent/ca.pem'"), "\(e)")
        }
        XCTAssertThrowsError(try TLSOptions(certificateFile: "/etc/hostname").makeTLSConfiguration()) { e in
            XCTAssertTrue("\(e)".contains("needs its key"), "\(e)")
        }
        XCTAssertNil(TLSOptions().sniName(for: "127.0.0.1"))
        XCTAssertEqual(TLSOptions().sniName(for: "localhost"), "localhost")
        XCTAssertEqual(TLSOptions(serverName: "x").sniName(for: "localhost"), "x")
    }
}
