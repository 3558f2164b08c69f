import Foundation

/// Where the built `stompsh` is, for tests that run it as a user would: env STOMPSH_BIN, else next to the test
/// bundle (SwiftPM puts both in the same build directory), else `.build/debug/stompsh`.
public enum StompshBinary {
    public static var path: String {
        if let b = ProcessInfo.processInfo.environment["STOMPSH_BIN"], !b.isEmpty { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("stompsh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for b in Bundle.allBundles {
            let candidate = b.bundleURL.deletingLastPathComponent().appendingPathComponent("stompsh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return ".build/debug/stompsh"
    }
}
