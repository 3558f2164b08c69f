// Where the lines of a script come from: a string (-c), a file (-f) or, in BatchRunner.swift, the terminal.

import Foundation

/// Physical lines of a script, numbered from 1.
public protocol ScriptSource: AnyObject {
    /// File name for diagnostics: the path, `<stdin>`, or `-c[N]`.
    var name: String { get }
    /// The next physical line without its line terminator, nil at the end. Throws `InvalidUTF8` for a line
    /// whose bytes are not UTF-8 (the line is consumed): a script is never silently rewritten.
    func nextLine() throws -> String?
}

/// Bytes that are not UTF-8: where the first bad byte is, in lines and columns (characters) of the text.
public struct InvalidUTF8: Error, Equatable, CustomStringConvertible {
    /// 1-based line of the first bad byte (1 for a single line).
    public var line: Int
    /// 1-based column, in characters, of the first bad byte in its line.
    public var column: Int
    /// The first bad byte.
    public var byte: UInt8

    public var description: String {
        "invalid UTF-8 (byte 0x" + String(byte, radix: 16, uppercase: true) + "): scripts are UTF-8 text; "
            + "send other bytes with send --file"
    }
}

/// Strict UTF-8 decoding: the text, or where it stops being UTF-8 (never U+FFFD in place of the bytes).
public enum UTF8Text {
    public static func decode<C: Collection>(_ bytes: C) -> Result<String, InvalidUTF8> where C.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return .success(s) }
        // Find the first bad byte with the stdlib's parser, then count lines and characters before it.
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var offset = 0
        parsing: while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let scalar): offset += scalar.count
            case .error, .emptyInput: break parsing
            }
        }
        let all = Array(bytes)
        let before = all[..<offset]
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let column = String(decoding: all[lineStart..<offset], as: UTF8.self).count + 1
        return .failure(InvalidUTF8(line: line, column: column, byte: offset < all.count ? all[offset] : 0))
    }
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

/// A script that cannot be opened: `cannot read script 'PATH': Is a directory` (a usage error, status 2).
public struct ScriptFileError: Error, CustomStringConvertible {
    public var path: String
    public var errorNumber: Int32
    public var description: String { "cannot read script '\(path)': \(String(cString: strerror(errorNumber)))" }
}

/// Reads lines lazily (pipes: commands run as lines arrive).
public final class FileScriptSource: ScriptSource {
    public let name: String
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool

    /// Opens the script at `path` (`-`: standard input). Throws `ScriptFileError` for a file that cannot be
    /// read, a directory included ("is a directory", not an empty script).
    public init(path: String) throws {
        if path == "-" {
            name = "<stdin>"; file = stdin; owned = false
            return
        }
        guard let f = fopen(path, "r") else { throw ScriptFileError(path: path, errorNumber: errno) }
        var st = stat()
        if fstat(fileno(f), &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            fclose(f)
            throw ScriptFileError(path: path, errorNumber: EISDIR)
        }
        name = path; file = f; owned = true
    }

    public init(stdinNamed name: String = "<stdin>") { self.name = name; file = stdin; owned = false }

    deinit { if owned { fclose(file) } }

    public func nextLine() throws -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        let n = getline(&line, &cap, file)
        defer { free(line) }
        guard n >= 0, let line else { return nil }
        var bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self), count: n))
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        return try UTF8Text.decode(bytes).get()
    }
}
