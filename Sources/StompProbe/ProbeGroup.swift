// The check groups, in report order; `--only` names them.

import Foundation

/// A group of related checks.
public enum ProbeGroup: String, Sendable, Codable, CaseIterable {
    case connect, framing, delivery, receipts, transactions, errors, reply, extras

    /// Parses a comma-separated `--only` list; throws naming the first unknown word.
    public static func parseList(_ text: String) throws -> [ProbeGroup] {
        var groups: [ProbeGroup] = []
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            let w = word.trimmingCharacters(in: .whitespaces).lowercased()
            guard let g = ProbeGroup(rawValue: w) ?? (w == "request-reply" || w == "request/reply" ? .reply : nil) else {
                throw ProbeUsageError("unknown group '\(word)'; groups: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !groups.contains(g) { groups.append(g) }
        }
        return groups
    }
}

/// A bad `--only` list or probe argument (usage error, exit status 2).
public struct ProbeUsageError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
