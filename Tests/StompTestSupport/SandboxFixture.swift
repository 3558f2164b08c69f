// The sandbox broker every test target shares: the one scripts/test started (STOMPSH_TEST_SANDBOX, as users
// run it: `stompsh broker`), else one started once in this test process.

import Foundation
import StompBroker

public enum SandboxFixture {
    /// `stomp://127.0.0.1:PORT` of the sandbox broker the tests use.
    public static let url: String = {
        if let u = ProcessInfo.processInfo.environment["STOMPSH_TEST_SANDBOX"], !u.isEmpty { return u }
        do {
            return try SandboxBroker.startDetached().url
        } catch {
            fatalError("cannot start the in-process sandbox broker: \(error)")
        }
    }()
}
