import Foundation
import XCTest

/// stompsh reading commands from a pipe while its broker is killed (SIGKILL) and started again: the shell
/// reconnects through its failover URL, resubscribes, gets the unacknowledged message again, and runs every
/// line typed during the outage once the broker is back. Uses the persistent pair of
/// `scripts/brokers env --killable`; skipped without it unless STOMPSH_REQUIRE_KILLABLE=1.
final class BrokerKillScriptTests: XCTestCase {
    func testShellRunsLinesTypedWhileActiveMQIsDown() throws {
        try shellAcrossCrash(variable: "STOMPSH_TEST_KILLABLE_ACTIVEMQ", service: "activemq")
    }

    /// RabbitMQ takes 5-25 s to start: only with STOMPSH_TEST_SLOW=1.
    func testShellRunsLinesTypedWhileRabbitMQIsDown() throws {
        guard ProcessInfo.processInfo.environment["STOMPSH_TEST_SLOW"] == "1" else {
            throw XCTSkip("slow: set STOMPSH_TEST_SLOW=1")
        }
        try shellAcrossCrash(variable: "STOMPSH_TEST_KILLABLE_RABBITMQ", service: "rabbitmq")
    }

    private func shellAcrossCrash(variable: String, service: String) throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env[variable], !url.isEmpty, let control = env["STOMPSH_TEST_KILLABLE_BROKERS"], !control.isEmpty else {
            let why = "\(variable) / STOMPSH_TEST_KILLABLE_BROKERS not set (eval \"$(scripts/brokers env --killable)\")"
            if env["STOMPSH_REQUIRE_KILLABLE"] == "1" { XCTFail(why) }
            throw XCTSkip(why)
        }
        let q = Brokers.unique("kill")
        let sh = try LiveStompsh(["failover:(\(url),\(url))", "--heart-beat", "0,0"])
        func send(_ seq: Int) { sh.type("send \(q) --receipt -H persistent:true -H seq:\(seq) message-\(seq)") }

        sh.type("subscribe \(q) --id s1 --ack client-individual")
        send(1)
        send(2)
        sh.type("expect -H seq:1")
        sh.type("ack ${last.header.message-id}")
        sh.type("expect -H seq:2")
        sh.type("echo before-crash")
        XCTAssertTrue(sh.waitFor(timeout: 20) { out, _ in out.contains("before-crash") },
                      "\(service): \(sh.stdout)\n\(sh.stderr)")

        try brokers(control, "kill-\(service)")
        XCTAssertTrue(sh.waitFor(timeout: 10) { _, err in err.contains("connection lost") }, "\(service): \(sh.stderr)")
        // Typed while the broker is down.
        send(3)
        sh.type("echo typed-while-down")
        send(4)
        try brokers(control, "start-\(service)")

        // After the reconnect: the unacknowledged message 2 again, then 3 and 4 sent, in some order.
        let arrived = sh.waitFor(timeout: 60) { out, _ in
            guard let r = out.range(of: "reconnected (STOMP") else { return false }
            let after = out[r.upperBound...]
            return ["seq:2", "seq:3", "seq:4", "typed-while-down"].allSatisfy { after.contains($0) }
        }
        XCTAssertTrue(arrived, "\(service): stdout:\n\(sh.stdout)\nstderr:\n\(sh.stderr)")
        sh.type("echo done")
        let status = sh.finish(timeout: 30)
        let out = sh.stdout, err = sh.stderr
        XCTAssertEqual(status, 0, "\(service): stdout:\n\(out)\nstderr:\n\(err)")
        XCTAssertTrue(out.contains("resubscribed: s1"), "\(service): \(out)")
        XCTAssertEqual(out.components(separatedBy: ", receipt received").count - 1, 4, "\(service): four receipted sends: \(out)")
        XCTAssertTrue(out.hasSuffix("done\n"), "\(service): \(out)")
        XCTAssertFalse(err.contains("error:"), "\(service): \(err)")
    }

    /// Runs scripts/brokers COMMAND on the killable pair with system() (Foundation.Process would wait for
    /// the end of a pipe the started broker could inherit).
    private func brokers(_ control: String, _ command: String) throws {
        let log = NSTemporaryDirectory() + "stompsh-kill-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = system("\(control) \(command) </dev/null >'\(log)' 2>&1")
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        print("scripts/brokers \(command): \(output)", terminator: "")
        if status != 0 { throw BrokerControlFailure(command: command, output: output) }
    }
}

struct BrokerControlFailure: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "scripts/brokers \(command) failed: \(output)" }
}
