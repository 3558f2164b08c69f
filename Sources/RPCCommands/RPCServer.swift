// The responding side (`rpc serve`): built-in methods answered on the event loop, `--exec` for the others.
import Foundation
import NIOCore
import NIOConcurrencyHelpers
import StompProto
import StompConnection

public struct RPCServerOptions: Sendable {
    public var destination: String
    /// Requests handled at once and taken from the broker (prefetch); each is acked after its reply is sent.
    public var concurrency: Int
    /// Stop after this many calls served.
    public var count: Int?
    /// Shell command answering methods that are not built in (request JSON on stdin, reply from stdout).
    public var exec: String?
    public var headers: StompHeaders

    public static let defaultConcurrency = 64

    public init(destination: String, concurrency: Int = RPCServerOptions.defaultConcurrency, count: Int? = nil,
                exec: String? = nil, headers: StompHeaders = [:]) {
        self.destination = destination; self.concurrency = max(1, concurrency); self.count = count; self.exec = exec
        self.headers = headers
    }
}

/// One request served (for the per-call line of `rpc serve`).
public struct RPCServedCall: Sendable {
    public var method: String
    public var correlationID: String?
    /// Nil for a result; the error code for an error reply.
    public var errorCode: Int?
    /// From the request's arrival to the reply's write.
    public var nanoseconds: UInt64
    /// False when the request had no reply-to (nothing was sent back).
    public var replied: Bool
}

public final class RPCServer: @unchecked Sendable {
    public let client: StompClient
    public let options: RPCServerOptions
    public let subscriptionID: String
    public var eventLoop: EventLoop { client.eventLoop }
    /// Completes when `count` calls were served or after `stop()`.
    public var finished: EventLoopFuture<Int> { finishedPromise.futureResult }

    /// Nil: nobody reads the calls served (`rpc serve -q`), none is described.
    private let onServed: (@Sendable (RPCServedCall) -> Void)?
    private let finishedPromise: EventLoopPromise<Int>
    // event-loop state
    private var token: InterceptorToken?
    private var writer: RPCWriter!
    private var served = 0
    private var started = 0
    private var inFlight = 0
    private var stopping = false
    private var unsubscribed = false
    private let servedBox = NIOLockedValueBox(0)
    private let lostConnection = NIOLockedValueBox(false)
    /// True when the server ended because its connection closed for good (not by `stop()` or `count`).
    public var endedByConnectionLoss: Bool { lostConnection.withLockedValue { $0 } }
    public var servedCount: Int { servedBox.withLockedValue { $0 } }

    /// The built-in methods as an OpenRPC description.
    public static let builtins = RPCServiceDescription(title: "stompsh rpc serve", version: "1.0.0", methods: [
        RPCMethodDescriptor(name: "echo", summary: "returns its params",
                            params: [RPCParamDescriptor(name: "values", types: [], required: false)], variadic: true,
                            result: RPCParamDescriptor(name: "params", types: ["array", "object"])),
        RPCMethodDescriptor(name: "add", summary: "sum of numbers (integer if all are integers)",
                            params: [RPCParamDescriptor(name: "numbers", types: ["number"], required: false)], variadic: true,
                            result: RPCParamDescriptor(name: "sum", types: ["number"])),
        RPCMethodDescriptor(name: "sleep", summary: "waits the given milliseconds, then returns them",
                            params: [RPCParamDescriptor(name: "ms", types: ["number"])],
                            result: RPCParamDescriptor(name: "ms", types: ["number"])),
        RPCMethodDescriptor(name: "fail", summary: "returns a JSON-RPC error with the given code and message",
                            params: [RPCParamDescriptor(name: "code", types: ["integer"]),
                                     RPCParamDescriptor(name: "message", types: ["string"], required: false),
                                     RPCParamDescriptor(name: "data", types: [], required: false)]),
        RPCMethodDescriptor(name: "rpc.discover", summary: "this OpenRPC document", params: [],
                            result: RPCParamDescriptor(name: "OpenRPC Schema", types: ["object"])),
    ])

    private init(client: StompClient, options: RPCServerOptions, onServed: (@Sendable (RPCServedCall) -> Void)?) {
        self.client = client
        self.options = options
        self.onServed = onServed
        self.subscriptionID = "stompsh-rpc-serve-" + CorrelationIDGenerator.randomToken(8)
        self.finishedPromise = client.eventLoop.makePromise(of: Int.self)
    }

    /// Subscribes to the service destination (client-individual, prefetch = concurrency) and starts answering;
    /// `onServed` (on the event loop) hears of each call served.
    public static func start(on client: StompClient, options: RPCServerOptions,
                             onServed: (@Sendable (RPCServedCall) -> Void)? = nil) -> EventLoopFuture<RPCServer> {
        let server = RPCServer(client: client, options: options, onServed: onServed)
        let loop = client.eventLoop
        return loop.flatSubmit {
            server.writer = RPCWriter(client: client)
            server.token = client.addInterceptor { [unowned server] frame in server.intercept(frame) }
            // a lost connection ends the server (its unacknowledged requests go to other responders)
            client.closeFuture.whenComplete { _ in
                loop.execute {
                    if !server.stopping { server.lostConnection.withLockedValue { $0 = true } }
                    server.stopping = true
                    server.complete()
                }
            }
            var h = options.headers
            let n = String(options.concurrency)
            let broker = client.connectedInfo.server ?? ""
            if broker.hasPrefix("RabbitMQ") {
                h["prefetch-count"] = n
            } else if broker.hasPrefix("ActiveMQ") {
                h["activemq.prefetchSize"] = n
                // deliver on the sender's thread, not through a dispatch thread: lower latency, fewer wake-ups
                if h["activemq.dispatchAsync"] == nil { h["activemq.dispatchAsync"] = "false" }
            } else {
                h["activemq.prefetchSize"] = n
                h["prefetch-count"] = n
            }
            return client.subscribe(destination: options.destination, id: server.subscriptionID, ack: .clientIndividual,
                                    headers: h, receipt: true)
                .map { _ in server }
                .flatMapErrorThrowing { e in
                    if let t = server.token { client.removeInterceptor(t) }
                    server.writer.close()
                    throw e
                }
        }
    }

    /// Stops taking requests: unsubscribes (unacknowledged requests go back to the broker) and finishes.
    public func stop() -> EventLoopFuture<Int> {
        eventLoop.flatSubmit { [self] in
            finish()
            return finished
        }
    }

    /// Stops taking requests; once the requests in hand are answered and acked, unsubscribes (the broker
    /// redelivers the ones received but not taken) and completes `finished`.
    private func finish() {
        guard !stopping else { return }
        stopping = true
        if inFlight == 0 { unsubscribe() }
    }

    private var completed = false
    private func complete() {
        guard !completed else { return }
        completed = true
        writer?.close()
        finishedPromise.succeed(served)
    }

    private func unsubscribe() {
        guard !unsubscribed else { return }
        unsubscribed = true
        writer?.flush()   // the replies and ACKs queued in this pass go before the UNSUBSCRIBE, or the broker redelivers
        client.unsubscribe(id: subscriptionID).whenComplete { [self] _ in
            if let t = token { client.removeInterceptor(t); token = nil }
            complete()
        }
    }

    private func intercept(_ frame: StompFrame) -> Bool {
        guard frame.headers.value(of: "subscription", is: subscriptionID) else { return false }
        if stopping { return true }     // not acked: redelivered after UNSUBSCRIBE
        if let c = options.count, started >= c { return true }
        started += 1
        handle(frame)
        return true
    }

    private func handle(_ frame: StompFrame) {
        let start = NIODeadline.now().uptimeNanoseconds
        let messageID = Self.ackHeaders(frame, version: writer.version)
        // the reply's headers: its destination and correlation-id copied as bytes from the request's reply-to
        // and correlation-id (no String made; nil: no reply-to, nobody to answer)
        let replyHeaders = Self.replyHeaders(frame.headers)
        inFlight += 1
        let req: RPCRequest
        switch RPCRequest.decode(frame.body) {
        case .failure(let e):
            // a reply needs an id: the request's, else the correlation-id, else null
            let id = e.id ?? frame.headers[RPCHeader.correlationID].map { JSONValue.string($0) } ?? .null
            respond(RPCResponse(outcome: .error(e.error), id: id), method: "?", reply: replyHeaders, request: frame.headers,
                    messageID: messageID, start: start)
            return
        case .success(let r): req = r
        }
        let id = req.id ?? .null
        // no "id": a notification, answered by nobody (it is still acknowledged)
        let answerTo = req.id == nil ? nil : replyHeaders
        let requestHeaders = frame.headers
        // the built-ins that answer at once, without a closure for a later answer
        let now: RPCOutcome?
        switch req.method {
        case "echo": now = .result(req.params ?? .array([]))
        case "add": now = Self.add(req.params)
        case "fail": now = Self.fail(req.params)
        case "rpc.discover": now = .result(Self.builtins.openRPCDocument)
        default: now = nil
        }
        if let now {
            respond(RPCResponse(outcome: now, id: id), method: req.method, reply: answerTo, request: requestHeaders,
                    messageID: messageID, start: start)
            return
        }
        let done: (RPCOutcome) -> Void = { [self] outcome in
            respond(RPCResponse(outcome: outcome, id: id), method: req.method, reply: answerTo, request: requestHeaders,
                    messageID: messageID, start: start)
        }
        switch req.method {
        case "sleep":
            let values = Self.positional(req.params, names: ["ms"])
            guard let ms = values.first?.doubleValue, ms >= 0, ms < 86_400_000 else {
                done(.error(.invalidParams("sleep expects ms: a number of milliseconds")))
                return
            }
            let v = values[0]
            eventLoop.scheduleTask(in: .nanoseconds(Int64(ms * 1e6))) { done(.result(v)) }
        default:
            if let exec = options.exec {
                let loop = eventLoop
                let body = frame.body
                let method = req.method
                RPCExec.queue.async {
                    let outcome = RPCExec.run(exec, method: method, input: body)
                    loop.execute { done(outcome) }
                }
            } else {
                done(.error(.methodNotFound(req.method)))
            }
        }
    }

    /// The headers of the ACK for `frame` (1.2: id = its ack header; 1.1: message-id + subscription; 1.0: message-id).
    static func ackHeaders(_ frame: StompFrame, version: StompVersion) -> StompHeaders? {
        let h = frame.headers
        var a = StompHeaders(minimumCapacity: 2)
        switch version {
        // the ids' bytes copied from the MESSAGE (no String made)
        case .v1_2:
            guard a.append("id", copyingValueOf: "ack", from: h) || a.append("id", copyingValueOf: "message-id", from: h)
            else { return nil }
        case .v1_1:
            guard a.append("message-id", copyingValueOf: "message-id", from: h) else { return nil }
            a.append("subscription", copyingValueOf: "subscription", from: h)
        case .v1_0:
            guard a.append("message-id", copyingValueOf: "message-id", from: h) else { return nil }
        }
        return a
    }

    /// The reply's headers for a request's: destination = its reply-to, its correlation-id if any, content-type
    /// JSON; nil without a reply-to.
    static func replyHeaders(_ request: StompHeaders) -> StompHeaders? {
        var h = StompHeaders(minimumCapacity: 3)
        guard h.append("destination", copyingValueOf: RPCHeader.replyTo, from: request) else { return nil }
        h.append(RPCHeader.correlationID, copyingValueOf: RPCHeader.correlationID, from: request)
        h.append(RPCHeader.contentType, RPCHeader.json)
        return h
    }

    /// Sends the reply (`reply`: its headers, nil: none), then the ACK, in one write (coalesced with the other
    /// replies of this event-loop pass): the broker sees the reply before the ACK, so a request is never
    /// acknowledged unanswered.
    private func respond(_ response: RPCResponse, method: String, reply: StompHeaders?, request: StompHeaders,
                         messageID ack: StompHeaders?, start: UInt64) {
        do {
            if let reply { try writer.appendSend(StompFrame(.send, headers: reply, body: response.encode())) }
            if let ack { try writer.append(StompFrame(.ack, headers: ack)) }
        } catch {
            // cannot encode (e.g. a reply-to with a line feed in STOMP 1.0): leave it unacknowledged
        }
        inFlight -= 1
        served += 1
        servedBox.withLockedValue { $0 += 1 }
        if let onServed {
            let errorCode: Int?
            if case .error(let e) = response.outcome { errorCode = e.code } else { errorCode = nil }
            onServed(RPCServedCall(method: method, correlationID: request[RPCHeader.correlationID], errorCode: errorCode,
                                   nanoseconds: NIODeadline.now().uptimeNanoseconds &- start, replied: reply != nil))
        }
        if let c = options.count, served >= c { finish() }
        if stopping && inFlight == 0 { unsubscribe() }
    }

    // MARK: built-ins

    static func positional(_ params: JSONValue?, names: [String]) -> [JSONValue] {
        switch params {
        case .array(let a)?: return a
        case .object(let o)?: return names.compactMap { o[$0] }
        default: return []
        }
    }

    static func add(_ params: JSONValue?) -> RPCOutcome {
        let values: [JSONValue]
        switch params {
        case .array(let a)?: values = a
        case .object(let o)?: values = o.members.map(\.value)
        default: values = []
        }
        var isum: Int64 = 0
        var dsum: Double = 0
        var allInt = true
        for (k, v) in values.enumerated() {
            switch v {
            case .integer(let i):
                dsum += Double(i)
                if allInt {
                    let (s, o) = isum.addingReportingOverflow(i)
                    if o { allInt = false } else { isum = s }
                }
            case .number(let d): allInt = false; dsum += d
            default: return .error(.invalidParams("add: argument \(k + 1) is \(v.typeName) \(v.compact), not a number"))
            }
        }
        return .result(allInt ? .integer(isum) : .number(dsum))
    }

    static func fail(_ params: JSONValue?) -> RPCOutcome {
        let v = positional(params, names: ["code", "message", "data"])
        guard let code = v.first?.int64Value, let c = Int(exactly: code) else {
            return .error(.invalidParams("fail expects code: integer[, message: string[, data]]"))
        }
        let message = v.count > 1 ? (v[1].stringValue ?? v[1].compact) : "fail"
        let data: JSONValue? = v.count > 2 ? .some(v[2]) : .none
        return .error(RPCErrorObject(code: c, message: message, data: data))
    }
}

/// `--exec COMMAND`: /bin/sh -c COMMAND with the request JSON on stdin.
enum RPCExec {
    static let queue = DispatchQueue(label: "stompsh.rpc.exec", attributes: .concurrent)

    static func run(_ command: String, method: String, input: [UInt8]) -> RPCOutcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        env["RPC_METHOD"] = method
        p.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        do { try p.run() } catch {
            return .error(RPCErrorObject(code: -32000, message: "cannot run --exec command", data: .string("\(error)")))
        }
        let errBox = NIOLockedValueBox(Data())
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let d = stderr.fileHandleForReading.readDataToEndOfFile()
            errBox.withLockedValue { $0 = d }
            errDone.signal()
        }
        DispatchQueue.global().async {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        errDone.wait()
        let err = errBox.withLockedValue { $0 }
        let text = String(decoding: out, as: UTF8.self)
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if p.terminationStatus != 0 {
            let errText = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let data: JSONValue? = !errText.isEmpty ? .some(.string(errText)) : (trimmed.isEmpty ? .none : .some(.string(trimmed)))
            return .error(RPCErrorObject(code: -32000, message: "--exec command exited with status \(p.terminationStatus)",
                                         data: data))
        }
        if let v = try? JSONValue.parse(trimmed) { return .result(v) }
        return .result(.string(trimmed))
    }
}
