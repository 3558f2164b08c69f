import Foundation
import NIOSSL
import StompTestSupport
import XCTest

/// Certificate verification is on by default: the stompsh binary refuses RabbitMQ's TLS listener, whose
/// certificate is signed by a test CA the system does not trust, with a clear message, and accepts it
/// with `--cafile` naming that CA.
final class TLSVerificationTests: XCTestCase {
    private func setup() throws -> (url: String, hostPort: String, dir: String) {
        let url = try Brokers.url("STOMPSH_TEST_RABBITMQ_TLS")
        let dir = try Brokers.url("STOMPSH_TEST_TLS_DIR")
        let hostPort = String(url.drop(while: { $0 != "/" }).dropFirst(2).prefix(while: { $0 != "/" }))
        return (url, hostPort, dir)
    }

    private let credentials = ["STOMP_LOGIN": "guest", "STOMP_PASSCODE": "guest"]

    func testUntrustedCertificateIsRefusedByDefault() throws {
        let (url, hostPort, dir) = try setup()
        let refusal = "stompsh: TLS with \(hostPort) failed: certificate verification failed: the broker's certificate "
            + "is not signed by a trusted CA (use --cafile, or --insecure to skip verification)\n"
        let byDefault = try Stompsh.run([url, "-c", "status"], env: credentials)
        XCTAssertEqual(byDefault.status, 3)
        XCTAssertEqual(byDefault.stdout, "")
        XCTAssertEqual(byDefault.stderr, refusal)
        // Another CA does not help either.
        let otherCA = try Stompsh.run(["--cafile", "\(dir)/other-ca.pem", url, "-c", "status"], env: credentials)
        XCTAssertEqual(otherCA.status, 3)
        XCTAssertEqual(otherCA.stderr, refusal)
    }

    func testTrustedWithCafile() throws {
        let (url, _, dir) = try setup()
        let r = try Stompsh.run(["--cafile", "\(dir)/ca.pem", url, "-c", "status"], env: credentials)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.contains("connected to \(url)"), r.stdout)
    }

    /// A broker with a self-signed certificate (made here with openssl): refused by default, with the same
    /// clear message; trusted when `--cafile` names that certificate itself.
    func testSelfSignedBrokerIsRefusedThenTrustedWithCafile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stompsh-selfsigned-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                          "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem", "-subj", "/CN=localhost",
                          "-addext", "subjectAltName=DNS:localhost"]
        made.standardOutput = FileHandle.nullDevice
        made.standardError = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        XCTAssertEqual(made.terminationStatus, 0, "openssl could not make a self-signed certificate")
        let config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile("\(dir)/cert.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: "\(dir)/key.pem", format: .pem)))
        let peer = try FaultyPeer(.none, group: FaultyPeerBinaryTests.group, tls: try NIOSSLContext(configuration: config))
        let url = "stomp+ssl://localhost:\(peer.port)"

        let refused = try Stompsh.run([url, "-c", "status"], env: credentials)
        XCTAssertEqual(refused.status, 3)
        XCTAssertEqual(refused.stderr, "stompsh: TLS with localhost:\(peer.port) failed: certificate verification failed: "
            + "the broker's certificate is not signed by a trusted CA (use --cafile, or --insecure to skip verification)\n")

        let trusted = try Stompsh.run(["--cafile", "\(dir)/cert.pem", url, "-c", "status"], env: credentials)
        XCTAssertEqual(trusted.status, 0, trusted.stderr)
        XCTAssertTrue(trusted.stdout.contains("connected to \(url)"), trusted.stdout)
    }
}
