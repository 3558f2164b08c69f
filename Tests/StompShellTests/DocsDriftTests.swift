// Drift guards between the command table and the documentation: the man page's INTERACTIVE COMMANDS section and
// `help`. (`stompsh --help` vs OPTIONS and the runnable EXAMPLES are checked by Tests/shell/docs_*.sh.)
import XCTest
import Foundation
@testable import StompShell

final class DocsDriftTests: XCTestCase {
    /// man/stompsh.1, found from this file's path.
    static let manPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("man/stompsh.1").path

    /// One `.It Ic NAME ...` entry of INTERACTIVE COMMANDS: its key ("send", "rpc call"), its `.It` line and its
    /// lines up to the next `.It Ic` entry.
    struct Entry { var key: String; var itLine: String; var text: [String] }

    static func section(_ name: String) throws -> [String] {
        let text = try String(contentsOfFile: manPath, encoding: .utf8)
        var out: [String] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(".Sh ") { inside = line == ".Sh \(name)"; continue }
            if inside { out.append(line) }
        }
        return out
    }

    static func entries() throws -> [Entry] {
        var out: [Entry] = []
        for line in try section("INTERACTIVE COMMANDS") {
            if line.hasPrefix(".It Ic ") {
                // key: the words after `.It Ic` up to the first macro (Ar, Op, Oo, Fl, ...)
                var key: [String] = []
                for w in line.dropFirst(7).split(separator: " ") {
                    if let f = w.first, f.isUppercase { break }
                    key.append(String(w))
                }
                out.append(Entry(key: key.joined(separator: " ").replacingOccurrences(of: "\\&", with: ""), itLine: line, text: [line]))
            } else if !out.isEmpty {
                out[out.count - 1].text.append(line)
            }
        }
        return out
    }

    /// Option names written in an `.It` line: `Fl -receipt` → "--receipt", `Fl H` → "-H".
    static func options(in itLine: String) -> Set<String> {
        let words = itLine.split(separator: " ").map(String.init)
        var out = Set<String>()
        for (i, w) in words.enumerated() where w == "Fl" && i + 1 < words.count {
            let name = words[i + 1]
            if name == "-" { continue }   // `Fl -` is the `--` end of options
            out.insert("-" + name)
        }
        return out
    }

    func entry(_ key: String, _ all: [Entry], file: StaticString = #filePath, line: UInt = #line) -> Entry? {
        let e = all.first { $0.key == key }
        if e == nil {
            XCTFail("man/stompsh.1 INTERACTIVE COMMANDS has no `.It Ic \(key)` entry", file: file, line: line)
        }
        return e
    }

    /// The options documented in `itLine` must be exactly `expected` (long names; a short name counts for its long).
    func check(_ key: String, itLine: String, expected: [(long: String, short: String?)],
               file: StaticString = #filePath, line: UInt = #line) {
        let documented = Self.options(in: itLine)
        for o in expected where !documented.contains(o.long) && !(o.short.map(documented.contains) ?? false) {
            XCTFail("man page entry '\(key)' lacks option \(o.long)\(o.short.map { " (\($0))" } ?? "")", file: file, line: line)
        }
        let known = Set(expected.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) })
        for d in documented.sorted() where !known.contains(d) {
            XCTFail("man page entry '\(key)' documents \(d), which the command does not have", file: file, line: line)
        }
    }

    func testManPageExists() {
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.manPath), Self.manPath)
    }

    func testEveryCommandHasAnEntryWithItsOptions() throws {
        let all = try Self.entries()
        for spec in CommandTable.all where spec.name != "rpc" && spec.name != "bench" {
            guard let e = entry(spec.name, all) else { continue }
            check(spec.name, itLine: e.itLine, expected: spec.options.map { ($0.long, $0.short) })
            // an optional argument is shown with Op/Oo, a required one without
            let firstArg = e.itLine.split(separator: " ").dropFirst(3).first.map(String.init)
            if let a = spec.arguments.first {
                XCTAssertEqual(firstArg == "Op" || firstArg == "Oo", a.optional,
                               "man page entry '\(spec.name)': argument \(a.name) optional=\(a.optional), but the entry says \(e.itLine)")
            }
        }
    }

    func testRPCSubcommandsHaveEntriesWithTheirOptions() throws {
        let all = try Self.entries()
        XCTAssertNotNil(entry("rpc", all))
        for sub in RPCShellCommands.subcommands {
            guard let e = entry("rpc \(sub)", all) else { continue }
            check("rpc \(sub)", itLine: e.itLine, expected: (RPCCommandLine.optionTable[sub] ?? []).map { ($0.long, $0.short) })
        }
    }

    func testBenchSubcommandsHaveEntriesWithTheirOptions() throws {
        let all = try Self.entries()
        guard let spec = CommandTable.find("bench") else { return XCTFail("no bench command") }
        XCTAssertNotNil(entry("bench", all))
        XCTAssertFalse(spec.subcommands.isEmpty, "bench declares no subcommands in the command table")
        for sub in spec.subcommands {
            guard let e = entry("bench \(sub.name)", all) else { continue }
            check("bench \(sub.name)", itLine: e.itLine,
                  expected: spec.options(forSubcommand: sub.name).map { ($0.long, $0.short) })
        }
    }

    func testEveryEntryIsACommand() throws {
        for e in try Self.entries() {
            let words = e.key.split(separator: " ").map(String.init)
            guard let first = words.first, let spec = CommandTable.find(first) else {
                XCTFail("man page documents '\(e.key)', which is not in the command table"); continue
            }
            XCTAssertEqual(spec.name, first, "man page entry '\(e.key)' should use the command's name, not an alias")
            if words.count > 1 {
                let subs = spec.name == "rpc" ? RPCShellCommands.subcommands : spec.subcommands.map(\.name)
                XCTAssertTrue(subs.contains(words[1]), "man page documents '\(e.key)', which is not a subcommand")
            }
        }
    }

    func testEveryAliasIsDocumentedInItsEntry() throws {
        let all = try Self.entries()
        for spec in CommandTable.all {
            guard let e = all.first(where: { $0.key == spec.name }) else { continue }   // reported above
            for alias in spec.aliases {
                let escaped = alias == "?" ? "\\&?" : alias
                XCTAssertTrue(e.text.contains { $0 == ".Ic \(escaped)" || $0.hasPrefix(".Ic \(escaped) ") },
                              "man page entry '\(spec.name)' does not mention its alias '\(alias)' (.Ic \(escaped))")
            }
        }
    }

    func testEverySettingIsDocumented() throws {
        guard let e = try Self.entries().first(where: { $0.key == "set" }) else { return XCTFail("no set entry") }
        for s in SettingsTable.all {
            XCTAssertTrue(e.text.contains { $0.hasPrefix(".It Cm \(s.name)") }, "man page 'set' entry lacks setting \(s.name)")
        }
    }

    // MARK: help

    func makeShell() -> (Shell, () -> String) {
        let o = Output(color: false)
        let shell = Shell(output: o)
        var text = ""
        o.sink = { t, _ in text += t }
        return (shell, { defer { text = "" }; return text })
    }

    func testHelpListsEveryCommandWithItsSynopsis() throws {
        let (shell, take) = makeShell()
        try shell.run(line: "help")
        let out = take()
        for spec in CommandTable.all {
            XCTAssertTrue(out.contains("  \(spec.synopsis)"), "`help` lacks \(spec.name): \(spec.synopsis)")
        }
        try shell.run(line: "help --names")
        XCTAssertEqual(take().split(separator: "\n").map(String.init), CommandTable.all.map(\.name))
    }

    func testHelpDescribesEveryCommandAndAlias() throws {
        let (shell, take) = makeShell()
        for spec in CommandTable.all {
            for word in [spec.name] + spec.aliases {
                try shell.run(line: "help '\(word)'")
                let out = take()
                XCTAssertTrue(out.hasPrefix("usage: \(spec.synopsis)\n"), "`help \(word)` printed: \(out)")
                XCTAssertTrue(out.contains(spec.summary), "`help \(word)` lacks the summary")
                for o in spec.options { XCTAssertTrue(out.contains(o.long), "`help \(word)` lacks option \(o.long)") }
            }
        }
        // rpc and bench describe each subcommand
        try shell.run(line: "help rpc")
        let rpc = take()
        for sub in RPCShellCommands.subcommands { XCTAssertTrue(rpc.contains("rpc \(sub) "), "`help rpc` lacks rpc \(sub)") }
        try shell.run(line: "help bench")
        let bench = take()
        for sub in CommandTable.find("bench")?.subcommands ?? [] {
            XCTAssertTrue(bench.contains("bench \(sub.name) "), "`help bench` lacks bench \(sub.name)")
        }
    }

    // MARK: the page as rendered

    /// man/stompsh.1 as `mandoc -Tutf8` renders it, overstrike removed.
    static func rendered() throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "mandoc -Tutf8 -Owidth=200 \"$1\" | col -bx", "sh", manPath]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, !data.isEmpty else {
            throw XCTSkip("mandoc is not installed (scripts/test installs it)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// mdoc's `Fl` takes every following word as another flag: `.Pq Fl -count , default 100000` rendered as
    /// "(--count, -default -100000)". Every option-looking word of the rendered page must be one the source
    /// writes as `Fl NAME`, or one written with its dash in literal text (`-S` in `#!/usr/bin/env -S`).
    func testRenderedPageHasNoSwallowedWordsAsFlags() throws {
        let text = try Self.rendered()
        let source = try String(contentsOfFile: Self.manPath, encoding: .utf8)
        var intended = Set<String>()
        for line in source.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            for (i, w) in words.enumerated() {
                if w == "Fl", i + 1 < words.count { intended.insert("-" + words[i + 1]) }
                let bare = w.trimmingCharacters(in: CharacterSet(charactersIn: "'\",.;:()"))
                if bare.hasPrefix("-") { intended.insert(bare) }
            }
        }
        let regex = try NSRegularExpression(pattern: #"(?<![\w./\-])--?[A-Za-z0-9][\w-]*"#)
        var wrong: [String] = []
        for line in text.split(separator: "\n").map(String.init) {
            for m in regex.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                let word = String(line[Range(m.range, in: line)!])
                if !intended.contains(word) { wrong.append("\(word)   in: \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        XCTAssertEqual(wrong, [], "words rendered as flags that the source does not mean as flags")
    }

    /// `.Pq Ql a , Ql b` nests the second quote inside the first: "‘a, ‘b’’".
    func testRenderedPageHasNoNestedQuotes() throws {
        let text = try Self.rendered()
        let nested = try NSRegularExpression(pattern: "‘[^’\n]*‘")
        let lines = text.split(separator: "\n").map(String.init).filter {
            nested.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
        }
        XCTAssertEqual(lines, [])
    }
}
