// OpenRPC service description (what `rpc.discover` returns), the parts stompsh uses:
// methods, their params (name, JSON-schema type, required) and argument checking before a call is sent.

public struct RPCParamDescriptor: Sendable, Equatable {
    public var name: String
    /// JSON-schema `type` names ("integer", "number", "string", "boolean", "null", "array", "object");
    /// empty = any type.
    public var types: [String]
    public var required: Bool
    public var summary: String?
    public init(name: String, types: [String], required: Bool = true, summary: String? = nil) {
        self.name = name; self.types = types; self.required = required; self.summary = summary
    }
    public var typeText: String { types.isEmpty ? "any" : types.joined(separator: "|") }

    /// Does `value` satisfy the schema type? "number" accepts integers; "integer" accepts integral numbers.
    public func accepts(_ value: JSONValue) -> Bool {
        if types.isEmpty { return true }
        for t in types {
            switch (t, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
                 ("integer", .integer), ("number", .integer), ("number", .number):
                return true
            case ("integer", .number(let d)) where d.rounded() == d:
                return true
            default: continue
            }
        }
        return false
    }

    var schemaJSON: JSONValue {
        if types.isEmpty { return .object([:]) }
        if types.count == 1 { return .object(["type": .string(types[0])]) }
        return .object(["type": .array(types.map { .string($0) })])
    }
}

public struct RPCMethodDescriptor: Sendable, Equatable {
    public var name: String
    public var summary: String?
    public var params: [RPCParamDescriptor]
    /// stompsh extension `x-variadic`: the last param repeats (by position), and by name it stands for any name
    /// the others do not have.
    public var variadic: Bool
    /// OpenRPC paramStructure: "by-position", "by-name" or "either" (default).
    public var paramStructure: String
    public var result: RPCParamDescriptor?

    public init(name: String, summary: String? = nil, params: [RPCParamDescriptor], variadic: Bool = false,
                paramStructure: String = "either", result: RPCParamDescriptor? = nil) {
        self.name = name; self.summary = summary; self.params = params; self.variadic = variadic
        self.paramStructure = paramStructure; self.result = result
    }

    /// "add(numbers: number...) -> number"
    public var signature: String {
        var parts: [String] = []
        for (k, p) in params.enumerated() {
            var s = "\(p.name): \(p.typeText)"
            if variadic && k == params.count - 1 { s += "..." }
            if !p.required && !(variadic && k == params.count - 1) { s = "[" + s + "]" }
            parts.append(s)
        }
        var sig = "\(name)(\(parts.joined(separator: ", ")))"
        if let r = result { sig += " -> \(r.typeText)" }
        return sig
    }

    /// Checks params (array or object) against the description. Throws RPCUsageError naming the parameter,
    /// the expected type and the given value; `columns` place the error in the command line.
    public func check(_ call: RPCCallParams) throws {
        switch call.params {
        case .array(let values):
            if paramStructure == "by-name" {
                throw RPCUsageError("\(name) takes its parameters by name (NAME=VALUE)", column: call.positionalColumns.first)
            }
            let fixed = variadic ? max(params.count - 1, 0) : params.count
            if !variadic && values.count > params.count {
                throw RPCUsageError("too many arguments for \(signature): expected at most \(params.count), given \(values.count)",
                                    column: call.column(forParameter: "", index: params.count))
            }
            for (k, v) in values.enumerated() {
                let p = k < fixed ? params[k] : params[params.count - 1]
                if !p.accepts(v) {
                    throw RPCUsageError("parameter \(p.name) of \(name) expects \(p.typeText), given \(v.typeName) \(v.compact)",
                                        column: call.column(forParameter: "", index: k))
                }
            }
            let requiredCount = params.prefix(fixed).lastIndex(where: { $0.required }).map { $0 + 1 } ?? 0
            if values.count < requiredCount {
                let missing = params[values.count]
                throw RPCUsageError("missing argument \(missing.name) (\(missing.typeText)) for \(signature)", column: nil)
            }
        case .object(let o):
            if paramStructure == "by-position" {
                throw RPCUsageError("\(name) takes its parameters by position", column: call.namedColumns.values.min())
            }
            // A variadic method's last parameter takes whatever the fixed ones do not: the schema names no other
            // parameter, but it does not forbid them (`rpc serve`'s echo returns any object it is given). Their
            // values are checked against the variadic parameter's type.
            let rest = variadic ? params.last : nil
            for m in o.members {
                guard let p = params.first(where: { $0.name == m.key }) ?? rest else {
                    let known = params.map(\.name).joined(separator: ", ")
                    throw RPCUsageError("\(name) has no parameter \(m.key) (parameters: \(known.isEmpty ? "none" : known))",
                                        column: call.namedColumns[m.key])
                }
                if !p.accepts(m.value) {
                    throw RPCUsageError("parameter \(p.name) of \(name) expects \(p.typeText), given \(m.value.typeName) \(m.value.compact)",
                                        column: call.namedColumns[m.key])
                }
            }
            for p in params where p.required && o[p.name] == nil {
                throw RPCUsageError("missing argument \(p.name) (\(p.typeText)) for \(signature)", column: nil)
            }
        default:
            throw RPCUsageError("params must be an array or an object")
        }
    }

    var json: JSONValue {
        var o: JSONObject = ["name": .string(name)]
        if let s = summary { o.append("summary", .string(s)) }
        o.append("params", .array(params.map { p in
            var po: JSONObject = ["name": .string(p.name)]
            if let s = p.summary { po.append("summary", .string(s)) }
            po.append("required", .bool(p.required))
            po.append("schema", p.schemaJSON)
            return .object(po)
        }))
        if let r = result { o.append("result", .object(["name": .string(r.name), "schema": r.schemaJSON])) }
        if paramStructure != "either" { o.append("paramStructure", .string(paramStructure)) }
        if variadic { o.append("x-variadic", .bool(true)) }
        return .object(o)
    }
}

public struct RPCServiceDescription: Sendable, Equatable {
    public var title: String
    public var version: String
    public var methods: [RPCMethodDescriptor]

    public init(title: String, version: String, methods: [RPCMethodDescriptor]) {
        self.title = title; self.version = version; self.methods = methods
    }

    public func method(named name: String) -> RPCMethodDescriptor? { methods.first { $0.name == name } }

    /// The OpenRPC document.
    public var openRPCDocument: JSONValue {
        .object([
            "openrpc": "1.2.6",
            "info": .object(["title": .string(title), "version": .string(version)]),
            "methods": .array(methods.map(\.json)),
        ])
    }

    /// Reads an OpenRPC document (as returned by rpc.discover). Unknown members are ignored;
    /// `$ref` schemas and schemas without `type` count as "any".
    public init(openRPC doc: JSONValue) throws {
        guard case .object(let o) = doc else { throw RPCProtocolError("OpenRPC document is not an object") }
        guard case .array(let ms)? = o["methods"] else { throw RPCProtocolError(#"OpenRPC document has no "methods" array"#) }
        title = o["info"]?["title"]?.stringValue ?? ""
        version = o["info"]?["version"]?.stringValue ?? ""
        methods = []
        for m in ms {
            guard let name = m["name"]?.stringValue else { throw RPCProtocolError("OpenRPC method without a name") }
            var params: [RPCParamDescriptor] = []
            for p in m["params"]?.arrayValue ?? [] {
                guard let pn = p["name"]?.stringValue else { throw RPCProtocolError("OpenRPC param of \(name) without a name") }
                params.append(RPCParamDescriptor(name: pn, types: Self.types(p["schema"]),
                                                 required: p["required"]?.boolValue ?? false, summary: p["summary"]?.stringValue))
            }
            let result = m["result"].map { r in RPCParamDescriptor(name: r["name"]?.stringValue ?? "result", types: Self.types(r["schema"])) }
            methods.append(RPCMethodDescriptor(name: name, summary: m["summary"]?.stringValue, params: params,
                                               variadic: m["x-variadic"]?.boolValue ?? false,
                                               paramStructure: m["paramStructure"]?.stringValue ?? "either", result: result))
        }
    }

    static func types(_ schema: JSONValue?) -> [String] {
        switch schema?["type"] {
        case .string(let t)?: return [t]
        case .array(let ts)?: return ts.compactMap(\.stringValue)
        default: return []
        }
    }
}

/// What `rpc discover` learnt, per service destination, for the session (completion, hints, checks).
public final class RPCMethodRegistry: @unchecked Sendable {
    private var services: [String: RPCServiceDescription] = [:]
    private let lock = RPCLock()
    public init() {}
    public func register(_ d: RPCServiceDescription, for destination: String) { lock.withLock { services[destination] = d } }
    public func description(for destination: String) -> RPCServiceDescription? { lock.withLock { services[destination] } }
    public var destinations: [String] { lock.withLock { services.keys.sorted() } }
    public func method(_ name: String, at destination: String) -> RPCMethodDescriptor? { description(for: destination)?.method(named: name) }
    /// All method names known (any destination), sorted.
    public var allMethodNames: [String] { lock.withLock { Set(services.values.flatMap { $0.methods.map(\.name) }).sorted() } }
}
