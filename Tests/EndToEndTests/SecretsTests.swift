import Foundation
import NIOPosix
import StompTestSupport
import XCTest

/// A passcode is never printed (trace, status, JSON, errors), and ~/.stompshrc holding one must be private.
final class SecretsTests: XCTestCase {
    static let secret = "S3cret-Pass"

    /// Every stream of a run, for "the secret appears nowhere".
    private func assertNoSecret(_ r: Stompsh.Result, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.stdout.contains(Self.secret), "stdout shows the passcode:\n\(r.stdout)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains(Self.secret), "stderr shows the passcode:\n\(r.stderr)", file: file, line: line)
    }

    func testTraceAndStatusMaskThePasscode() throws {
        let peer = try FaultyPeer(.none, group: FaultyPeerBinaryTests.group)
        let url = "stomp://bob:\(Self.secret)@127.0.0.1:\(peer.port)"
        let r = try Stompsh.run(["--trace", url, "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        assertNoSecret(r)
        let all = r.stdout + r.stderr
        XCTAssertTrue(all.contains(">>> passcode:****\n"), all)
        XCTAssertTrue(all.contains(">>> login:bob\n"), all)
        XCTAssertTrue(r.stdout.contains("connected to stomp://bob:****@127.0.0.1:\(peer.port)\n"), r.stdout)
        // The broker did get the real one.
        XCTAssertEqual(peer.receivedFrames.first?.headers["passcode"], Self.secret)
    }

    func testJSONTraceAndStatusMaskThePasscode() throws {
        let peer = try FaultyPeer(.none, group: FaultyPeerBinaryTests.group)
        let r = try Stompsh.run(["--json", "--trace", "stomp://127.0.0.1:\(peer.port)",
                                 "-c", "connect --login bob --passcode \(Self.secret)", "-c", "status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        assertNoSecret(r)
        XCTAssertTrue(r.stderr.contains(#"passcode:****\n"#), r.stderr)
    }

    func testConnectionErrorsDoNotShowThePasscode() throws {
        // Refused port, refused login, bad URL: each error names the cause, never the passcode.
        let refusing = try FaultyPeer(.refuseLogin, group: FaultyPeerBinaryTests.group)
        let runs = [
            try Stompsh.run(["stomp://bob:\(Self.secret)@127.0.0.1:1", "-c", "status"]),
            try Stompsh.run(["stomp://bob:\(Self.secret)@127.0.0.1:\(refusing.port)", "-c", "status"]),
            try Stompsh.run(["-c", "connect stomp://bob:\(Self.secret)@127.0.0.1:99999"]),
            try Stompsh.run(["stomp://bob:\(Self.secret)@127.0.0.1:99999", "-c", "status"]),
        ]
        for r in runs {
            XCTAssertNotEqual(r.status, 0)
            XCTAssertFalse(r.stderr.isEmpty)
            assertNoSecret(r)
        }
        XCTAssertTrue(runs[1].stderr.contains("broker refused the connection as 'bob': Access refused for user 'guest'"),
                      runs[1].stderr)
        XCTAssertTrue(runs[2].stderr.contains("'stomp://bob:****@127.0.0.1:99999'"), runs[2].stderr)
    }

    // MARK: ~/.stompshrc

    private func home(rc text: String, mode: Int) -> String {
        let dir = NSTemporaryDirectory() + "stompsh-rc-home-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/.stompshrc"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, mode_t(mode))
        return dir
    }

    func testRcFileWithAPasscodeReadableByOthersIsRefused() throws {
        let peer = try FaultyPeer(.none, group: FaultyPeerBinaryTests.group)
        for rc in ["set broker stomp://bob:\(Self.secret)@127.0.0.1:1\nset rcvar ran\n",
                   "set rcvar ran\nconnect --login bob --passcode \(Self.secret) stomp://127.0.0.1:\(peer.port)\n"] {
            let home = home(rc: rc, mode: 0o644)
            defer { try? FileManager.default.removeItem(atPath: home) }
            let path = home + "/.stompshrc"
            let r = try Stompsh.run(["--rc", "-c", "echo ${rcvar}"], env: ["HOME": home])
            XCTAssertEqual(r.status, 2)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(r.stderr, "stompsh: \(path) holds a passcode and is readable by others (mode 644): "
                           + "not run; make it private with: chmod 600 \(path)\n")
            assertNoSecret(r)
            // Made private, it runs.
            chmod(path, 0o600)
            let ok = try Stompsh.run(["--rc", "-c", "echo ${rcvar}"], env: ["HOME": home])
            XCTAssertTrue(ok.stdout.hasSuffix("ran\n"), ok.stdout + ok.stderr)
            XCTAssertEqual(ok.status, 0, ok.stderr)
            assertNoSecret(ok)
        }
    }

    func testRcFileWithoutPasscodeMayBeReadable() throws {
        let home = home(rc: "set rcvar ran\nset broker stomp://bob@127.0.0.1:1\n", mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let r = try Stompsh.run(["--rc", "-c", "echo ${rcvar}"], env: ["HOME": home])
        XCTAssertEqual(r.stdout, "ran\n", r.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
