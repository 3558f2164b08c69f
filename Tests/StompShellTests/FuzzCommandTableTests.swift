// The shell-parser fuzzer (fuzz/shell-parser, built by scripts/fuzz without SwiftPM) parses against a copy of
// the command table's syntax, because the real table needs the command handlers and with them SwiftNIO.
// This test keeps that copy equal to CommandTable.all; STOMPSH_UPDATE_FUZZ_TABLE=1 rewrites it.
import XCTest
import Foundation
@testable import StompShell

final class FuzzCommandTableTests: XCTestCase {
    static let snapshotPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/shell-parser/CommandTableSnapshot.swift").path

    func testFuzzerSnapshotMatchesTheCommandTable() throws {
        let expected = Self.render(CommandTable.all)
        if ProcessInfo.processInfo.environment["STOMPSH_UPDATE_FUZZ_TABLE"] == "1" {
            try expected.write(toFile: Self.snapshotPath, atomically: true, encoding: .utf8)
        }
        let actual = try String(contentsOfFile: Self.snapshotPath, encoding: .utf8)
        XCTAssertEqual(actual, expected, """
            fuzz/shell-parser/CommandTableSnapshot.swift differs from CommandTable.all; regenerate it with \
            STOMPSH_UPDATE_FUZZ_TABLE=1 swift test --filter FuzzCommandTableTests
            """)
    }

    func testRenderingKeepsWhatTheParserReads() {
        let spec = CommandSpec(name: "x", aliases: ["y"],
                               arguments: [ArgumentSpec("A", .choice(["a\"b", "c"]), optional: true, variadic: true, verbatim: true)],
                               options: [OptionSpec("--o", short: "-o", value: .integer, valueName: "N", repeatable: true)],
                               summary: "s", blockTerminator: ".", run: { _, _ in })
        XCTAssertEqual(Self.render(spec), """
            CommandSpec(name: "x", aliases: ["y"], arguments: [ArgumentSpec("A", .choice(["a\\"b", "c"]), optional: true, \
            variadic: true, verbatim: true)], options: [OptionSpec("--o", short: "-o", value: .integer, valueName: "N", \
            repeatable: true)], summary: "", blockTerminator: ".", run: { _, _ in })
            """)
    }

    // MARK: rendering the table as Swift source

    static func render(_ table: [CommandSpec]) -> String {
        var out = """
            // Generated from CommandTable.all by Tests/StompShellTests/FuzzCommandTableTests.swift; do not edit.
            // Regenerate: STOMPSH_UPDATE_FUZZ_TABLE=1 swift test --filter FuzzCommandTableTests
            // The command syntax (names, arguments, options) the shell-parser fuzzer parses against.

            extension CommandTable {
                public static var all: [CommandSpec] { [

            """
        for spec in table { out += "        " + render(spec) + ",\n" }
        out += "    ] }\n}\n"
        return out
    }

    static func render(_ spec: CommandSpec) -> String {
        var parts = ["name: \(literal(spec.name))"]
        if !spec.aliases.isEmpty { parts.append("aliases: [\(spec.aliases.map(literal).joined(separator: ", "))]") }
        if !spec.arguments.isEmpty { parts.append("arguments: [\(spec.arguments.map(render).joined(separator: ", "))]") }
        if !spec.options.isEmpty { parts.append("options: [\(spec.options.map(render).joined(separator: ", "))]") }
        if !spec.subcommands.isEmpty { parts.append("subcommands: [\(spec.subcommands.map(render).joined(separator: ", "))]") }
        if spec.optionsInRestOfLine { parts.append("optionsInRestOfLine: true") }
        parts.append("summary: \"\"")
        if let t = spec.blockTerminator { parts.append("blockTerminator: \(literal(t))") }
        parts.append("run: { _, _ in }")
        return "CommandSpec(\(parts.joined(separator: ", ")))"
    }

    static func render(_ s: SubcommandSpec) -> String {
        "SubcommandSpec(\(literal(s.name)), summary: \"\", options: [\(s.optionNames.map(literal).joined(separator: ", "))])"
    }

    static func render(_ a: ArgumentSpec) -> String {
        var parts = [literal(a.name), render(a.kind)]
        if a.optional { parts.append("optional: true") }
        if a.variadic { parts.append("variadic: true") }
        if a.verbatim { parts.append("verbatim: true") }
        return "ArgumentSpec(\(parts.joined(separator: ", ")))"
    }

    static func render(_ o: OptionSpec) -> String {
        var parts = [literal(o.long)]
        if let s = o.short { parts.append("short: \(literal(s))") }
        if let v = o.value { parts.append("value: \(render(v))"); parts.append("valueName: \(literal(o.valueName))") }
        if o.repeatable { parts.append("repeatable: true") }
        if o.sensitive { parts.append("sensitive: true") }
        return "OptionSpec(\(parts.joined(separator: ", ")))"
    }

    static func render(_ k: ValueKind) -> String {
        if case .choice(let c) = k { return ".choice([\(c.map(literal).joined(separator: ", "))])" }
        return ".\(k)"
    }

    static func literal(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
