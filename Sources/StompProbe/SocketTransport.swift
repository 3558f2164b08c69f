// The production transport: a SwiftNIO TCP (or TLS) channel whose inbound bytes are queued, time-stamped, for a
// blocking reader with deadlines. No STOMP logic here: the probe sees exactly what the broker sent, and when.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import StompConnection

/// TCP or TLS connections to the broker of `url`.
public struct SocketTransport: ProbeTransport {
    public let url: StompURL
    public let tls: TLSOptions
    let group: EventLoopGroup

    public init(url: StompURL, tls: TLSOptions = TLSOptions(), group: EventLoopGroup) {
        self.url = url; self.tls = tls; self.group = group
    }

    public func open(timeout: Double) throws -> ProbeLink {
        let link = SocketLink()
        var sslContext: NIOSSLContext?
        if url.tls {
            do { sslContext = try NIOSSLContext(configuration: tls.makeTLSConfiguration()) } catch {
                throw ProbeConnectError("TLS setup: \(error)")
            }
        }
        let sni = tls.sniName(for: url.host)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(max(timeout, 0.1) * 1000)))
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let ctx = sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ctx, serverHostname: sni))
                    }
                    try channel.pipeline.syncOperations.addHandler(SocketLinkHandler(link: link))
                }
            }
        do {
            link.channel = try bootstrap.connect(host: url.host, port: url.port).wait()
        } catch let e as NIOConnectionError {
            let reasons = e.connectionErrors.map { f -> String in
                (f.error as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() } ?? "\(f.error)"
            } + (e.dnsAError.map { ["\($0)"] } ?? [])
            throw ProbeConnectError("cannot connect to \(url.hostAndPort): \(reasons.isEmpty ? "\(e)" : reasons.joined(separator: "; "))")
        } catch {
            throw ProbeConnectError("cannot connect to \(url.hostAndPort): \(error)")
        }
        return link
    }
}

/// A channel's inbound bytes, queued for `read(deadline:)`.
final class SocketLink: ProbeLink, @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [([UInt8], UInt64)] = []
    private var closedReason: String?
    var channel: Channel?

    func deliver(_ bytes: [UInt8]) {
        let at = ProbeClock.now()
        condition.lock(); chunks.append((bytes, at)); condition.broadcast(); condition.unlock()
    }

    func ended(_ reason: String) {
        condition.lock()
        if closedReason == nil { closedReason = reason }
        condition.broadcast(); condition.unlock()
    }

    func write(_ bytes: [UInt8]) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
    }

    func read(deadline: UInt64) -> LinkRead {
        condition.lock(); defer { condition.unlock() }
        while true {
            if !chunks.isEmpty {
                let (b, at) = chunks.removeFirst()
                return .bytes(b, at: at)
            }
            if let closedReason { return .closed(reason: closedReason) }
            let now = ProbeClock.now()
            if now >= deadline { return .timeout }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
    }

    func close() {
        channel?.close(promise: nil)
        ended("closed by the probe")
    }
}

/// Hands the channel's bytes and its end to a `SocketLink`.
final class SocketLinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let link: SocketLink
    init(link: SocketLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty { link.deliver(bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.ended("the broker closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        link.ended("connection failed: \(error)")
        context.close(promise: nil)
    }
}
