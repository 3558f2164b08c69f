import Foundation
import XCTest

/// stomp.py, the Python STOMP client nobody here wrote, which the interop tests run.
public enum StompPy {
    /// A python3 (for `/usr/bin/env`: PATH's first, then the system one) that imports stomp.py and `modules`
    /// (e.g. `websocket` for its WebSocket connection). Without one the test is skipped; where
    /// STOMPSH_REQUIRE_BROKERS=1 (CI) it fails instead, so interop is never skipped silently.
    public static func python(importing modules: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let imports = (["stomp"] + modules).joined(separator: ", ")
        for candidate in ["python3", "/usr/bin/python3"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [candidate, "-c", "import \(imports)"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            if p.terminationStatus == 0 { return candidate }
        }
        let packages = (["stomp.py"] + modules.map { $0 == "websocket" ? "websocket-client" : $0 }).joined(separator: " ")
        let why = "no python3 with \(packages) (pip install \(packages))"
        if ProcessInfo.processInfo.environment["STOMPSH_REQUIRE_BROKERS"] == "1" { XCTFail(why, file: file, line: line) }
        throw XCTSkip(why)
    }
}
