// A STOMP server for tests that misbehaves on purpose, on loopback, built on StompProto's decoder and encoder.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import StompProto

/// A small STOMP "broker" on 127.0.0.1 (ephemeral port) that behaves like a broker until the first client
/// frame after CONNECT — the *trigger* — and then commits its `Fault`.
///
/// Without a fault (`.none`) it is an echo broker: CONNECTED (sending no heart-beats, wanting the client's at
/// the rate it offers), a RECEIPT for every `receipt` header, a MESSAGE to every subscriber of a SEND's
/// destination, RECEIPT then close for DISCONNECT.
/// It decodes what the client sends with `FrameDecoder` and encodes its answers with `FrameEncoder`;
/// only the deliberately broken bytes (half frames, garbage, oversized frames) are written raw.
public final class FaultyPeer: @unchecked Sendable {
    /// What goes wrong. Each case says when it happens.
    public enum Fault: Sendable, CustomStringConvertible {
        /// Well behaved (echo broker).
        case none
        /// On the trigger: the first bytes of a MESSAGE, then close.
        case closeMidFrame
        /// On the trigger: the first bytes of a MESSAGE, then nothing more (the connection stays open).
        case stallMidFrame
        /// On the trigger: bytes that are not STOMP (an unknown command).
        case garbage
        /// On the trigger: a MESSAGE whose header line is one byte longer than `StompLimits.default.maxHeaderLineLength`.
        case oversizedHeader
        /// On the trigger: a MESSAGE whose content-length is one byte more than `StompLimits.default.maxBodySize`.
        case oversizedBody
        /// Never sends a RECEIPT (not even for DISCONNECT); otherwise well behaved.
        case noReceipt
        /// Negotiates heart-beats of `every` ms both ways and sends them until the trigger (answered normally);
        /// then never sends another byte.
        case stopHeartBeating(every: Int)
        /// On the trigger: ERROR (message `FaultyPeer.errorMessage`), then close.
        case errorThenClose
        /// Accepts the TCP connection and reads CONNECT, but never answers it.
        case neverConnected
        /// Answers CONNECT with ERROR (message `FaultyPeer.refusedMessage`), then closes: a refused login.
        case refuseLogin
        /// Reads CONNECT's `host` as the specification says (the host name the client connected to): any other
        /// value gets ERROR `FaultyPeer.unknownHostMessage`, then close. Otherwise well behaved.
        case literalHost(String)
        /// On the trigger (answered normally): `messages` MESSAGE frames of `size` body bytes each, to the
        /// trigger's subscription id (a SUBSCRIBE's), written as fast as the client reads them (while the socket
        /// is writable, so the peer itself buffers little). A flooding broker.
        case flood(messages: Int, size: Int)
        /// On the trigger (answered normally): a second CONNECTED, which no STOMP session expects.
        case secondConnected
        /// Well behaved, but every frame it sends leaves this much later.
        case delayEveryFrame(TimeAmount)
        /// On the trigger: a MESSAGE to subscription "0" with body "trickled", sent in `pieces` parts `apart` from
        /// each other (slow but progressing, not stalled), then the RECEIPT.
        case trickleFrame(pieces: Int, apart: TimeAmount)
        /// Well behaved, but its first `count` RECEIPTs leave `by` later (other frames are not delayed): a broker
        /// slow to confirm a few requests, then prompt again.
        case delayReceipts(count: Int, by: TimeAmount)
        /// Answers CONNECT (no heart-beats either way), then never reads another byte: the connection stays
        /// open and the client's writes fill the socket buffers. A stuck broker, or one whose flow control
        /// holds the producer.
        case stopReading
        /// Answers CONNECT (no heart-beats), then reads one socket read's worth every `every` (with `bytes`, at
        /// most that many a read), answering nothing: slow, but taking bytes all the time.
        case readSlowly(every: TimeAmount, bytes: Int? = nil)
        /// Well behaved until DISCONNECT, which it answers by closing the connection without the RECEIPT asked
        /// for: a broker that went down with the client's last frames unconfirmed (RabbitMQ's Web-STOMP does when
        /// its heart-beat receiver crashes under flow control).
        case closeOnDisconnect
        /// Well behaved, but after answering CONNECT it reads nothing more until `releaseReads()`: the client's
        /// writes fill the socket buffers for certain (a peer reading all along may drain them as fast as they fill).
        case holdReads

        public var description: String {
            switch self {
            case .none: return "none"
            case .closeMidFrame: return "closeMidFrame"
            case .stallMidFrame: return "stallMidFrame"
            case .garbage: return "garbage"
            case .oversizedHeader: return "oversizedHeader"
            case .oversizedBody: return "oversizedBody"
            case .noReceipt: return "noReceipt"
            case .stopHeartBeating(let every): return "stopHeartBeating(\(every) ms)"
            case .errorThenClose: return "errorThenClose"
            case .neverConnected: return "neverConnected"
            case .refuseLogin: return "refuseLogin"
            case .literalHost(let h): return "literalHost(\(h))"
            case .flood(let n, let size): return "flood(\(n) × \(size) B)"
            case .secondConnected: return "secondConnected"
            case .delayEveryFrame(let d): return "delayEveryFrame(\(d.nanoseconds / 1_000_000) ms)"
            case .trickleFrame(let n, let d): return "trickleFrame(\(n) × \(d.nanoseconds / 1_000_000) ms)"
            case .delayReceipts(let n, let d): return "delayReceipts(\(n) × \(d.nanoseconds / 1_000_000) ms)"
            case .stopReading: return "stopReading"
            case .readSlowly(let d, let n): return "readSlowly(every \(d.nanoseconds / 1_000_000) ms\(n.map { ", \($0) bytes" } ?? ""))"
            case .closeOnDisconnect: return "closeOnDisconnect"
            case .holdReads: return "holdReads"
            }
        }
    }

    /// The `message` header of the ERROR sent by `.errorThenClose`.
    public static let errorMessage = "queue /queue/fault is on fire"
    /// The `message` header of the ERROR sent by `.refuseLogin`.
    public static let refusedMessage = "Access refused for user 'guest'"
    /// The `message` header of the ERROR sent by `.literalHost` for another host (Apache Artemis's words).
    public static let unknownHostMessage = "Virtual hosting is not supported or host is unknown"
    /// The garbage `.garbage` sends (an unknown command line).
    public static let garbage = "HELLO THERE"
    /// The `server` header of CONNECTED.
    public static let server = "FaultyPeer/1"

    public let fault: Fault
    private let channel: Channel
    private let log: Log

    /// Starts listening on 127.0.0.1 with an ephemeral port on `group`; with `tls`, it speaks STOMP over TLS
    /// (a broker with its own certificate, e.g. a self-signed one).
    public init(_ fault: Fault, group: EventLoopGroup, tls: NIOSSLContext? = nil) throws {
        self.fault = fault
        let log = Log()
        self.log = log
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if case .readSlowly(_, let bytes?) = fault {
                        try ch.syncOptions?.setOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: bytes))
                        try ch.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
                    }
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ch.pipeline.syncOperations.addHandler(FaultyPeerHandler(fault: fault, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    deinit { try? channel.close().wait() }

    public var port: Int { channel.localAddress!.port! }
    /// `stomp://127.0.0.1:PORT`.
    public var url: String { "stomp://127.0.0.1:\(port)" }

    /// Stops listening (connections already accepted stay as they are).
    public func stop() { try? channel.close().wait() }

    /// Every byte received from clients, all connections, in order of arrival.
    public var receivedBytes: [UInt8] { log.bytes }
    /// Every frame decoded from clients.
    public var receivedFrames: [StompFrame] { log.frames }
    /// Whether the fault has been committed (the trigger arrived).
    public var triggered: Bool { log.triggered }

    /// With `.holdReads`: every connection held so far reads again (and answers what it reads).
    public func releaseReads() {
        for channel in log.releaseHeld() {
            channel.eventLoop.execute {
                _ = channel.setOption(ChannelOptions.autoRead, value: true)
                channel.read()
            }
        }
    }

    final class Log: @unchecked Sendable {
        private let lock = NIOLock()
        private var _bytes: [UInt8] = []
        private var _frames: [StompFrame] = []
        private var _triggered = false
        private var _held: [Channel] = []
        func append(_ b: [UInt8]) { lock.withLock { _bytes += b } }
        func hold(_ channel: Channel) { lock.withLock { _held.append(channel) } }
        func releaseHeld() -> [Channel] { lock.withLock { defer { _held = [] }; return _held } }
        func append(_ f: StompFrame) { lock.withLock { _frames.append(f) } }
        func trigger() { lock.withLock { _triggered = true } }
        var bytes: [UInt8] { lock.withLock { _bytes } }
        var frames: [StompFrame] { lock.withLock { _frames } }
        var triggered: Bool { lock.withLock { _triggered } }
    }
}

/// One accepted connection: decodes the client's frames and answers them, committing the fault on the trigger.
final class FaultyPeerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let fault: FaultyPeer.Fault
    private let log: FaultyPeer.Log
    private var decoder = FrameDecoder(version: .v1_0)
    private var encoder = FrameEncoder(version: .v1_2)
    private var connected = false
    private var triggered = false
    /// Nothing more is written once the fault ended the conversation.
    private var mute = false
    private var subscriptions: [String: [String]] = [:]   // destination → subscription ids
    private var messageCounter = 0
    private var heartBeatTask: RepeatedTask?
    private var floodLeft = 0
    private var floodFrame: [UInt8] = []
    private var receiptsDelayed = 0

    init(fault: FaultyPeer.Fault, log: FaultyPeer.Log) {
        self.fault = fault
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        log.append(bytes)
        decoder.append(bytes)
        while true {
            let event: FrameDecoderEvent?
            do { event = try decoder.next() } catch {
                context.close(promise: nil)
                return
            }
            guard let event else { return }
            if case .frame(let f) = event {
                log.append(f)
                handle(f, context: context)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        keepFlooding(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func keepFlooding(context: ChannelHandlerContext) {
        while floodLeft > 0 && context.channel.isWritable {
            floodLeft -= 1
            var out = context.channel.allocator.buffer(capacity: floodFrame.count)
            out.writeBytes(floodFrame)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        floodLeft = 0
        heartBeatTask?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func handle(_ frame: StompFrame, context: ChannelHandlerContext) {
        guard connected else {
            guard frame.command == .connect || frame.command == .stomp else { return }
            answerConnect(frame, context: context)
            return
        }
        if !triggered {
            triggered = true
            log.trigger()
            if commitFault(trigger: frame, context: context) { return }
            answer(frame, context: context)
            if case .stopHeartBeating = fault { mute = true }
            return
        }
        answer(frame, context: context)
    }

    private func answerConnect(_ frame: StompFrame, context: ChannelHandlerContext) {
        if case .neverConnected = fault {
            mute = true
            return
        }
        if case .refuseLogin = fault {
            send(StompFrame(.error, headers: ["message": FaultyPeer.refusedMessage], body: "bad credentials"), context: context)
            mute = true
            closeSoon(context)
            return
        }
        if case .literalHost(let host) = fault, frame.headers["host"] != host {
            send(StompFrame(.error, headers: ["message": FaultyPeer.unknownHostMessage]), context: context)
            closeSoon(context)
            return
        }
        connected = true
        decoder.version = .v1_2
        var headers: StompHeaders = ["version": "1.2", "server": FaultyPeer.server, "session": "faulty-1"]
        let offered = HeartBeat(header: frame.headers["heart-beat"] ?? "0,0") ?? HeartBeat.none
        if case .stopHeartBeating(let every) = fault {
            headers["heart-beat"] = "\(every),\(every)"
            if offered.wantsReceive > 0 {
                let interval = TimeAmount.milliseconds(Int64(max(every, offered.wantsReceive)))
                heartBeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
                    guard let self, !self.triggered else { return }
                    self.writeRaw(FrameEncoder.heartbeat, context: context)
                }
            }
        } else {
            // Sends none; wants the client's at the rate it offers (so a client offering them sends them).
            headers["heart-beat"] = "0,\(offered.canSend)"
        }
        send(StompFrame(.connected, headers: headers), context: context)
        switch fault {
        case .stopReading:
            mute = true
            log.trigger()
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
        case .holdReads:
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            log.hold(context.channel)
        case .readSlowly(let every, _):
            mute = true
            log.trigger()
            _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
            heartBeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
                context.read()
            }
        default:
            break
        }
    }

    /// Commits the fault on the trigger; true if the trigger frame must not be answered.
    private func commitFault(trigger: StompFrame, context: ChannelHandlerContext) -> Bool {
        let messageStart = "MESSAGE\ndestination:/queue/fault\nsubscription:0\nmessage-id:fault-1\n\nhal"
        switch fault {
        case .none, .noReceipt, .delayEveryFrame, .neverConnected, .refuseLogin, .literalHost, .delayReceipts,
             .stopReading, .readSlowly, .closeOnDisconnect, .holdReads:
            return false
        case .secondConnected:
            answer(trigger, context: context)
            send(StompFrame(.connected, headers: ["version": "1.2", "server": FaultyPeer.server]), context: context)
            return true
        case .flood(let n, let size):
            answer(trigger, context: context)
            floodLeft = n
            var headers: StompHeaders = ["destination": trigger.headers["destination"] ?? "/queue/flood",
                                         "subscription": trigger.headers["id"] ?? "0", "message-id": "flood"]
            headers["content-length"] = String(size)
            floodFrame = (try? encoder.encode(StompFrame(.message, headers: headers,
                                                          body: [UInt8](repeating: UInt8(ascii: "f"), count: size)))) ?? []
            keepFlooding(context: context)
            return true
        case .stopHeartBeating:
            heartBeatTask?.cancel()
            return false
        case .closeMidFrame:
            writeRaw(Array(messageStart.utf8), context: context)
            closeSoon(context)
        case .stallMidFrame:
            writeRaw(Array(messageStart.utf8), context: context)
        case .garbage:
            writeRaw(Array((FaultyPeer.garbage + "\n\n\0").utf8), context: context)
        case .oversizedHeader:
            let value = String(repeating: "x", count: StompLimits.default.maxHeaderLineLength)
            writeRaw(Array("MESSAGE\ndestination:/queue/fault\nx-big:\(value)\n\nbody\0".utf8), context: context)
        case .oversizedBody:
            let size = StompLimits.default.maxBodySize + 1
            writeRaw(Array("MESSAGE\ndestination:/queue/fault\ncontent-length:\(size)\n\nthe start of a huge body".utf8),
                     context: context)
        case .trickleFrame(let pieces, let apart):
            let message = StompFrame(.message, headers: ["destination": "/queue/fault", "subscription": "0",
                                                         "message-id": "trickled-1"], body: "trickled")
            guard let bytes = try? encoder.encode(message) else { return false }
            let size = (bytes.count + pieces - 1) / max(pieces, 1)
            for (i, start) in stride(from: 0, to: bytes.count, by: size).enumerated() {
                let piece = Array(bytes[start..<min(start + size, bytes.count)])
                context.eventLoop.scheduleTask(in: apart * Int64(i)) { self.writeRaw(piece, context: context) }
            }
            context.eventLoop.scheduleTask(in: apart * Int64(pieces)) { self.answer(trigger, context: context) }
            return true
        case .errorThenClose:
            send(StompFrame(.error, headers: ["message": FaultyPeer.errorMessage, "content-type": "text/plain"],
                            body: "the broker gave up\nsecond line"), context: context)
            closeSoon(context)
        }
        mute = true
        return true
    }

    /// What a well-behaved broker does with a frame.
    private func answer(_ frame: StompFrame, context: ChannelHandlerContext) {
        let h = frame.headers
        if case .closeOnDisconnect = fault, frame.command == .disconnect {
            mute = true
            context.close(promise: nil)
            return
        }
        switch frame.command {
        case .subscribe:
            if let d = h["destination"] { subscriptions[d, default: []].append(h["id"] ?? "0") }
        case .unsubscribe:
            for d in subscriptions.keys { subscriptions[d]?.removeAll { $0 == h["id"] } }
        case .send:
            for id in subscriptions[h["destination"] ?? ""] ?? [] {
                messageCounter += 1
                var m = StompHeaders()
                m["destination"] = h["destination"]
                m["subscription"] = id
                m["message-id"] = "m-\(messageCounter)"
                if let ct = h["content-type"] { m["content-type"] = ct }
                send(StompFrame(.message, headers: m, body: frame.body), context: context)
            }
        default:
            break
        }
        if let r = h["receipt"], !isNoReceipt {
            let receipt = StompFrame(.receipt, headers: ["receipt-id": r])
            if case .delayReceipts(let count, let delay) = fault, receiptsDelayed < count {
                receiptsDelayed += 1
                context.eventLoop.scheduleTask(in: delay) { self.send(receipt, context: context) }
            } else {
                send(receipt, context: context)
            }
        }
        if frame.command == .disconnect, !isNoReceipt { closeSoon(context) }
    }

    private var isNoReceipt: Bool {
        if case .noReceipt = fault { return true }
        return false
    }

    private func send(_ frame: StompFrame, context: ChannelHandlerContext) {
        guard let bytes = try? encoder.encode(frame) else { return }
        writeRaw(bytes, context: context)
    }

    private func writeRaw(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard !mute else { return }
        let write = {
            var out = context.channel.allocator.buffer(capacity: bytes.count)
            out.writeBytes(bytes)
            context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
        }
        if case .delayEveryFrame(let d) = fault {
            context.eventLoop.scheduleTask(in: d, write)
        } else {
            write()
        }
    }

    private func closeSoon(_ context: ChannelHandlerContext) {
        // After the delayed writes, if any.
        var after = TimeAmount.milliseconds(50)
        if case .delayEveryFrame(let d) = fault { after = after + d }
        context.eventLoop.scheduleTask(in: after) { context.close(promise: nil) }
    }
}
