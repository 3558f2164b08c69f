// A JSON value with a strict parser (RFC 8259) and a deterministic serializer.
// Object members keep the order they were given or parsed in.

/// A JSON value. Integers that fit in Int64 (no fraction, no exponent) are `.integer`; other numbers `.number`.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON-schema type name: null, boolean, integer, number, string, array, object.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var int64Value: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d): return d.rounded() == d && abs(d) < 9.2e18 ? Int64(d) : nil
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// Compact form: no whitespace.
    public var description: String { compact }
    public var compact: String { String(decoding: compactBytes, as: UTF8.self) }
    /// `s` as a JSON string (quoted, escaped as `compact` escapes it) appended to `out`: for writers that emit
    /// JSON of a fixed shape without building a `JSONValue` (the shell's received frames).
    public static func appendString(_ s: String, to out: inout [UInt8]) { JSONWriter.writeString(s, into: &out) }

    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, into: &out)
        return out
    }
    /// Pretty form: two-space indentation, `"key": value`, members in order.
    public var pretty: String {
        var out: [UInt8] = []
        JSONWriter.writePretty(self, indent: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { try JSONParser.parse($0) }
    }
    public static func parse<C: Collection>(bytes: C) throws -> JSONValue where C.Element == UInt8 {
        if let r = try bytes.withContiguousStorageIfAvailable({ try JSONParser.parse($0) }) { return r }
        let a = Array(bytes)
        return try a.withUnsafeBufferPointer { try JSONParser.parse($0) }
    }
}

/// An ordered JSON object. Equality ignores member order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init() { members = [] }
    public init(_ members: [(String, JSONValue)]) { self.members = members.map { (key: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let v = newValue { members[i].value = v } else { members.remove(at: i) }
            } else if let v = newValue {
                members.append((key: key, value: v))
            }
        }
    }
    public mutating func append(_ key: String, _ value: JSONValue) { members.append((key: key, value: value)) }
    mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { members.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for m in a.members {
            guard let v = b[m.key], v == m.value else { return false }
        }
        return true
    }
}

/// A JSON syntax error: `offset` in bytes, `column` in characters (Unicode scalars), both 1-based... offset 0-based.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// 0-based byte offset of the offending byte.
    public var offset: Int
    /// 1-based column (Unicode scalars) of the offending character within the parsed text.
    public var column: Int
    public var description: String { "\(message) at column \(column)" }
}

enum JSONParser {
    static let maxDepth = 512

    static func parse(_ buf: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var p = Parser(buf: buf)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.i < buf.count { throw p.error("unexpected '\(p.charDescription(p.i))' after the JSON value") }
        return v
    }

    /// The member values of an object written exactly `{"N1":V1,"N2":V2,...}`: these names in this order, no
    /// whitespace outside the values, nothing after; nil for any other text, or a value that does not parse
    /// (the caller then parses the text in full, which finds the same values in this layout, or the error).
    /// The values are read by the one parser, at the depth a full parse reads them. For fixed-shape messages
    /// (JSON-RPC) without an object of members and their names per message.
    static func compactMembers(_ buf: UnsafeBufferPointer<UInt8>, names: [StaticString]) -> [JSONValue]? {
        var p = Parser(buf: buf)
        var values: [JSONValue] = []
        values.reserveCapacity(names.count)
        for (k, name) in names.enumerated() {
            // `{"name":` then `,"name":`
            guard p.expect(k == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")), p.expect(UInt8(ascii: "\"")),
                  p.expect(name), p.expect(UInt8(ascii: "\"")), p.expect(UInt8(ascii: ":")),
                  p.i < buf.count, let v = try? p.parseValue(depth: 1) else { return nil }
            values.append(v)
        }
        guard p.expect(UInt8(ascii: "}")), p.i == buf.count else { return nil }
        return values
    }

    /// The result of a reply in `RPCResponse.encode`'s layout, `{"jsonrpc":"2.0","result":R,"id":ID}` and nothing
    /// around it, nil for anything else (then parsed in full, which accepts or refuses it as ever). An id of
    /// plain characters (letters, digits, `-_.:`) is stepped over (it is valid JSON); any other is parsed.
    static func compactResult(_ buf: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var p = Parser(buf: buf)
        guard p.expect(#"{"jsonrpc":"2.0","result":"#), p.i < buf.count, let v = try? p.parseValue(depth: 1),
              p.expect(#","id":"#), p.skipPlainString() || (p.i < buf.count && (try? p.parseValue(depth: 1)) != nil),
              p.expect(UInt8(ascii: "}")), p.i == buf.count else { return nil }
        return v
    }

    struct Parser {
        let buf: UnsafeBufferPointer<UInt8>
        var i = 0

        /// Steps over `byte` if it comes next.
        mutating func expect(_ byte: UInt8) -> Bool {
            guard i < buf.count, buf[i] == byte else { return false }
            i += 1
            return true
        }

        /// Steps over `word`'s bytes if they come next.
        mutating func expect(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard buf.count - i >= n else { return false }
            let w = word.utf8Start
            for k in 0..<n where buf[i + k] != w[k] { return false }
            i += n
            return true
        }
        init(buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

        /// Steps over a string of plain characters (letters, digits, `-_.:`; no escapes) if one comes next.
        mutating func skipPlainString() -> Bool {
            guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { return false }
            var j = i + 1
            while j < buf.count {
                let b = buf[j]
                if b == UInt8(ascii: "\"") { i = j + 1; return true }
                guard b < 128, (b < 64 ? Self.plainLow : Self.plainHigh) >> UInt64(b & 63) & 1 == 1 else { return false }
                j += 1
            }
            return false
        }
        /// The plain characters of `skipPlainString` as bits: bytes 0-63 (`-`, `.`, digits, `:`) and 64-127
        /// (letters, `_`).
        static let plainLow: UInt64 = (1 << 0x2D) | (1 << 0x2E) | (0x7FF << 0x30)
        static let plainHigh: UInt64 = (0x3FF_FFFF << 1) | (1 << (0x5F - 64)) | (0x3FF_FFFF << (0x61 - 64))

        func column(of offset: Int) -> Int {
            var col = 1
            var k = 0
            while k < offset && k < buf.count {
                if buf[k] & 0xC0 != 0x80 { col += 1 }
                k += 1
            }
            // col counted scalar starts before offset; if offset is mid-scalar keep it on that scalar
            return col
        }
        func charDescription(_ at: Int) -> String {
            guard at < buf.count else { return "end of input" }
            let b = buf[at]
            if b < 0x20 { return "\\u" + String(b, radix: 16).leftPad(4) }
            if b < 0x80 { return String(UnicodeScalar(b)) }
            var end = at + 1
            while end < buf.count && buf[end] & 0xC0 == 0x80 { end += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[at..<end]), as: UTF8.self)
        }
        func error(_ message: String, at: Int? = nil) -> JSONParseError {
            let o = at ?? i
            return JSONParseError(message: message, offset: o, column: column(of: o))
        }

        mutating func skipWhitespace() {
            while i < buf.count {
                let b = buf[i]
                if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { break }
            }
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            guard i < buf.count else { throw error("unexpected end of input, expected a value") }
            switch buf[i] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default:
                throw error("unexpected '\(charDescription(i))', expected a value")
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let start = i
            let n = word.utf8CodeUnitCount
            let w = word.utf8Start
            for k in 0..<n {
                guard i < buf.count, buf[i] == w[k] else {
                    if i >= buf.count { throw error("unexpected end of input in '\(word)'") }
                    throw error("invalid literal, expected '\(word)'", at: start)
                }
                i += 1
            }
            if i < buf.count, isIdentChar(buf[i]) { throw error("invalid literal, expected '\(word)'", at: start) }
        }
        func isIdentChar(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
            i += 1  // {
            var obj = JSONObject()
            skipWhitespace()
            if i < buf.count && buf[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
            obj.reserveCapacity(4)  // one allocation for a JSON-RPC message's members, not three (1, 2, 4)
            while true {
                skipWhitespace()
                guard i < buf.count else { throw error("unexpected end of input, expected a member name") }
                guard buf[i] == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes, found '\(charDescription(i))'") }
                let keyStart = i
                let key = try parseString()
                if obj.count < 16 ? obj[key] != nil : obj.keys.contains(key) {
                    throw error("duplicate member name \"\(key)\"", at: keyStart)
                }
                skipWhitespace()
                guard i < buf.count else { throw error("unexpected end of input, expected ':'") }
                guard buf[i] == UInt8(ascii: ":") else { throw error("expected ':' after member name, found '\(charDescription(i))'") }
                i += 1
                skipWhitespace()
                let v = try parseValue(depth: depth)
                obj.append(key, v)
                skipWhitespace()
                guard i < buf.count else { throw error("unexpected end of input, expected ',' or '}'") }
                if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                if buf[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
                throw error("expected ',' or '}', found '\(charDescription(i))'")
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
            i += 1  // [
            var arr: [JSONValue] = []
            skipWhitespace()
            if i < buf.count && buf[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
            while true {
                skipWhitespace()
                arr.append(try parseValue(depth: depth))
                skipWhitespace()
                guard i < buf.count else { throw error("unexpected end of input, expected ',' or ']'") }
                if buf[i] == UInt8(ascii: ",") { i += 1; continue }
                if buf[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
                throw error("expected ',' or ']', found '\(charDescription(i))'")
            }
        }

        mutating func parseString() throws -> String {
            let open = i
            i += 1  // "
            let start = i
            // fast path: no escapes
            while i < buf.count {
                let b = buf[i]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: buf[start..<i])
                    i += 1
                    return try makeString(slice, at: start)
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw error("control character \\u\(String(b, radix: 16).leftPad(4)) in a string (escape it)") }
                i += 1
            }
            if i >= buf.count { throw error("unterminated string", at: open) }
            var bytes = Array(UnsafeBufferPointer(rebasing: buf[start..<i]))
            while i < buf.count {
                let b = buf[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return try bytes.withUnsafeBufferPointer { try makeString($0, at: start) }
                }
                if b < 0x20 { throw error("control character \\u\(String(b, radix: 16).leftPad(4)) in a string (escape it)") }
                if b != UInt8(ascii: "\\") { bytes.append(b); i += 1; continue }
                let escStart = i
                i += 1
                guard i < buf.count else { break }
                switch buf[i] {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    i += 1
                    var scalar = try hex4(escStart)
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        // high surrogate: needs a low one
                        guard i + 1 < buf.count, buf[i] == UInt8(ascii: "\\"), buf[i + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escStart)
                        }
                        i += 2
                        let low = try hex4(escStart)
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("invalid low surrogate", at: escStart) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("unpaired surrogate \\u\(String(scalar, radix: 16))", at: escStart)
                    }
                    bytes.append(contentsOf: String(Character(UnicodeScalar(scalar)!)).utf8)
                    continue
                default:
                    throw error("invalid escape '\\\(charDescription(i))'", at: escStart)
                }
                i += 1
            }
            throw error("unterminated string", at: open)
        }

        mutating func hex4(_ escStart: Int) throws -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard i < buf.count else { throw error("unexpected end of input in \\u escape") }
                let b = buf[i]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: throw error("invalid \\u escape: '\(charDescription(i))' is not a hex digit")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        /// The member names and values every JSON-RPC message carries, as literals: taking one costs a few byte
        /// comparisons instead of building (and validating) a new String.
        @inline(__always) static func commonName(_ u: UnsafeBufferPointer<UInt8>) -> String? {
            @inline(__always) func eq(_ w: StaticString) -> Bool {
                let p = w.utf8Start
                for k in 0..<u.count where u[k] != p[k] { return false }
                return true
            }
            switch u.count {
            case 2: return eq("id") ? "id" : nil
            case 3: return eq("2.0") ? "2.0" : nil
            case 4: return eq("code") ? "code" : eq("data") ? "data" : nil
            case 5: return eq("error") ? "error" : nil
            case 6: return eq("result") ? "result" : eq("method") ? "method" : eq("params") ? "params" : nil
            case 7: return eq("jsonrpc") ? "jsonrpc" : eq("message") ? "message" : nil
            default: return nil
            }
        }

        func makeString(_ slice: UnsafeBufferPointer<UInt8>, at start: Int) throws -> String {
            if let s = Parser.commonName(slice) { return s }
            // ASCII fast path
            var ascii = true
            for b in slice where b >= 0x80 { ascii = false; break }
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let s = String(validating: slice, as: UTF8.self) else {
                // locate the first invalid byte
                var k = 0
                var it = slice.makeIterator()
                var dec = UTF8()
                var good = 0
                loop: while true {
                    switch dec.decode(&it) {
                    case .scalarValue(let u): good += String(u).utf8.count
                    case .emptyInput: break loop
                    case .error: k = good; break loop
                    }
                }
                throw error("invalid UTF-8 in a string", at: start + k)
            }
            return s
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = i
            var isInt = true
            if buf[i] == UInt8(ascii: "-") { i += 1 }
            guard i < buf.count, isDigit(buf[i]) else {
                throw error(i < buf.count ? "invalid number: expected a digit, found '\(charDescription(i))'" : "unexpected end of input in a number")
            }
            if buf[i] == UInt8(ascii: "0") {
                i += 1
                if i < buf.count, isDigit(buf[i]) { throw error("invalid number: leading zero", at: i - 1) }
            } else {
                while i < buf.count, isDigit(buf[i]) { i += 1 }
            }
            if i < buf.count, buf[i] == UInt8(ascii: ".") {
                isInt = false
                i += 1
                guard i < buf.count, isDigit(buf[i]) else {
                    throw error(i < buf.count ? "invalid number: expected a digit after '.', found '\(charDescription(i))'" : "unexpected end of input in a number")
                }
                while i < buf.count, isDigit(buf[i]) { i += 1 }
            }
            if i < buf.count, buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E") {
                isInt = false
                i += 1
                if i < buf.count, buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-") { i += 1 }
                guard i < buf.count, isDigit(buf[i]) else {
                    throw error(i < buf.count ? "invalid number: expected a digit in the exponent, found '\(charDescription(i))'" : "unexpected end of input in a number")
                }
                while i < buf.count, isDigit(buf[i]) { i += 1 }
            }
            if i < buf.count, isIdentChar(buf[i]) || buf[i] == UInt8(ascii: ".") {
                throw error("invalid number: unexpected '\(charDescription(i))'")
            }
            if isInt {
                // parse Int64 directly
                var neg = false
                var k = start
                if buf[k] == UInt8(ascii: "-") { neg = true; k += 1 }
                var v: Int64 = 0
                var overflow = false
                while k < i {
                    let d = Int64(buf[k] - 0x30)
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (s, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                    if o1 || o2 { overflow = true; break }
                    v = s
                    k += 1
                }
                if !overflow { return .integer(v) }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
            guard let d = Double(text) else { throw error("invalid number", at: start) }
            return .number(d)
        }
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    }
}

extension String {
    func leftPad(_ n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}

enum JSONWriter {
    static func write(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .integer(let i): writeInteger(i, into: &out)
        case .number(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for e in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for m in o.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writePretty(_ v: JSONValue, indent: Int, into out: inout [UInt8]) {
        func newline(_ n: Int) {
            out.append(0x0A)
            for _ in 0..<n { out.append(0x20); out.append(0x20) }
        }
        switch v {
        case .array(let a) where !a.isEmpty:
            out.append(UInt8(ascii: "["))
            for (k, e) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writePretty(e, indent: indent + 1, into: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (k, m) in o.members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(0x20)
                writePretty(m.value, indent: indent + 1, into: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        default:
            write(v, into: &out)
        }
    }

    static func writeInteger(_ i: Int64, into out: inout [UInt8]) {
        if i >= 0 && i < 10 { out.append(UInt8(0x30 + i)); return }
        out.append(contentsOf: String(i).utf8)
    }

    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        // Swift's shortest round-trip form is valid JSON ("4.2", "1e-07", "1e+20", "4.0")
        out.append(contentsOf: d.description.utf8)
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var runStart = 0
            for k in 0..<u.count {
                let b = u[k]
                if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
                if runStart < k { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<k])) }
                runStart = k + 1
                out.append(0x5C)
                switch b {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            if runStart < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}
