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

    /// What is wrong with the options documented in `itLine` (empty: they are exactly `expected`; long names, a
    /// short name counts for its long).
    static func problems(_ key: String, itLine: String, expected: [(long: String, short: String?)]) -> [String] {
        let documented = options(in: itLine)
        var out: [String] = []
        for o in expected where !documented.contains(o.long) && !(o.short.map(documented.contains) ?? false) {
            out.append("man page entry '\(key)' lacks option \(o.long)\(o.short.map { " (\($0))" } ?? "")")
        }
        let known = Set(expected.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) })
        for d in documented.sorted() where !known.contains(d) {
            out.append("man page entry '\(key)' documents \(d), which the command does not have")
        }
        return out
    }

    func check(_ key: String, itLine: String, expected: [(long: String, short: String?)],
               file: StaticString = #filePath, line: UInt = #line) {
        for p in Self.problems(key, itLine: itLine, expected: expected) { XCTFail(p, file: file, line: line) }
    }

    func testManPageExists() {
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.manPath), Self.manPath)
    }

    func testEveryCommandHasAnEntryWithItsOptions() throws {
        let all = try Self.entries()
        for spec in CommandTable.all where spec.subcommands.isEmpty {
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

    /// `rpc call`, `bench send`, ...: an entry per subcommand the table declares, with the options the table
    /// gives that subcommand, and its first argument optional exactly when the table says so.
    func testEverySubcommandHasAnEntryWithItsOptions() throws {
        let all = try Self.entries()
        let commands = CommandTable.all.filter { !$0.subcommands.isEmpty }
        XCTAssertEqual(Set(commands.map(\.name)), ["bench", "rpc"], "commands with subcommands in the table")
        for spec in commands {
            XCTAssertNotNil(entry(spec.name, all))
            for sub in spec.subcommands {
                let key = "\(spec.name) \(sub.name)"
                guard let e = entry(key, all) else { continue }
                check(key, itLine: e.itLine, expected: spec.options(forSubcommand: sub.name).map { ($0.long, $0.short) })
                let firstArg = e.itLine.split(separator: " ").dropFirst(4).first.map(String.init)
                if let a = sub.arguments.first {
                    XCTAssertEqual(firstArg == "Op" || firstArg == "Oo", a.optional,
                                   "man page entry '\(key)': argument \(a.name) optional=\(a.optional), but the entry says \(e.itLine)")
                }
            }
        }
    }

    /// The check above fails for an rpc option the table declares but the page leaves out, and for one the page
    /// documents but the subcommand does not take (serve's --count under `rpc call`).
    func testDriftCheckCatchesAnRPCOptionMissingFromTheManPage() throws {
        guard let spec = CommandTable.find("rpc"), let e = try Self.entries().first(where: { $0.key == "rpc call" }) else {
            return XCTFail("no rpc call")
        }
        let expected = spec.options(forSubcommand: "call").map { ($0.long, $0.short) }
        XCTAssertEqual(Self.problems("rpc call", itLine: e.itLine, expected: expected), [])
        let withoutTimeout = e.itLine.replacingOccurrences(of: "Oo Fl -timeout Ar seconds Oc ", with: "")
        XCTAssertNotEqual(withoutTimeout, e.itLine, "the rpc call entry no longer documents --timeout as expected here")
        XCTAssertEqual(Self.problems("rpc call", itLine: withoutTimeout, expected: expected),
                       ["man page entry 'rpc call' lacks option --timeout"])
        XCTAssertEqual(Self.problems("rpc call", itLine: e.itLine + " Oo Fl -count Ar n Oc", expected: expected),
                       ["man page entry 'rpc call' documents --count, which the command does not have"])
    }

    func testEveryEntryIsACommand() throws {
        for e in try Self.entries() {
            let words = e.key.split(separator: " ").map(String.init)
            guard let first = words.first, let spec = CommandTable.find(first) else {
                XCTFail("man page documents '\(e.key)', which is not in the command table"); continue
            }
            XCTAssertEqual(spec.name, first, "man page entry '\(e.key)' should use the command's name, not an alias")
            if words.count > 1 {
                let subs = spec.subcommands.map(\.name)
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
        // rpc and bench describe each subcommand with its synopsis from the table
        for spec in CommandTable.all where !spec.subcommands.isEmpty {
            try shell.run(line: "help \(spec.name)")
            let out = take()
            for sub in spec.subcommands {
                XCTAssertTrue(out.contains(spec.synopsis(of: sub) + "\n"), "`help \(spec.name)` lacks \(spec.synopsis(of: sub)):\n\(out)")
            }
        }
    }

    /// `help rpc serve`: serve's synopsis, and serve's options from the table with their help, none of the
    /// options serve does not take.
    func testHelpDescribesASubcommandWithItsOwnOptions() throws {
        let (shell, take) = makeShell()
        try shell.run(line: "help rpc serve")
        let serve = take()
        XCTAssertTrue(serve.hasPrefix("usage: rpc serve DEST [--count N] [--exec COMMAND] [-c N] [-q] [--json] [-H NAME:VALUE]...\n"), serve)
        for o in ["-c, --concurrency N", "-q, --quiet", "--exec COMMAND", "--count N", "-H, --header NAME:VALUE", "--json"] {
            XCTAssertTrue(serve.contains("\n  \(o)"), "`help rpc serve` lacks \(o):\n\(serve)")
        }
        for other in ["--timeout", "--params", "--reply-to", "--calls", "--rate"] {
            XCTAssertFalse(serve.contains(other), "`help rpc serve` shows \(other), which serve does not take:\n\(serve)")
        }
        try shell.run(line: "help rpc call")
        let call = take()
        XCTAssertTrue(call.hasPrefix("usage: rpc call DEST METHOD [ARG...] [--timeout SECONDS] [-H NAME:VALUE]... [--params JSON] [--reply-to DEST] [--json]\n"), call)
        XCTAssertFalse(call.contains("--concurrency"), call)
        try shell.run(line: "help bench latency")
        XCTAssertTrue(take().hasPrefix("usage: bench latency [DEST] [-n N] [--history SECONDS] [--interval SECONDS] [--mode receipt|self] [--json]\n"))
        XCTAssertThrowsError(try shell.run(line: "help rpc frobnicate")) { e in
            XCTAssertEqual((e as? ShellError)?.message, "'rpc' has no subcommand 'frobnicate' (call, serve, discover, methods, bench)")
            XCTAssertEqual((e as? ShellError)?.column, 10)
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
