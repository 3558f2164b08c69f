// The `set` settings as one table: each entry has its name, its values (for completion, help and the man page
// drift test), and how to read and change it in `Settings`. `set`, its completion and its help read only this.

import Foundation

/// One setting of `set NAME VALUE`.
public struct SettingEntry: Sendable {
    public var name: String
    /// Other names accepted by `set` (`colour`).
    public var aliases: [String] = []
    /// The values offered by completion and help; empty: a number of seconds.
    public var values: [String]
    public var help: String
    /// The current value as `set` shows it.
    public var get: @Sendable (Settings) -> String
    /// Changes the setting from `value`; throws a message (no column) for a value it does not take.
    public var set: @Sendable (inout Settings, String) throws -> Void
}

/// Why `set NAME VALUE` refused the value (the command adds the column).
struct SettingValueError: Error { var message: String }

public enum SettingsTable {
    public static let all: [SettingEntry] = [
        SettingEntry(name: "format", values: OutputFormat.allCases.map(\.rawValue), help: "output format",
                     get: { $0.format.rawValue },
                     set: { s, v in
                         guard let f = OutputFormat(rawValue: v) else { throw SettingValueError(message: "format: expected pretty or json, got '\(v)'") }
                         s.format = f
                     }),
        onOff("trace", help: "show every frame in and out as on the wire", \.trace),
        onOff("timing", help: "show round-trip times", \.timing),
        SettingEntry(name: "color", aliases: ["colour"], values: ["on", "off", "auto"], help: "colour in pretty output",
                     get: { $0.color ? "on" : "off" },
                     set: { s, v in s.color = v == "auto" ? Output.defaultColor() : try onOff(v, "color") }),
        SettingEntry(name: "on-error", values: ["stop", "continue"], help: "what a script does after a failed command",
                     get: { $0.onError.rawValue },
                     set: { s, v in
                         guard let o = OnError(rawValue: v) else { throw SettingValueError(message: "on-error: expected stop or continue, got '\(v)'") }
                         s.onError = o
                     }),
        onOff("quiet", help: "quiet stompsh's chatter (as -q); never what commands are asked to print", \.quiet),
        SettingEntry(name: "timeout", values: [], help: "default timeout of wait/expect/expect-error, seconds",
                     get: { Shell.seconds($0.timeout) },
                     set: { s, v in
                         guard let d = Double(v), d >= 0, d.isFinite else { throw SettingValueError(message: "timeout: expected seconds, got '\(v)'") }
                         s.timeout = d
                     }),
    ]

    /// The entry named `name` (or one of its aliases).
    public static func find(_ name: String) -> SettingEntry? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    static func onOff(_ name: String, help: String, _ key: WritableKeyPath<Settings, Bool> & Sendable) -> SettingEntry {
        SettingEntry(name: name, values: ["on", "off"], help: help,
                     get: { $0[keyPath: key] ? "on" : "off" },
                     set: { s, v in s[keyPath: key] = try onOff(v, name) })
    }

    static func onOff(_ value: String, _ name: String) throws -> Bool {
        switch value.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw SettingValueError(message: "\(name): expected on or off, got '\(value)'")
        }
    }
}
