import Foundation
import NIOCore
import StompConnection
import StompProto
import XCTest

/// Against RabbitMQ's TLS listener (STOMPSH_TEST_RABBITMQ_TLS, certificates in STOMPSH_TEST_TLS_DIR).
final class TLSTests: XCTestCase {
    private func setup() throws -> (broker: TestBroker, dir: String) {
        let broker = try TestEnv.broker("STOMPSH_TEST_RABBITMQ_TLS", name: "RabbitMQ TLS", kind: .rabbitMQ)
        guard let dir = TestEnv.value("STOMPSH_TEST_TLS_DIR") else {
            if TestEnv.requireBrokers { XCTFail("STOMPSH_TEST_TLS_DIR is not set") }
            throw XCTSkip("STOMPSH_TEST_TLS_DIR not set")
        }
        XCTAssertTrue(broker.url.tls)
        return (broker, dir)
    }

    func testVerifiedConnection() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.tls = TLSOptions(caFile: "\(dir)/ca.pem")
        let box = EventBox()
        let client = try connect(o, box)
        let q = "/queue/" + uniqueName("tls")
        _ = try client.subscribe(destination: q, receipt: true).wait()
        try client.send(destination: q, body: [0, 1, 2, 0], receipt: true).wait()
        XCTAssertEqual(box.message()?.body, [0, 1, 2, 0])
        try client.disconnect().wait()
        XCTAssertFalse(try client.snapshot().wait().disconnectTimedOut)
    }

    func testClientCertificate() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.tls = TLSOptions(caFile: "\(dir)/ca.pem", certificateFile: "\(dir)/client.pem", keyFile: "\(dir)/client.key")
        let client = try connect(o, EventBox())
        try client.send(destination: "/queue/" + uniqueName("tls"), body: "x", receipt: true).wait()
        try client.disconnect().wait()
    }

    func testIPAddressIsVerifiedAgainstTheCertificate() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.urls = [StompURL(tls: true, host: "127.0.0.1", port: broker.url.port)]   // the test cert has IP SAN 127.0.0.1
        o.tls = TLSOptions(caFile: "\(dir)/ca.pem")
        let client = try connect(o, EventBox())
        try client.disconnect().wait()
    }

    func testUntrustedCertificateFails() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.tls = TLSOptions(caFile: "\(dir)/other-ca.pem")
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        guard case .tlsFailure? = e else { return XCTFail("got \(String(describing: e))") }
        let text = e!.description
        XCTAssertFalse(text.contains("\n"))
        XCTAssertTrue(text.contains("certificate verification failed"), text)
        print("untrusted: \(text)")
    }

    func testSystemTrustStoreRejectsTestCA() throws {
        let (broker, _) = try setup()
        var o = broker.options
        o.tls = TLSOptions()
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        guard case .tlsFailure? = e else { return XCTFail("got \(String(describing: e))") }
    }

    func testNameMismatchFails() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.tls = TLSOptions(caFile: "\(dir)/ca.pem", serverName: "not-the-broker.example")
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        guard case .tlsFailure? = e else { return XCTFail("got \(String(describing: e))") }
        let text = e!.description
        XCTAssertFalse(text.contains("\n"))
        XCTAssertTrue(text.contains("does not match"), text)
        print("name mismatch: \(text)")
    }

    func testInsecureSkipsVerification() throws {
        let (broker, dir) = try setup()
        var o = broker.options
        o.tls = TLSOptions(caFile: "\(dir)/other-ca.pem", insecure: true, serverName: "not-the-broker.example")
        let client = try connect(o, EventBox())
        try client.disconnect().wait()
        XCTAssertTrue(TLSOptions.insecureWarning.contains("NOT verified"))
    }

    func testPlainPortWithTLSFailsClearly() throws {
        let broker = try TestEnv.rabbitMQ()
        var o = broker.options
        o.urls = [StompURL(tls: true, host: broker.url.host, port: broker.url.port)]
        o.tls = TLSOptions(insecure: true)
        o.connectTimeout = .seconds(3)
        let e = expectConnectionError { _ = try connect(o, EventBox()) }
        XCTAssertNotNil(e)
        XCTAssertFalse(e!.description.contains("\n"), e!.description)
        print("TLS to a plain port: \(e!)")
    }
}
