// Where the lines of a script come from: a string (-c), a file (-f) or, in BatchRunner.swift, the terminal.

import Foundation

/// Physical lines of a script, numbered from 1.
public protocol ScriptSource: AnyObject {
    /// File name for diagnostics: the path, `<stdin>`, or `-c[N]`.
    var name: String { get }
    /// The next physical line without its line terminator, nil at the end.
    func nextLine() -> String?
}

public final class StringScriptSource: ScriptSource {
    public let name: String
    private var lines: [String]
    private var index = 0

    public init(name: String, text: String) {
        self.name = name
        // CR LF is one Character, so split on it as well as on LF.
        var ls = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { l -> String in
            l.hasSuffix("\r") ? String(l.dropLast()) : String(l)
        }
        if ls.last == "" { ls.removeLast() }
        lines = ls
    }

    public func nextLine() -> String? {
        guard index < lines.count else { return nil }
        defer { index += 1 }
        return lines[index]
    }
}

/// Reads lines lazily (pipes: commands run as lines arrive).
public final class FileScriptSource: ScriptSource {
    public let name: String
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool

    public init?(path: String) {
        if path == "-" {
            name = "<stdin>"; file = stdin; owned = false
        } else {
            guard let f = fopen(path, "r") else { return nil }
            name = path; file = f; owned = true
        }
    }

    public init(stdinNamed name: String = "<stdin>") { self.name = name; file = stdin; owned = false }

    deinit { if owned { fclose(file) } }

    public func nextLine() -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        let n = getline(&line, &cap, file)
        defer { free(line) }
        guard n >= 0, let line else { return nil }
        var bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self), count: n))
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
