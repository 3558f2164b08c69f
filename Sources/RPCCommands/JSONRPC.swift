// JSON-RPC 2.0 messages with the exact stompsh wire format (docs/rpc.md):
//   request  {"jsonrpc":"2.0","method":"M","params":P,"id":"ID"}
//   result   {"jsonrpc":"2.0","result":R,"id":"ID"}
//   error    {"jsonrpc":"2.0","error":{"code":C,"message":"...","data":...},"id":"ID"}
// STOMP headers: request `reply-to`, `correlation-id`, `content-type:application/json`;
// reply `correlation-id`, `content-type:application/json`.

public enum RPCHeader {
    public static let replyTo = "reply-to"
    public static let correlationID = "correlation-id"
    public static let contentType = "content-type"
    public static let json = "application/json"
}

/// A JSON-RPC error object. Also thrown by built-in methods to produce an error reply.
public struct RPCErrorObject: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?
    public init(code: Int, message: String, data: JSONValue? = nil) { self.code = code; self.message = message; self.data = data }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    public static func parseError(_ detail: String) -> RPCErrorObject { .init(code: parseErrorCode, message: "Parse error", data: .string(detail)) }
    public static func invalidRequest(_ detail: String) -> RPCErrorObject { .init(code: invalidRequestCode, message: "Invalid Request", data: .string(detail)) }
    public static func methodNotFound(_ method: String) -> RPCErrorObject { .init(code: methodNotFoundCode, message: "Method not found", data: .string(method)) }
    public static func invalidParams(_ detail: String) -> RPCErrorObject { .init(code: invalidParamsCode, message: "Invalid params", data: .string(detail)) }

    public var json: JSONValue {
        var o: JSONObject = ["code": .integer(Int64(code)), "message": .string(message)]
        if let d = data { o.append("data", d) }
        return .object(o)
    }
    public init?(json: JSONValue) {
        guard case .object(let o) = json, let c = o["code"]?.int64Value, let m = o["message"]?.stringValue else { return nil }
        self.init(code: Int(c), message: m, data: o["data"])
    }
    public var description: String {
        "error \(code): \(message)" + (data.map { " (\($0.compact))" } ?? "")
    }
}

public struct RPCRequest: Sendable, Equatable {
    public var method: String
    /// Array or object; nil when the member is absent (treated as []).
    public var params: JSONValue?
    /// Nil when absent (a notification: no reply). Normally a string equal to the correlation-id.
    public var id: JSONValue?
    public init(method: String, params: JSONValue?, id: JSONValue?) { self.method = method; self.params = params; self.id = id }

    /// Wire bytes, members in the fixed order jsonrpc, method, params, id.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + method.utf8.count)
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.writeString(method, into: &out)
        out.append(contentsOf: #","params":"#.utf8)
        JSONWriter.write(params ?? .array([]), into: &out)
        if let id {
            out.append(contentsOf: #","id":"#.utf8)
            JSONWriter.write(id, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Decodes a request body. Errors are the JSON-RPC error to reply with (-32700 or -32600),
    /// with the id found (if any) so the reply can carry it.
    public static func decode(_ body: [UInt8]) -> Result<RPCRequest, RPCRequestDecodeError> {
        // the layout every JSON-RPC peer here writes (`encode`): its members read without an object
        if let m = body.withUnsafeBufferPointer({ JSONParser.compactMembers($0, names: compactNames) }),
           case .string("2.0") = m[0], case .string(let method) = m[1] {
            switch (m[2], m[3]) {
            case (.array, .string), (.object, .string), (.array, .integer), (.object, .integer), (.array, .null),
                 (.object, .null), (.array, .number), (.object, .number):
                return .success(RPCRequest(method: method, params: m[2], id: m[3]))
            default: break   // the full decode names the fault
            }
        }
        let v: JSONValue
        do { v = try JSONValue.parse(bytes: body) } catch {
            return .failure(.init(error: .parseError("\(error)"), id: nil))
        }
        guard case .object(let o) = v else {
            return .failure(.init(error: .invalidRequest("the request must be a JSON object, not \(v.typeName)"), id: nil))
        }
        // one pass over the members (names are unique: the parser rejects duplicates)
        var id: JSONValue?, version: JSONValue?, methodValue: JSONValue?, params: JSONValue?
        for m in o.members {
            switch m.key {
            case "id": id = m.value
            case "jsonrpc": version = m.value
            case "method": methodValue = m.value
            case "params": params = m.value
            default: break
            }
        }
        if let id {
            switch id {
            case .string, .integer, .number, .null: break
            default: return .failure(.init(error: .invalidRequest("id must be a string, number or null"), id: nil))
            }
        }
        guard case .string("2.0")? = version else {
            return .failure(.init(error: .invalidRequest(#"member "jsonrpc" must be "2.0""#), id: id))
        }
        guard case .string(let method)? = methodValue else {
            return .failure(.init(error: .invalidRequest(#"member "method" must be a string"#), id: id))
        }
        if let p = params {
            switch p {
            case .array, .object: break
            default: return .failure(.init(error: .invalidRequest(#"member "params" must be an array or an object"#), id: id))
            }
        }
        return .success(RPCRequest(method: method, params: params, id: id))
    }
}

extension RPCRequest {
    /// The members of a request in `encode`'s order.
    static let compactNames: [StaticString] = ["jsonrpc", "method", "params", "id"]
}

public struct RPCRequestDecodeError: Error, Sendable, Equatable {
    public var error: RPCErrorObject
    public var id: JSONValue?
}

public enum RPCOutcome: Sendable, Equatable {
    case result(JSONValue)
    case error(RPCErrorObject)
}

public struct RPCResponse: Sendable, Equatable {
    public var outcome: RPCOutcome
    public var id: JSONValue
    public init(outcome: RPCOutcome, id: JSONValue) { self.outcome = outcome; self.id = id }

    /// Wire bytes, members in the fixed order jsonrpc, result|error, id.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        switch outcome {
        case .result(let r):
            out.append(contentsOf: Self.resultOpening)
            JSONWriter.write(r, into: &out)
        case .error(let e):
            out.append(contentsOf: #"{"jsonrpc":"2.0","error":{"code":"#.utf8)
            JSONWriter.writeInteger(Int64(e.code), into: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONWriter.writeString(e.message, into: &out)
            if let d = e.data {
                out.append(contentsOf: #","data":"#.utf8)
                JSONWriter.write(d, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: Self.idMember)
        JSONWriter.write(id, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
    private static let resultOpening: [UInt8] = Array(#"{"jsonrpc":"2.0","result":"#.utf8)
    private static let idMember: [UInt8] = Array(#","id":"#.utf8)

    /// The members of a result reply in `encode`'s order.
    static let compactResultNames: [StaticString] = ["jsonrpc", "result", "id"]

    /// `decode(body).outcome`, for the caller's per-reply path: the same replies accepted and the same errors, but a
    /// result in `encode`'s layout is read without making its "2.0" or its id (a reply's id is the caller's
    /// correlation id, which the STOMP header already matched).
    static func decodeOutcome(_ body: [UInt8]) throws -> RPCOutcome {
        if let r = body.withUnsafeBufferPointer({ JSONParser.compactResult($0) }) { return .result(r) }
        return try decode(body).outcome
    }

    /// Strict decode of a reply body.
    public static func decode(_ body: [UInt8]) throws -> RPCResponse {
        // a result in the layout every JSON-RPC peer here writes (`encode`): its members read without an object
        if let m = body.withUnsafeBufferPointer({ JSONParser.compactMembers($0, names: compactResultNames) }),
           case .string("2.0") = m[0] {
            return RPCResponse(outcome: .result(m[1]), id: m[2])
        }
        let v: JSONValue
        do { v = try JSONValue.parse(bytes: body) } catch {
            throw RPCProtocolError("reply is not valid JSON: \(error)")
        }
        guard case .object(let o) = v else { throw RPCProtocolError("reply is not a JSON object") }
        var version: JSONValue?, idValue: JSONValue?, result: JSONValue?, error: JSONValue?
        for m in o.members {   // one pass (names are unique: the parser rejects duplicates)
            switch m.key {
            case "jsonrpc": version = m.value
            case "id": idValue = m.value
            case "result": result = m.value
            case "error": error = m.value
            default: break
            }
        }
        guard case .string("2.0")? = version else { throw RPCProtocolError(#"reply lacks "jsonrpc":"2.0""#) }
        let id = idValue ?? .null
        switch (result, error) {
        case (let r?, nil): return RPCResponse(outcome: .result(r), id: id)
        case (nil, let e?):
            guard let err = RPCErrorObject(json: e) else { throw RPCProtocolError("reply's error member is not {code, message}") }
            return RPCResponse(outcome: .error(err), id: id)
        case (nil, nil): throw RPCProtocolError("reply has neither result nor error")
        default: throw RPCProtocolError("reply has both result and error")
        }
    }
}

public struct RPCProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Correlation ids: a random per-client prefix and a counter ("k3J9x2-17"), unique per session.
public struct CorrelationIDGenerator: Sendable {
    public let prefix: String
    private var next: UInt64 = 1
    public init(prefix: String = CorrelationIDGenerator.randomToken(8)) { self.prefix = prefix + "-" }
    public mutating func make() -> String { makeNumbered().id }
    public func owns(_ id: String) -> Bool { id.hasPrefix(prefix) }

    /// The next id and its counter: `prefix + String(number)`.
    public mutating func makeNumbered() -> (number: UInt64, id: String) {
        let n = nextNumber()
        return (n, id(n))
    }

    /// The next counter, without its id string (`appendID` writes the id's bytes).
    public mutating func nextNumber() -> UInt64 {
        defer { next &+= 1 }
        return next
    }

    /// The id of counter `n`: `prefix + String(n)`.
    public func id(_ n: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(prefix.utf8.count + 20)
        appendID(n, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the bytes of `id(n)` to `out`.
    public func appendID(_ n: UInt64, to out: inout [UInt8]) {
        var p = prefix
        p.withUTF8 { out.append(contentsOf: $0) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: room for UInt64.max's 20 digits
        withUnsafeMutableBytes(of: &digits) { d in
            var k = d.count, v = n
            repeat {
                k -= 1
                d[k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[k...]))
        }
    }

    /// The counter of an id this generator made (`number(of: make())` is its counter), else nil: the id must be
    /// the prefix and the decimal digits `String(n)` writes (no sign, no leading zero, no overflow), so that one
    /// number stands for exactly one id string.
    public func number(of id: String) -> UInt64? {
        let (owned, n) = classify(id)
        return owned ? n : nil
    }

    /// `owns(id)` and `number(of: id)` in one look at the bytes.
    public func classify(_ id: String) -> (owned: Bool, number: UInt64?) {
        var id = id
        return id.withUTF8 { classify(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// `classify` of an id's UTF-8 bytes (a header value read without a String).
    public func classify(bytes u: UnsafeRawBufferPointer) -> (owned: Bool, number: UInt64?) {
        var prefix = prefix
        return prefix.withUTF8 { p -> (owned: Bool, number: UInt64?) in
            guard u.count >= p.count else { return (false, nil) }
            for k in 0..<p.count where u[k] != p[k] { return (false, nil) }
            return (true, Self.digits(UnsafeRawBufferPointer(rebasing: u[p.count...])))
        }
    }

    /// The value of `String(n)`'s digits, else nil (empty, a sign, a leading zero, another byte, overflow).
    private static func digits(_ u: UnsafeRawBufferPointer) -> UInt64? {
        guard !u.isEmpty, u.count <= 20, u[0] != UInt8(ascii: "0") else { return nil }
        var n: UInt64 = 0
        for c in u {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(c &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            n = s
        }
        return n
    }

    public static func randomToken(_ n: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var g = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in alphabet[Int(g.next(upperBound: UInt64(alphabet.count)))] })
    }
}
