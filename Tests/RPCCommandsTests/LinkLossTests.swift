// RPC calls in flight when their connection is lost, whichever way: they fail at once naming the cause (not at
// their timeout), with or without a reconnect; `rpc bench` ends with the error instead of waiting or spinning.
// Against a peer that hangs up mid-call (FIN, ERROR then close, RST), the sandbox (link dropped) and RabbitMQ
// (STOMP 1.0 closes the connection on a header value with a backslash).
import Foundation
import StompTestSupport
import XCTest
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import StompProto
import StompConnection
import StompBench
@testable import RPCCommands

/// A STOMP peer on loopback: answers CONNECT and receipts, answers the first `answered` RPC requests of each
/// connection (result 1), holds the next `held` unanswered (calls in flight), then hangs up `how`. Every
/// connection starts over (a reconnect finds a working responder again).
final class HangingUpResponder: @unchecked Sendable {
    enum HangUp: Sendable, CaseIterable { case close, errorThenClose, reset }
    static let errorMessage = "rpc link-loss test: the broker gives up"
    private let channel: Channel
    private let hangUpCount = NIOLockedValueBox(0)

    init(answered: Int, held: Int, how: HangUp, group: EventLoopGroup) throws {
        let count = hangUpCount
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(Handler(answered: answered, held: held, how: how) {
                        count.withLockedValue { $0 += 1 }
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    deinit { try? channel.close().wait() }

    var url: String { "stomp://127.0.0.1:\(channel.localAddress!.port!)" }
    /// Connections hung up so far.
    var hangUps: Int { hangUpCount.withLockedValue { $0 } }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answered: Int, held: Int, how: HangUp
        let hungUp: () -> Void
        var decoder = FrameDecoder(version: .v1_0)
        let encoder = FrameEncoder(version: .v1_2)
        var requests = 0
        var subscriptions: [String: String] = [:]
        var done = false

        init(answered: Int, held: Int, how: HangUp, hungUp: @escaping () -> Void) {
            self.answered = answered; self.held = held; self.how = how; self.hungUp = hungUp
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            decoder.append(Array(unwrapInboundIn(data).readableBytesView))
            while !done, case .frame(let f)? = try? decoder.next() { handle(f, context) }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

        private func send(_ f: StompFrame, _ context: ChannelHandlerContext) {
            guard let bytes = try? encoder.encode(f) else { return }
            var b = context.channel.allocator.buffer(capacity: bytes.count)
            b.writeBytes(bytes)
            context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        }

        private func handle(_ f: StompFrame, _ context: ChannelHandlerContext) {
            switch f.command {
            case .connect, .stomp:
                decoder.version = .v1_2
                send(StompFrame(.connected, headers: ["version": "1.2", "server": "HangingUp/1", "heart-beat": "0,0"]), context)
                return
            case .subscribe:
                if let d = f.headers["destination"] { subscriptions[d] = f.headers["id"] ?? "0" }
            case .disconnect:
                if let r = f.headers["receipt"] { send(StompFrame(.receipt, headers: ["receipt-id": r]), context) }
                context.close(promise: nil)
                return
            case .send:
                guard let replyTo = f.headers["reply-to"], let cid = f.headers["correlation-id"] else { break }
                requests += 1
                if requests <= answered {
                    let h: StompHeaders = ["destination": replyTo, "subscription": subscriptions[replyTo] ?? "0",
                                           "message-id": "m-\(requests)", "correlation-id": cid,
                                           "content-type": "application/json"]
                    send(StompFrame(.message, headers: h, body: #"{"jsonrpc":"2.0","result":1,"id":"\#(cid)"}"#), context)
                } else if requests == answered + held {
                    hangUp(context)
                    return
                }
            default:
                break
            }
            if let r = f.headers["receipt"] { send(StompFrame(.receipt, headers: ["receipt-id": r]), context) }
        }

        private func hangUp(_ context: ChannelHandlerContext) {
            done = true
            hungUp()
            switch how {
            case .close:
                context.close(promise: nil)
            case .errorThenClose:
                send(StompFrame(.error, headers: ["message": HangingUpResponder.errorMessage]), context)
                context.close(promise: nil)
            case .reset:
                let channel = context.channel
                (channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    .whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

final class RPCLinkLossTests: BrokerTestCase {
    /// The result of `f` if it completes within `seconds`, else a test failure (nil).
    func within<T>(_ seconds: Double, _ f: EventLoopFuture<T>, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) -> Result<T, Error>? {
        let done = DispatchSemaphore(value: 0)
        let box = NIOLockedValueBox<Result<T, Error>?>(nil)
        f.whenComplete { r in box.withLockedValue { $0 = r }; done.signal() }
        guard done.wait(timeout: .now() + seconds) == .success else {
            XCTFail("\(what): still waiting after \(seconds) s", file: file, line: line)
            return nil
        }
        return box.withLockedValue { $0 }
    }

    func connectTo(_ url: String, reconnect: Bool, versions: [StompVersion]? = nil) throws -> StompClient {
        var o = ConnectionOptions(urls: try StompURL.parseList(url))
        o.login = "guest"; o.passcode = "guest"
        o.heartBeat = HeartBeat(0, 0)
        if let versions { o.versions = versions }
        o.reconnect = reconnect ? ReconnectPolicy(maxAttempts: 50, initialDelay: .milliseconds(100)) : ReconnectPolicy(maxAttempts: 0)
        let c = try StompClient.connect(o, on: Self.group) { _ in }.wait()
        clients.append(c)
        return c
    }

    /// The calls' errors, each within 5 s of the hang-up (their timeout is 60 s).
    func failures(_ calls: [EventLoopFuture<RPCCallResult>], file: StaticString = #filePath, line: UInt = #line) -> [RPCCallError] {
        calls.compactMap { f in
            guard let r = within(5, f, "a call in flight", file: file, line: line) else { return nil }
            guard case .failure(let e) = r, let rpcError = e as? RPCCallError else {
                XCTFail("expected the call to fail, got \(r)", file: file, line: line)
                return nil
            }
            return rpcError
        }
    }

    /// Three calls in flight when the peer hangs up (FIN, ERROR then close, RST; reconnecting or not): each fails
    /// at once with `.connectionLost` naming the cause. Reconnecting, the client serves calls again on the new
    /// link; not reconnecting (or after an ERROR, which is not reconnected), it is closed.
    func hangUp(_ how: HangingUpResponder.HangUp, reconnect: Bool) throws {
        let peer = try HangingUpResponder(answered: 1, held: 3, how: how, group: Self.group)
        let cc = try connectTo(peer.url, reconnect: reconnect)
        let rpc = try RPCClient.start(on: cc, replyTo: "/queue/rpc-linkloss-replies").wait()
        XCTAssertEqual(try rpc.call(destination: "/queue/x", method: "first", params: [], timeout: .seconds(10)).wait().outcome,
                       .result(1))
        let calls = (0..<3).map { _ in rpc.call(destination: "/queue/x", method: "held", params: [], timeout: .seconds(60)) }
        let errors = failures(calls)
        XCTAssertEqual(errors.count, 3)
        for e in errors {
            guard case .connectionLost(let method, let reason) = e else { XCTFail("\(how): \(e)"); continue }
            XCTAssertEqual(method, "held")
            switch how {
            case .close, .reset: XCTAssertTrue(reason.contains("broker closed the connection"), "\(how): \(reason)")
            case .errorThenClose: XCTAssertTrue(reason.contains(HangingUpResponder.errorMessage), reason)
            }
            XCTAssertTrue(e.description.hasPrefix("rpc held: connection lost"), e.description)
        }
        XCTAssertEqual(peer.hangUps, 1)
        XCTAssertEqual(try rpc.eventLoop.submit { rpc.inFlight }.wait(), 0)
        XCTAssertEqual(rpc.counterSnapshot.timeouts, 0)
        // an ERROR the broker closed on ends the connection for good (the client does not reconnect after it)
        if reconnect, how != .errorThenClose {
            let deadline = Date().addingTimeInterval(10)
            while cc.state != .connected, Date() < deadline { usleep(20_000) }
            let again = rpc.call(destination: "/queue/x", method: "again", params: [], timeout: .seconds(10))
            XCTAssertEqual(try again.wait().outcome, .result(1), "served again once reconnected")
        } else {
            XCTAssertThrowsError(try rpc.call(destination: "/queue/x", method: "after", params: [], timeout: .seconds(10)).wait()) { e in
                XCTAssertEqual(e as? RPCCallError, .closed)
            }
        }
    }

    func testCallsInFlightFailAtOnceWhenThePeerClosesReconnecting() throws { try hangUp(.close, reconnect: true) }
    func testCallsInFlightFailAtOnceWhenThePeerClosesNotReconnecting() throws { try hangUp(.close, reconnect: false) }
    func testCallsInFlightFailAtOnceOnAnErrorThenCloseReconnecting() throws { try hangUp(.errorThenClose, reconnect: true) }
    func testCallsInFlightFailAtOnceOnAnErrorThenCloseNotReconnecting() throws { try hangUp(.errorThenClose, reconnect: false) }
    func testCallsInFlightFailAtOnceOnAResetReconnecting() throws { try hangUp(.reset, reconnect: true) }
    func testCallsInFlightFailAtOnceOnAResetNotReconnecting() throws { try hangUp(.reset, reconnect: false) }

    /// `rpc bench`, 4 in flight, the peer hanging up after 20 answers: the bench ends at once with the 4 calls in
    /// flight as errors naming the loss and starts no more (not 1,000 calls, not a wait for their timeouts).
    func benchHangUp(reconnect: Bool) throws {
        let peer = try HangingUpResponder(answered: 20, held: 4, how: .close, group: Self.group)
        let cc = try connectTo(peer.url, reconnect: reconnect)
        let rpc = try RPCClient.start(on: cc, replyTo: "/queue/rpc-linkloss-bench").wait()
        let run = RPCBench.run(rpc, options: RPCBenchOptions(destination: "/queue/x", method: "echo", calls: 1000,
                                                             concurrency: 4, timeout: .seconds(60)))
        guard let r = try within(10, run, "rpc bench")?.get() else { return }
        XCTAssertEqual(r.ok, 20)
        XCTAssertEqual(r.errors, 4)
        XCTAssertEqual(r.timeouts, 0)
        XCTAssertEqual(r.calls, 24)
        XCTAssertTrue(r.firstError?.contains("connection lost before the reply: broker closed the connection") ?? false,
                      r.firstError ?? "no error")
    }

    func testBenchEndsWithTheLossWhenThePeerClosesReconnecting() throws { try benchHangUp(reconnect: true) }
    func testBenchEndsWithTheLossWhenThePeerClosesNotReconnecting() throws { try benchHangUp(reconnect: false) }

    /// A broker that goes silent (heart-beats agreed, then nothing): the client gives the link up at its
    /// heart-beat deadline and the calls in flight fail then, naming the silence, not at their 60 s timeout.
    func testCallsInFlightFailWhenTheBrokerGoesSilent() throws {
        let peer = try FaultyPeer(.stopHeartBeating(every: 100), group: Self.group)
        var o = ConnectionOptions(urls: try StompURL.parseList(peer.url))
        o.heartBeat = HeartBeat(100, 100)
        o.reconnect = ReconnectPolicy(maxAttempts: 0)
        let cc = try StompClient.connect(o, on: Self.group) { _ in }.wait()
        clients.append(cc)
        // the SUBSCRIBE of the reply destination is the peer's trigger: answered, then silence
        let rpc = try RPCClient.start(on: cc, replyTo: "/queue/rpc-linkloss-silent").wait()
        let started = Date()
        let calls = (0..<2).map { _ in rpc.call(destination: "/queue/x", method: "quiet", params: [], timeout: .seconds(60)) }
        for e in failures(calls) {
            guard case .connectionLost(let method, let reason) = e else { XCTFail("\(e)"); continue }
            XCTAssertEqual(method, "quiet")
            XCTAssertTrue(reason.contains("broker went silent"), reason)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    /// The sandbox: the link dropped under calls in flight (as a network failure would); they fail at once, and
    /// once reconnected (the reply subscription restored) calls are served again.
    func testCallsInFlightFailAtOnceWhenTheLinkDropsSandbox() throws {
        let sc = try connect(.sandbox)
        let dest = queue("linkloss")
        let server = try RPCServer.start(on: sc, options: RPCServerOptions(destination: dest)).wait()
        let cc = try connectTo(try brokerURL(.sandbox), reconnect: true)
        let rpc = try RPCClient.start(on: cc, replyTo: queue("linkloss-replies")).wait()
        let calls = (0..<3).map { _ in rpc.call(destination: queue("nobody"), method: "slow", params: [], timeout: .seconds(60)) }
        _ = try rpc.eventLoop.submit { }.wait()   // the requests are out
        _ = try cc.dropConnection().wait()
        let errors = failures(calls)
        XCTAssertEqual(errors, Array(repeating: .connectionLost(method: "slow", reason: "connection dropped on request"), count: 3))
        let deadline = Date().addingTimeInterval(10)
        while cc.state != .connected, Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try rpc.call(destination: dest, method: "echo", params: ["back"], timeout: .seconds(10)).wait().outcome,
                       .result(["back"]))
        _ = try server.stop().wait()
        _ = try rpc.close().wait()
    }

    /// RabbitMQ, STOMP 1.0: a header value with a backslash makes the broker close the connection (no ERROR). The
    /// call fails at once naming that, not after its 30 s timeout, reconnecting or not.
    func rabbitMQBackslash(reconnect: Bool) throws {
        let cc = try connectTo(try brokerURL(.rabbitmq), reconnect: reconnect, versions: [.v1_0])
        XCTAssertEqual(cc.connectedInfo.version, .v1_0)
        let rpc = try RPCClient.start(on: cc).wait()
        let started = Date()
        let call = rpc.call(destination: queue("backslash"), method: "echo", params: [], headers: ["x-rpc-test": "b\\x"],
                            timeout: .seconds(30))
        guard case .failure(let e)? = within(10, call, "the call") else { return XCTFail("the call did not fail") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        guard case .connectionLost(let method, let reason)? = e as? RPCCallError else { return XCTFail("\(e)") }
        XCTAssertEqual(method, "echo")
        XCTAssertTrue(reason.contains("broker closed the connection"), reason)
    }

    func testCallFailsAtOnceWhenRabbitMQ10ClosesOnABackslashReconnecting() throws { try rabbitMQBackslash(reconnect: true) }
    func testCallFailsAtOnceWhenRabbitMQ10ClosesOnABackslashNotReconnecting() throws { try rabbitMQBackslash(reconnect: false) }

    /// The command: `rpc bench` with 4 calls in flight on RabbitMQ 1.0 with a backslash header ends at once with
    /// exit 1 and the loss named (it waited 4 × 25 × the timeout before: 100 timeouts).
    func testRPCBenchCommandEndsAtOnceWhenRabbitMQ10ClosesOnABackslash() throws {
        let url = try brokerURL(.rabbitmq)
        let started = Date()
        let r = try runToEnd(StompshBinary.path, [url, "--stomp-version", "1.0", "-c",
                                                   "rpc bench \(queue("backslash-bench")) echo 1 -H x-a:b\\x -n 100 -c 4 --timeout 20"],
                             timeout: 60)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, r.stderr)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("rpc bench: 4 errors and 0 timeouts in 4 calls (first: rpc echo: connection lost before the reply: broker closed the connection)"),
                      r.stdout + r.stderr)
    }
}
