"""A Python gRPC peer for otel-tonic's interop test: grpcio with the
OpenTelemetry Python gRPC instrumentation, speaking test-proto/proto/echo.proto.

    grpc_peer.py serve          serves otel.test.Echo/Unary on 127.0.0.1 (port on
                                the first stdout line), until stdin closes
    grpc_peer.py call ADDR      calls ADDR's otel.test.Echo/Unary once

Either way, every span the Python SDK ends is printed to stdout as one JSON
line ({"span": ...}) when it ends; `call` also prints the reply ({"reply": ...}).
The W3C propagators (tracecontext, baggage) are the SDK's defaults.
"""

import json
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test-proto", "proto")


class StdoutJson(SpanExporter):
    def export(self, spans):
        for s in spans:
            parent = s.parent.span_id if s.parent is not None else None
            print(json.dumps({"span": {
                "name": s.name,
                "kind": s.kind.name,
                "trace_id": format(s.context.trace_id, "032x"),
                "span_id": format(s.context.span_id, "016x"),
                "parent_span_id": format(parent, "016x") if parent else None,
                "attributes": {k: str(v) for k, v in (s.attributes or {}).items()},
            }}), flush=True)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


def compile_proto():
    out = tempfile.mkdtemp(prefix="otel_tonic_proto_")
    code = protoc.main(["protoc", "-I" + PROTO_DIR, "--python_out=" + out,
                        "--grpc_python_out=" + out, os.path.join(PROTO_DIR, "echo.proto")])
    if code != 0:
        raise SystemExit("protoc failed: %d" % code)
    sys.path.insert(0, out)
    try:
        import echo_pb2, echo_pb2_grpc  # noqa: E401
    finally:
        sys.path.remove(out)
        shutil.rmtree(out, ignore_errors=True)
    return echo_pb2, echo_pb2_grpc


def main():
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StdoutJson()))
    trace.set_tracer_provider(provider)
    mode = sys.argv[1]
    pb, pb_grpc = compile_proto()

    import grpc
    from concurrent import futures
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient, GrpcInstrumentorServer

    if mode == "serve":
        GrpcInstrumentorServer().instrument()

        class Echo(pb_grpc.EchoServicer):
            def Unary(self, request, context):
                sc = trace.get_current_span().get_span_context()
                trace_id = format(sc.trace_id, "032x") if sc.is_valid else ""
                return pb.EchoReply(message=request.message, trace_id=trace_id)

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        pb_grpc.add_EchoServicer_to_server(Echo(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        print(port, flush=True)
        sys.stdin.read()  # until the test closes stdin
        server.stop(0)
    elif mode == "call":
        GrpcInstrumentorClient().instrument()
        with grpc.insecure_channel(sys.argv[2]) as channel:
            stub = pb_grpc.EchoStub(channel)
            reply = stub.Unary(pb.EchoRequest(message="from python"), timeout=10)
        print(json.dumps({"reply": {"message": reply.message, "trace_id": reply.trace_id}}), flush=True)
    else:
        raise SystemExit("usage: grpc_peer.py serve | call ADDR")
    provider.shutdown()


if __name__ == "__main__":
    main()
