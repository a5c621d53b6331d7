#!/usr/bin/env python3
"""Runs the OpenTelemetry Python propagators, for interop tests of otel-http.

Usage:
    python_propagators.py inject FORMAT   < context JSON   > headers JSON
    python_propagators.py extract FORMAT  < headers JSON   > context JSON

FORMAT is one of: tracecontext, baggage, b3, b3multi, jaeger.

A context is {"trace_id": hex, "span_id": hex, "sampled": bool,
"tracestate": str (optional), "baggage": {key: value} (optional)}.
Headers are {name: value} where a value may also be a list of values.
Extract prints {"trace_id", "span_id", "trace_flags", "tracestate",
"baggage", "valid"}.

If stdin holds a JSON list, each element is processed and a list is printed
(one Python start-up for many cases).

Needs: pip install opentelemetry-api opentelemetry-sdk
opentelemetry-propagator-b3 opentelemetry-propagator-jaeger
"""

import json
import sys

from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.jaeger import JaegerPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATORS = {
    "tracecontext": TraceContextTextMapPropagator,
    "baggage": W3CBaggagePropagator,
    "b3": B3SingleFormat,
    "b3multi": B3MultiFormat,
    "jaeger": JaegerPropagator,
}


def inject(propagator, description):
    """Headers the propagator injects for a context description."""
    context = Context()
    span_context = trace.SpanContext(
        trace_id=int(description["trace_id"], 16),
        span_id=int(description["span_id"], 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(
            trace.TraceFlags.SAMPLED if description["sampled"] else trace.TraceFlags.DEFAULT
        ),
        trace_state=trace.TraceState.from_header([description.get("tracestate") or ""]),
    )
    context = trace.set_span_in_context(trace.NonRecordingSpan(span_context), context)
    for key, value in (description.get("baggage") or {}).items():
        context = baggage.set_baggage(key, value, context=context)
    headers = {}
    propagator.inject(headers, context=context)
    return headers


def extract(propagator, headers):
    """The context the propagator extracts from headers."""
    carrier = {name.lower(): value for name, value in headers.items()}
    context = propagator.extract(carrier, context=Context())
    span_context = trace.get_current_span(context).get_span_context()
    return {
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
        "trace_flags": int(span_context.trace_flags),
        "tracestate": span_context.trace_state.to_header(),
        "baggage": {k: str(v) for k, v in baggage.get_all(context).items()},
        "valid": span_context.is_valid,
    }


def main(argv):
    if len(argv) != 3 or argv[1] not in ("inject", "extract") or argv[2] not in PROPAGATORS:
        sys.stderr.write(__doc__)
        return 2
    operation = inject if argv[1] == "inject" else extract
    propagator = PROPAGATORS[argv[2]]()
    request = json.load(sys.stdin)
    if isinstance(request, list):
        response = [operation(propagator, item) for item in request]
    else:
        response = operation(propagator, request)
    json.dump(response, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
