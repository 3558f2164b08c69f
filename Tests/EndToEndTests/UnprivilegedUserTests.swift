import Foundation
import XCTest

/// stompsh run by an ordinary user: nothing it does to a socket may need privileges. (A socket option set at the
/// wrong level, SOL_SOCKET instead of IPPROTO_TCP, turned TCP_NODELAY into SO_DEBUG, which only root may set:
/// every connection failed with "permission denied" for everyone else, and CI, running as root, never saw it.)
final class UnprivilegedUserTests: XCTestCase {
    /// Runs the built stompsh as `nobody` (setpriv drops root's user, group and supplementary groups), through
    /// the suite's one way of running it (`Stompsh.run`: its environment, timeout and output); HOME is /tmp, which
    /// `nobody` may write (the suite's HOME belongs to root).
    private func runAsNobody(_ args: [String], timeout: Double = 60) throws -> (status: Int32, output: String) {
        guard geteuid() == 0 else { throw XCTSkip("needs root to become another user") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("no setpriv") }
        let r = try Stompsh.run(args, env: ["HOME": "/tmp"], timeout: timeout,
                                launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        return (r.status, r.stdout + r.stderr)
    }

    /// Client and sandbox broker in one process, both sides of the socket opened without privileges.
    func testSandboxSessionAsAnOrdinaryUser() throws {
        let r = try runAsNobody(["--sandbox", "-c", "subscribe /queue/unprivileged", "-c", "send /queue/unprivileged hi",
                                 "-c", "expect --body hi"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(r.output.contains("permission denied"), r.output)
    }

    /// The shell and the probe against a real broker (and the sandbox) as an ordinary user.
    func testBrokersAndProbeAsAnOrdinaryUser() throws {
        for (name, url) in [("activemq", try Brokers.activemq()), ("rabbitmq", try Brokers.rabbitmq()), ("sandbox", Brokers.sandbox)] {
            let r = try runAsNobody([url, "-c", "send \(Brokers.unique("unprivileged")) --receipt hi"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.output)")
            let probe = try runAsNobody(["probe", url, "--only", "connect"])
            XCTAssertEqual(probe.status, 0, "\(name) probe: \(probe.output)")
        }
    }
}
