// Typed ARG literals of `rpc call` / `rpc bench`: 42, 4.2, "text", bare words (strings), true, false, null,
// [arrays], {objects}, and NAME=VALUE (params by name). Errors carry the column in the command line.

/// A usage error found before anything is sent; `column` is 1-based in the command line (nil if unknown).
public struct RPCUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var column: Int?
    public init(_ message: String, column: Int? = nil) { self.message = message; self.column = column }
    public var description: String { column.map { "column \($0): \(message)" } ?? message }
}

/// One ARG as typed: its raw text (quotes kept) and the 1-based column of its first character.
public struct RPCArgumentToken: Sendable, Equatable {
    public var text: String
    public var column: Int
    public init(_ text: String, column: Int) { self.text = text; self.column = column }
}

/// Params built from the ARGs, with the column of each ARG for later (type) errors.
public struct RPCCallParams: Sendable, Equatable {
    /// `.array` (by position) or `.object` (by name).
    public var params: JSONValue
    /// By position: column of element i. By name: column of each NAME=VALUE.
    public var positionalColumns: [Int]
    public var namedColumns: [String: Int]
    public init(params: JSONValue, positionalColumns: [Int] = [], namedColumns: [String: Int] = [:]) {
        self.params = params; self.positionalColumns = positionalColumns; self.namedColumns = namedColumns
    }

    public func column(forParameter name: String, index: Int) -> Int? {
        if let c = namedColumns[name] { return c }
        return index < positionalColumns.count ? positionalColumns[index] : nil
    }
}

public enum RPCLiteral {
    /// Parses one literal. `column` is the column of `text`'s first character.
    public static func parse(_ text: String, column: Int) throws -> JSONValue {
        guard let first = text.unicodeScalars.first else { return .string("") }
        switch first {
        case "\"", "[", "{":
            do { return try JSONValue.parse(text) } catch let e as JSONParseError {
                throw RPCUsageError("malformed literal \(text): \(e.message)", column: column + characterOffset(e, in: text))
            }
        case "-", "0"..."9":
            let s = text.unicodeScalars
            let second = s.dropFirst().first
            if first == "-", !(second.map { ("0"..."9").contains($0) } ?? false) { return .string(text) }
            do { return try JSONValue.parse(text) } catch let e as JSONParseError {
                throw RPCUsageError("malformed number \(text): \(e.message) (quote it, \"...\", for a string)",
                                    column: column + characterOffset(e, in: text))
            }
        default:
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default: return .string(text)   // bare word
            }
        }
    }

    /// Where a JSON error is in `text`, in characters from its start: JSON counts columns in Unicode scalars,
    /// the command line in characters (an accent typed as a combining mark is one character, two scalars).
    static func characterOffset(_ e: JSONParseError, in text: String) -> Int {
        let scalar = e.column - 1
        var scalars = 0
        var offset = 0
        for c in text {
            scalars += c.unicodeScalars.count
            if scalar < scalars { return offset }
            offset += 1
        }
        return offset
    }

    /// NAME=VALUE? NAME is [A-Za-z_][A-Za-z0-9_.-]*; returns the name and the value's text.
    public static func splitNamed(_ text: String) -> (name: String, value: Substring)? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        let name = text[..<eq]
        guard let f = name.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return nil }
        for c in name.unicodeScalars {
            guard c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "." || c == "-" else { return nil }
        }
        return (String(name), text[text.index(after: eq)...])
    }

    /// Builds params from ARGs: all positional → array, all NAME=VALUE → object; mixing is an error.
    public static func params(from tokens: [RPCArgumentToken]) throws -> RPCCallParams {
        var positional: [JSONValue] = []
        var posColumns: [Int] = []
        var named = JSONObject()
        var namedColumns: [String: Int] = [:]
        var firstKind: (named: Bool, column: Int)? = nil
        for t in tokens {
            if let (name, valueText) = splitNamed(t.text) {
                if let k = firstKind, !k.named {
                    throw RPCUsageError("cannot mix NAME=VALUE with positional arguments (positional argument at column \(k.column))", column: t.column)
                }
                if firstKind == nil { firstKind = (true, t.column) }
                if namedColumns[name] != nil { throw RPCUsageError("parameter \(name) given twice", column: t.column) }
                let vcol = t.column + name.unicodeScalars.count + 1
                named.append(name, try parse(String(valueText), column: vcol))
                namedColumns[name] = t.column
            } else {
                if let k = firstKind, k.named {
                    throw RPCUsageError("cannot mix positional arguments with NAME=VALUE (NAME=VALUE at column \(k.column))", column: t.column)
                }
                if firstKind == nil { firstKind = (false, t.column) }
                positional.append(try parse(t.text, column: t.column))
                posColumns.append(t.column)
            }
        }
        if let k = firstKind, k.named { return RPCCallParams(params: .object(named), namedColumns: namedColumns) }
        return RPCCallParams(params: .array(positional), positionalColumns: posColumns)
    }

    /// `--params JSON`: verbatim; must be an array or an object.
    public static func verbatimParams(_ text: String, column: Int) throws -> RPCCallParams {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch let e as JSONParseError {
            throw RPCUsageError("malformed --params JSON: \(e.message)", column: column + characterOffset(e, in: text))
        }
        switch v {
        case .array, .object: return RPCCallParams(params: v)
        default: throw RPCUsageError("--params must be a JSON array or object, not \(v.typeName)", column: column)
        }
    }
}
