/// A size in bytes as a user writes it: `1048576`, `64K`, `512M`, `2G` (binary multiples; `KiB`, `MB`,
/// `k` and the like are accepted too).
public enum ByteSize {
    /// The bytes `text` names; nil if it is not a size or overflows.
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text)
        var unit = ""
        while let last = digits.last, last.isLetter {
            unit = String(last).lowercased() + unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { return nil }
        let shift: Int
        switch unit {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        default: return nil
        }
        let (value, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }
}
