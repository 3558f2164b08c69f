import Foundation

/// The JSON the probe writes (cards, comparisons, stable cards, profiles): pretty, keys sorted, slashes as they
/// are, so that files diff well and read as they print.
public enum ProbeJSON {
    /// `value` encoded, without a final newline.
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }

    /// `value` encoded, then a newline: a file's content.
    public static func file<T: Encodable>(_ value: T) throws -> Data {
        var d = try data(value)
        d.append(0x0A)
        return d
    }
}
