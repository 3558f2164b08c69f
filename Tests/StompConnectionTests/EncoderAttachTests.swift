import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import StompConnection
import StompProto
import XCTest

/// `StompFrameEncoderHandler` kept out of the pipeline (the client's way): attached to the context of the
/// pipeline's last handler, its writes go out from there; outbound events pass no STOMP handler; detached (its
/// handler removed), it writes nothing and says so.
final class EncoderAttachTests: XCTestCase {
    /// Collects what the server side reads.
    private final class Sink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = NIOLockedValueBox<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            bytes.withLockedValue { $0 += b.readableBytesView }
        }
    }

    /// The client pipeline's last handler: attaches the encoder to its context, detaches it when removed.
    private final class Last: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = Never
        let encoder: StompFrameEncoderHandler
        init(_ encoder: StompFrameEncoderHandler) { self.encoder = encoder }
        func handlerAdded(context: ChannelHandlerContext) { encoder.attach(context) }
        func handlerRemoved(context: ChannelHandlerContext) { encoder.detach(context) }
    }

    func testAnAttachedEncoderWritesFromItsContextAndADetachedOneWritesNothing() throws {
        let sink = Sink()
        let server = try ServerBootstrap(group: testGroup)
            .childChannelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(sink) } }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let encoder = StompFrameEncoderHandler(version: .v1_2)
        let first = Last(encoder)
        let second = Last(encoder)
        let channel = try ClientBootstrap(group: testGroup)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(first) } }
            .connect(to: server.localAddress!).wait()
        defer { try? channel.close().wait() }
        let frame = StompFrame(.send, headers: ["destination": "/queue/attach", "receipt": "r:1"], body: Array("hi\0there".utf8))
        let expected = try FrameEncoder(version: .v1_2).encode(frame)
        var traced: [[UInt8]] = []
        let results = try channel.eventLoop.submit { () -> [Bool] in
            encoder.trace = { traced.append($0) }
            var r: [Bool] = []
            r.append((try? channel.pipeline.syncOperations.handler(type: StompFrameEncoderHandler.self)) == nil)
            let p = channel.eventLoop.makePromise(of: Void.self)
            r.append(encoder.writeAndFlush(.frame(frame), promise: p))
            // a second last handler attached, then the first removed: the second's context stays attached
            try channel.pipeline.syncOperations.addHandler(second)
            return r
        }.wait()
        XCTAssertEqual(results, [true, true], "not in the pipeline; written")
        try channel.pipeline.removeHandler(first).wait()
        XCTAssertTrue(try channel.eventLoop.submit { encoder.writeAndFlush(.heartbeat, promise: nil) }.wait())
        try channel.pipeline.removeHandler(second).wait()
        let failed = try channel.eventLoop.submit { () -> Bool in
            let p = channel.eventLoop.makePromise(of: Void.self)
            let written = encoder.writeAndFlush(.frame(frame), promise: p)
            if !written { p.succeed(()) }   // untouched by the encoder: the caller's to complete
            return written
        }.wait()
        XCTAssertFalse(failed, "detached: nothing written")
        let deadline = Date().addingTimeInterval(10)
        while sink.bytes.withLockedValue({ $0.count }) < expected.count + 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(sink.bytes.withLockedValue { $0 }, expected + [0x0A], "the frame, then the heart-beat; nothing after the detach")
        XCTAssertEqual(try channel.eventLoop.submit { traced }.wait(), [expected, [0x0A]])
        XCTAssertEqual(try channel.eventLoop.submit { encoder.framesSent }.wait(), 1)
    }
}
