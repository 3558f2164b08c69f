// The report card as text: one block per group, two lines per check (verdict, then what the broker did), evidence
// under --verbose, the summary last.

import Foundation

/// Renders report cards for a terminal or a file.
public enum ProbeCardRenderer {
    static let idWidth = 28
    static let verdictWidth = 15

    public static func text(_ report: ProbeReport, verbose: Bool = false) -> String {
        var out = "stompsh probe \(report.url)"
        if let s = report.server { out += " (server: \(s))" }
        out += "\n"
        if report.unreachable {
            out += "the probe could not start: \(report.results.first?.observed ?? "no checks selected")\n"
        }
        var group: ProbeGroup?
        for r in report.results {
            if r.group != group {
                group = r.group
                out += "\n\(r.group.rawValue)\n"
            }
            let name = String(r.id.dropFirst(r.group.rawValue.count + 1))
            out += "  " + pad(name, idWidth) + " " + pad(r.verdict.rawValue, verdictWidth) + " " + r.name + " [" + r.spec + "]\n"
            out += String(repeating: " ", count: 2 + idWidth + 1 + verdictWidth + 1) + r.observed + "\n"
            if verbose {
                for line in r.evidence { out += "      | " + line + "\n" }
            }
        }
        out += "\n" + report.summary + "\n"
        return out
    }

    /// Several cards side by side: one row per check, `*` where the brokers differ (verdict or key observation).
    public static func comparison(_ reports: [ProbeReport], width: Int = 42) -> String {
        var ids: [String] = []
        for r in reports { for row in r.results where !ids.contains(row.id) { ids.append(row.id) } }
        let idCol = max(28, (ids.map(\.count).max() ?? 0) + 2)
        var out = "  " + pad("check", idCol)
        for r in reports { out += pad(clip(r.server ?? r.url, width - 1), width) }
        out = trimRight(out) + "\n"
        var differing = 0
        for id in ids {
            let cells = reports.map { $0.result(id) }
            let signatures = Set(cells.map { c in c.map { "\($0.verdict.rawValue)|\($0.key ?? "")" } ?? "-" })
            let differs = signatures.count > 1
            if differs { differing += 1 }
            var line = (differs ? "* " : "  ") + pad(id, idCol)
            for c in cells {
                let text = c.map { r in r.key.map { "\(r.verdict.rawValue): \($0)" } ?? r.verdict.rawValue } ?? "-"
                line += pad(clip(text, width - 1), width)
            }
            out += trimRight(line) + "\n"
        }
        out += "\n"
        for r in reports { out += "\(r.server ?? r.url): \(r.summary)\n" }
        out += "\(differing) of \(ids.count) checks differ (*)\n"
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let c = s.count
        return c >= n ? s : s + String(repeating: " ", count: n - c)
    }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    static func trimRight(_ s: String) -> String {
        var t = s
        while t.last == " " { t.removeLast() }
        return t
    }
}
