// argv as the bytes it is: Swift's CommandLine.arguments puts U+FFFD in place of bytes that are not UTF-8, and a
// `-c` command (or a URL, a destination) would then be sent rewritten. stompsh refuses such arguments instead.

import Foundation
import StompShell

enum ArgumentBytes {
    /// The message refusing the first argument that is not UTF-8 (a `-c` command reports `-c[N]:LINE:COL`),
    /// or nil when every argument is UTF-8.
    static func refusal(_ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, count: Int) -> String? {
        var commandIndex = 0
        var previous: [UInt8] = []
        for i in 1..<max(count, 1) {
            guard let p = argv[i] else { break }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self),
                                                  count: strlen(p)))
            defer { previous = bytes }
            let isCommand = previous == Array("-c".utf8) || previous == Array("--command".utf8)
            if isCommand { commandIndex += 1 }
            guard case .failure(let e) = UTF8Text.decode(bytes) else { continue }
            if isCommand { return "-c[\(commandIndex)]:\(e.line):\(e.column): error: \(e)" }
            return "stompsh: argument \(i) (column \(e.column)): \(e)"
        }
        return nil
    }
}
