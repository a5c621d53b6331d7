"""Both ends of the end-to-end propagation test, with the OpenTelemetry Python SDK.

serve        An HTTP endpoint on 127.0.0.1 (ephemeral port, printed on the first
             line of stdout) until stdin closes. Each GET answers JSON: the
             propagation headers as received, and what the Python SDK's W3C
             propagators extract from them.
client URL SAMPLED TRACESTATE BAGGAGE_EXTRA
             Starts a root span with the Python SDK (sampler always_on when
             SAMPLED is 1, else always_off: the SDK sets the random flag, so
             flags 03 or 02), injects it and the baggage `user=alice`,
             `sum=1+1` with the SDK's propagators, then sends TRACESTATE as the
             tracestate header (the Python TraceState rejects several Level 2
             keys, so it is written raw) and appends BAGGAGE_EXTRA to the
             baggage header as written. Prints JSON: the ids it sent, the
             headers and the endpoint's answer (through the service at URL).
"""

import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import baggage, context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

NAMES = ("traceparent", "tracestate", "baggage")


class Endpoint(BaseHTTPRequestHandler):
    def do_GET(self):
        carrier = {name: ",".join(self.headers.get_all(name) or []) for name in NAMES}
        carrier = {k: v for k, v in carrier.items() if v}
        cx = TraceContextTextMapPropagator().extract(carrier)
        cx = W3CBaggagePropagator().extract(carrier, context=cx)
        sc = trace.get_current_span(cx).get_span_context()
        body = json.dumps(
            {
                "headers": {name: self.headers.get_all(name) or [] for name in NAMES},
                "valid": sc.is_valid,
                "remote": sc.is_remote,
                "trace_id": format(sc.trace_id, "032x"),
                "parent_id": format(sc.span_id, "016x"),
                "flags": int(sc.trace_flags),
                "baggage": dict(baggage.get_all(cx)),
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes stdin (or ends)
    server.shutdown()


def client(url, sampled, tracestate, baggage_extra):
    provider = TracerProvider(sampler=ALWAYS_ON if sampled == "1" else ALWAYS_OFF)
    tracer = provider.get_tracer("python-client")
    cx = baggage.set_baggage("user", "alice")
    cx = baggage.set_baggage("sum", "1+1", context=cx)
    context.attach(cx)
    with tracer.start_as_current_span("call", kind=trace.SpanKind.CLIENT) as span:
        headers = {}
        TraceContextTextMapPropagator().inject(headers)
        W3CBaggagePropagator().inject(headers)
        headers["tracestate"] = tracestate
        if baggage_extra:
            headers["baggage"] = headers["baggage"] + "," + baggage_extra
        sc = span.get_span_context()
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    print(
        json.dumps(
            {
                "trace_id": format(sc.trace_id, "032x"),
                "span_id": format(sc.span_id, "016x"),
                "flags": int(sc.trace_flags),
                "sent": headers,
                "answer": answer,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        client(*sys.argv[2:6])
